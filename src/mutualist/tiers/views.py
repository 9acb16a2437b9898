"""Tier governance pages: the program and the latest eligibility (staff), the proposals queue
with approve/reject, and a partner's tier page that the partner's own people see too."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import F, Max, QuerySet
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone

from mutualist.accounts.access import acting_user
from mutualist.lib.errors import Conflict, NotAllowed, ValidationFailed
from mutualist.lib.listing import Column, render_filtered_list
from mutualist.partners.choices import Tier
from mutualist.tiers import access, actions
from mutualist.tiers.choices import ProposalStatus
from mutualist.tiers.models import Evaluation, Program, Proposal

TIERS = tuple(t for t in Tier.values if t)
STATUSES = tuple(ProposalStatus.values)


def _rules_text(evaluation: Evaluation) -> str:
    return "; ".join(
        f"{d['tier']}:{d['metric']}={'' if d['value'] is None else round(d['value'], 4)}"
        f"{'✓' if d['passed'] else '✗'}"
        for d in evaluation.details
    )


EVALUATION_COLUMNS = [
    Column("partner_id", lambda e: e.partner_id),
    Column("partner", lambda e: e.partner.name),
    Column("as_of", lambda e: e.as_of.isoformat()),
    Column("current_tier", lambda e: e.current_tier),
    Column("eligible_tier", lambda e: e.eligible_tier),
    Column("rules", _rules_text),
]
PROPOSAL_COLUMNS = [
    Column("id", lambda p: p.pk),
    Column("partner", lambda p: p.partner.name),
    Column("from_tier", lambda p: p.from_tier),
    Column("to_tier", lambda p: p.to_tier),
    Column("status", lambda p: p.status),
    Column("proposed_at", lambda p: p.proposed_at.isoformat()),
    Column("effective_on", lambda p: p.effective_on.isoformat()),
    Column("grace_until", lambda p: p.grace_until.isoformat() if p.grace_until else ""),
    Column("decided_by", lambda p: p.decided_by.get_username() if p.decided_by else ""),
    Column("reason", lambda p: p.reason),
]


def _choice(params: dict[str, str], name: str, allowed: tuple[str, ...]) -> str:
    value = params.get(name, "")
    if value and value not in allowed:
        raise ValidationFailed({name: f"unknown value; use one of: {', '.join(allowed)}"})
    return value


def _program(user: Any, raw: str) -> Program | None:
    programs = access.programs_visible_to(user)
    if raw:
        if not raw.isdigit() or not programs.filter(pk=raw).exists():
            raise ValidationFailed({"program": f"{raw!r} is not a program id; pick one listed"})
        return programs.get(pk=raw)
    return programs.filter(active=True).order_by("pk").first() or programs.order_by("pk").first()


def latest_evaluations(user: Any, program: Program | None) -> QuerySet[Evaluation]:
    """The evaluations of the program's most recent run (one row per partner)."""
    rows = access.evaluations_visible_to(user).filter(program=program)
    newest = rows.aggregate(m=Max("computed_at"))["m"]
    return rows.filter(computed_at=newest).select_related("partner")


def _filtered_evaluations(user: Any, params: dict[str, str]) -> QuerySet[Evaluation]:
    program = _program(user, params["program"])
    eligible = _choice(params, "eligible", (*TIERS, "none"))
    rows = latest_evaluations(user, program)
    if eligible:
        rows = rows.filter(eligible_tier="" if eligible == "none" else eligible)
    if params["change"]:
        rows = rows.exclude(eligible_tier=F("current_tier"))
    if params["q"]:
        rows = rows.filter(partner__name__icontains=params["q"])
    return rows.order_by("partner__name", "pk")


def _redirect_partner_people(request: HttpRequest) -> HttpResponse | None:
    user: Any = request.user
    if user.is_partner_user:
        return redirect("tier-partner", user.partner_id)
    return None


@login_required
def tier_index(request: HttpRequest) -> HttpResponseBase:
    """The program (levels, rules, benefits), the latest eligibility and the open proposals.
    A partner's people go to their own partner's tier page."""
    if (elsewhere := _redirect_partner_people(request)) is not None:
        return elsewhere
    user: Any = request.user
    programs = access.programs_visible_to(user).prefetch_related(
        "levels__rules", "levels__benefits"
    )
    try:
        program = _program(user, request.GET.get("program", "").strip())
    except ValidationFailed:
        program = None
    queue = (
        access.proposals_visible_to(user)
        .filter(status=ProposalStatus.PROPOSED)
        .select_related("partner")
        .order_by("effective_on", "pk")
    )
    ctx: dict[str, Any] = {
        "programs": programs,
        "program": program,
        "levels": program.levels.prefetch_related("rules", "benefits") if program else [],
        "queue": queue[:50],
        "queue_count": queue.count(),
        "tiers": TIERS,
        "today": timezone.now().date(),
    }
    return render_filtered_list(
        request,
        ("program", "eligible", "change", "q", "sort"),
        "partner",
        lambda p: _filtered_evaluations(user, p),
        EVALUATION_COLUMNS,
        "tiers/index.html",
        ctx,
        "tier-eligibility",
    )


def _filtered_proposals(user: Any, params: dict[str, str]) -> QuerySet[Proposal]:
    status = _choice(params, "status", STATUSES)
    rows = access.proposals_visible_to(user).select_related("partner", "decided_by")
    if status:
        rows = rows.filter(status=status)
    if params["q"]:
        rows = rows.filter(partner__name__icontains=params["q"])
    order = {"effective": ("effective_on", "pk")}.get(params["sort"], ("-proposed_at", "-pk"))
    return rows.order_by(*order)


@login_required
def proposal_list(request: HttpRequest) -> HttpResponseBase:
    if (elsewhere := _redirect_partner_people(request)) is not None:
        return elsewhere
    return render_filtered_list(
        request,
        ("status", "q", "sort"),
        "newest",
        lambda p: _filtered_proposals(request.user, p),
        PROPOSAL_COLUMNS,
        "tiers/proposal_list.html",
        {"statuses": STATUSES},
        "tier-proposals",
    )


def _details(
    request: HttpRequest,
    proposal: Proposal,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    ctx = {
        "p": proposal,
        "can_decide": access.can_decide(request.user, proposal.partner),
        "details": proposal.evaluation.details if proposal.evaluation else [],
        "errors": errors or {},
    }
    return render(request, "tiers/proposal.html", ctx, status=status)


@login_required
def proposal_details(request: HttpRequest, proposal_id: int) -> HttpResponse:
    """GET shows the proposal; POST with `action` approve|reject decides it."""
    proposal = access.get_proposal_for(request.user, proposal_id)
    if request.method != "POST":
        return _details(request, proposal)
    action, note = request.POST.get("action", ""), request.POST.get("note", "")
    try:
        if action == "approve":
            actions.approve(acting_user(request), proposal, note)
        elif action == "reject":
            actions.reject(acting_user(request), proposal, note)
        else:
            raise ValidationFailed({"action": "unknown action; use approve or reject"})
    except ValidationFailed as exc:
        return _details(request, proposal, exc.errors, 400)
    except NotAllowed as exc:
        return _details(request, proposal, {"decision": str(exc)}, 403)
    except Conflict as exc:
        proposal.refresh_from_db()
        return _details(request, proposal, {"decision": str(exc)}, 409)
    return redirect("tier-proposal", proposal.pk)


@login_required
def partner_tier(request: HttpRequest, partner_id: int) -> HttpResponse:
    """A partner's tier today, its benefits, its latest evaluation per program and its history;
    for vendor staff and the partner's own people (anyone else: 404)."""
    partner = access.get_partner_tier_for(request.user, partner_id)
    today = timezone.now().date()
    evaluations = []
    for program in access.programs_visible_to(request.user).filter(active=True):
        latest = (
            access.evaluations_visible_to(request.user)
            .filter(partner=partner, program=program)
            .first()
        )
        if latest is not None:
            evaluations.append(latest)
    pending = access.proposals_visible_to(request.user).filter(
        partner=partner, status__in=(ProposalStatus.PROPOSED, ProposalStatus.APPROVED)
    )
    ctx = {
        "partner": partner,
        "tier": actions.tier_on(partner, today),
        "benefits": actions.benefits_on(partner, today),
        "evaluations": evaluations,
        "history": partner.tier_changes.order_by("-effective_from", "-id")[:50],
        "pending": pending,
        "today": today,
    }
    return render(request, "tiers/partner.html", ctx)
