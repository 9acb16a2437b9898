"""Tier governance pages: the program and the latest eligibility (staff), the proposals queue
with approve/reject, and a partner's tier page that the partner's own people see too. The tiers
page also carries the CPO's forms (program, level, rules, benefit, recorded fact), which post
back to it and call the actions."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import F, Max, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from mutualist.accounts.access import acting_user
from mutualist.lib.errors import Conflict, NotAllowed, ValidationFailed
from mutualist.lib.listing import Column, render_filtered_list
from mutualist.partners.access import partners_visible_to
from mutualist.partners.choices import Tier
from mutualist.tiers import access, actions
from mutualist.tiers.choices import BenefitKind, Operator, ProposalStatus
from mutualist.tiers.metrics import FACT_KEYS, METRICS
from mutualist.tiers.models import Evaluation, Level, Program, Proposal

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
    A partner's people go to their own partner's tier page. POST submits one of the CPO's
    forms (`form`: program, level, rules, benefit or fact)."""
    if request.method == "POST":
        return _edit(request)
    if (elsewhere := _redirect_partner_people(request)) is not None:
        return elsewhere
    return _index(request)


def _index(
    request: HttpRequest, edit: dict[str, Any] | None = None, status: int = 200
) -> HttpResponseBase:
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
        **_editing_context(user, edit),
    }
    response = render_filtered_list(
        request,
        ("program", "eligible", "change", "q", "sort"),
        "partner",
        lambda p: _filtered_evaluations(user, p),
        EVALUATION_COLUMNS,
        "tiers/index.html",
        ctx,
        "tier-eligibility",
    )
    if status != 200:
        response.status_code = status
    return response


# The CPO's forms on the tiers page. Each posts `form` and its fields; errors come back on the
# page next to the field (400), success redirects to the page showing the program.

FORMS = ("program", "level", "rules", "benefit", "fact")
RULE_ROWS = 3


def _editing_context(user: Any, edit: dict[str, Any] | None) -> dict[str, Any]:
    edit = edit or {}
    form, values = edit.get("form", ""), edit.get("values") or QueryDict()
    errors: dict[str, str] = edit.get("errors", {})
    can_manage = access.can_manage_programs(user)
    rows = []
    for i in range(RULE_ROWS):
        posted = form == "rules"
        rows.append(
            {
                "metric": values.get(f"metric_{i}", "") if posted else "",
                "operator": values.get(f"operator_{i}", "") if posted else "",
                "threshold": values.get(f"threshold_{i}", "") if posted else "",
                "errors": [m for f, m in errors.items() if f.startswith(f"rules[{i}].")],
            }
        )
    return {
        "can_manage": can_manage,
        "edit_form": form,
        "edit_errors": errors,
        "edit_values": values,
        "rule_rows": rows,
        "metrics": [(key, m.label) for key, m in METRICS.items()],
        "operators": Operator.choices,
        "benefit_kinds": BenefitKind.choices,
        "fact_keys": FACT_KEYS,
        "all_levels": (
            Level.objects.select_related("program").order_by("program__name", "rank")
            if can_manage
            else []
        ),
        "all_partners": (
            partners_visible_to(user).only("pk", "name").order_by("name") if can_manage else []
        ),
    }


def _pick_id(data: QueryDict, field: str, rows: QuerySet[Any]) -> Any:
    raw = data.get(field, "").strip()
    found = rows.filter(pk=raw).first() if raw.isdigit() else None
    if found is None:
        raise ValidationFailed({field: f"{raw!r} is not one listed; pick one"})
    return found


def _rule_rows(data: QueryDict) -> tuple[list[dict[str, str]], list[int]]:
    """The filled rule rows (metric or threshold given) and, for each, its row on the form."""
    rules, where = [], []
    for i in range(RULE_ROWS):
        metric = data.get(f"metric_{i}", "").strip()
        threshold = data.get(f"threshold_{i}", "").strip()
        if metric or threshold:
            operator = data.get(f"operator_{i}", "") or Operator.AT_LEAST
            rules.append({"metric": metric, "operator": operator, "threshold": threshold})
            where.append(i)
    return rules, where


def _submit(request: HttpRequest, form: str) -> Program | None:
    """Run the form's action; returns the program to show afterwards."""
    user, data = acting_user(request), request.POST
    if form == "fact":
        partner = _pick_id(data, "partner", partners_visible_to(user))
        actions.record_fact(
            user,
            partner,
            data.get("key", ""),
            data.get("value", ""),
            data.get("as_of", ""),
            data.get("note", ""),
        )
        return None
    access.require_can_manage_programs(user)
    if form == "program":
        name, grace = data.get("name", ""), data.get("grace_days", "").strip() or 90
        return actions.create_program(user, {"name": name, "grace_days": grace})
    if form == "level":
        program = _pick_id(data, "program", access.programs_visible_to(user))
        fields = {k: data.get(k, "") for k in ("tier", "rank", "name")}
        return actions.add_level(user, program, fields).program
    level = _pick_id(data, "level", Level.objects.select_related("program"))
    if form == "rules":
        rules, where = _rule_rows(data)
        try:
            actions.replace_rules(user, level, rules)
        except ValidationFailed as exc:  # name the row on the form, not the filled ones
            raise ValidationFailed(
                {_form_row(field, where): msg for field, msg in exc.errors.items()}
            ) from None
        return level.program
    if form == "benefit":
        fields = {k: data.get(k, "") for k in ("kind", "value", "valid_from", "valid_to")}
        actions.add_benefit(user, level, fields)
        return level.program
    raise ValidationFailed({"form": f"unknown form; use one of: {', '.join(FORMS)}"})


def _form_row(field: str, where: list[int]) -> str:
    if field.startswith("rules[") and "]" in field:
        index, rest = field[len("rules[") :].split("]", 1)
        if index.isdigit() and int(index) < len(where):
            return f"rules[{where[int(index)]}]{rest}"
    return field


def _edit(request: HttpRequest) -> HttpResponseBase:
    user: Any = request.user
    if user.is_partner_user:
        raise Http404("No such tier program.")
    form = request.POST.get("form", "")
    try:
        program = _submit(request, form)
    except ValidationFailed as exc:
        edit = {"form": form, "errors": exc.errors, "values": request.POST}
        return _index(request, edit, 400)
    except NotAllowed as exc:
        return _index(request, {"form": form, "errors": {"form": str(exc)}}, 403)
    url = reverse("tier-index")
    return redirect(f"{url}?program={program.pk}" if program else url)


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
