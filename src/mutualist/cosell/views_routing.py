"""Lead routing and referral pages. Vendor staff route leads and watch acceptance; a partner's
people answer the offers routed to them and refer customers to other partners."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render

from mutualist.accounts.access import acting_user
from mutualist.cosell import access, referrals, routing
from mutualist.cosell.access import offers_visible_to
from mutualist.cosell.models import LeadOffer, Referral
from mutualist.crm.access import get_lead_for
from mutualist.lib.errors import ValidationFailed
from mutualist.lib.listing import Column, render_filtered_list
from mutualist.partners.access import get_partner_for, partners_visible_to
from mutualist.partners.choices import Status


def _iso(value: Any) -> str:
    return value.isoformat() if value else ""


OFFER_COLUMNS = [
    Column("id", lambda o: o.pk),
    Column("lead_id", lambda o: o.lead_id),
    Column("lead", lambda o: o.lead.company),
    Column("partner_id", lambda o: o.partner_id),
    Column("partner", lambda o: o.partner.name),
    Column("status", lambda o: o.status),
    Column("score", lambda o: o.score),
    Column("offered_at", lambda o: _iso(o.offered_at)),
    Column("respond_by", lambda o: _iso(o.respond_by)),
    Column("responded_at", lambda o: _iso(o.responded_at)),
    Column("decline_reason", lambda o: o.decline_reason),
]
REFERRAL_COLUMNS = [
    Column("id", lambda r: r.pk),
    Column("from_partner", lambda r: r.from_partner.name),
    Column("to_partner", lambda r: r.to_partner.name),
    Column("company_name", lambda r: r.company_name),
    Column("domain", lambda r: r.domain),
    Column("country", lambda r: r.country),
    Column("amount", lambda r: r.amount),
    Column("currency", lambda r: r.currency),
    Column("status", lambda r: r.status),
    Column("created_at", lambda r: _iso(r.created_at)),
    Column("responded_at", lambda r: _iso(r.responded_at)),
    Column("opportunity_id", lambda r: r.opportunity_id),
]
REFERRAL_FIELDS = ("company_name", "domain", "country", "amount", "currency", "note")


@login_required
def offer_list(request: HttpRequest) -> HttpResponseBase:
    """Staff: every offer, acceptance per partner and the leads waiting for routing.
    A partner's people: the offers routed to them, to accept or decline."""
    user = request.user
    staff = not user.is_partner_user  # type: ignore[union-attr]
    ctx: dict[str, Any] = {"statuses": LeadOffer.Status.choices, "staff": staff}
    if staff:
        ctx.update(
            partners=partners_visible_to(user).filter(status=Status.ACTIVE).order_by("name"),
            stats=routing.acceptance_stats(),
            unrouted=routing.unrouted_leads()[:10],
            can_route=access.can_route(user),
        )
    visible = offers_visible_to(user)
    return render_filtered_list(
        request,
        ("q", "status", "partner"),
        "-offered",
        lambda p: routing.filter_offers(
            visible, p["status"], p["partner"] if staff else "", p["q"]
        ),
        OFFER_COLUMNS,
        "cosell/offers.html",
        ctx,
        "lead-offers",
    )


def _answer(request: HttpRequest, offer: LeadOffer) -> None:
    actor = acting_user(request)
    match request.POST.get("action"):
        case "accept":
            routing.accept_offer(actor, offer)
        case "decline":
            routing.decline_offer(actor, offer, request.POST.get("reason", ""))
        case _:
            raise ValidationFailed({"action": "choose accept or decline"})


@login_required
def offer_details(request: HttpRequest, offer_id: int) -> HttpResponse:
    offer = access.get_offer_for(request.user, offer_id)
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            _answer(request, offer)
            return redirect("lead-offer", offer.pk)
        except ValidationFailed as exc:
            errors = exc.errors
    ctx = {
        "offer": offer,
        "lead": offer.lead,
        "can_answer": access.can_answer(request.user, offer)
        and offer.status == LeadOffer.Status.OFFERED,
        "errors": errors,
        "reason": request.POST.get("reason", ""),
    }
    return render(request, "cosell/offers_detail.html", ctx, status=400 if errors else 200)


def _offer_from_form(request: HttpRequest, lead: Any) -> LeadOffer:
    choice = request.POST.get("partner", "")
    raw_sla = request.POST.get("sla_hours", "") or str(routing.DEFAULT_SLA_HOURS)
    if not raw_sla.isdigit():
        raise ValidationFailed({"sla_hours": "give the hours to answer as a whole number"})
    if choice != "rule" and not choice.isdigit():
        raise ValidationFailed({"partner": "choose a partner, or offer by rule"})
    partner = None if choice == "rule" else get_partner_for(request.user, int(choice))
    return routing.offer_lead(acting_user(request), lead, partner, int(raw_sla))


@login_required
def route_lead(request: HttpRequest, lead_id: int) -> HttpResponse:
    """The partners that fit a lead, and why; CPO and alliance managers offer it from here."""
    access.require_staff(request.user)
    lead = get_lead_for(request.user, lead_id)
    errors: dict[str, str] = {}
    if request.method == "POST":
        access.require_can_route(request.user)
        try:
            return redirect("lead-offer", _offer_from_form(request, lead).pk)
        except ValidationFailed as exc:
            errors = exc.errors
    ctx = {
        "lead": lead,
        "facts": routing.facts_of(lead),
        "suggestions": routing.suggest_partners(lead),
        "offers": lead.offers.select_related("partner").order_by("-offered_at", "-id"),
        "can_route": access.can_route(request.user),
        "sla_hours": routing.DEFAULT_SLA_HOURS,
        "max_open": routing.MAX_OPEN_OFFERS,
        "errors": errors,
    }
    return render(request, "cosell/offers_route.html", ctx, status=400 if errors else 200)


@login_required
def referral_list(request: HttpRequest) -> HttpResponseBase:
    user = request.user
    ctx = {
        "statuses": Referral.Status.choices,
        "directions": referrals.DIRECTIONS,
        "partner_user": user.is_partner_user,  # type: ignore[union-attr]
    }
    return render_filtered_list(
        request,
        ("q", "status", "direction"),
        "-created",
        lambda p: referrals.filter_referrals(user, p["status"], p["direction"], p["q"]),
        REFERRAL_COLUMNS,
        "cosell/referrals.html",
        ctx,
        "referrals",
    )


@login_required
def referral_new(request: HttpRequest) -> HttpResponse:
    """Refer a customer to another partner (a partner's own people)."""
    user = acting_user(request)
    referrals.require_referrer(user)
    errors: dict[str, str] = {}
    if request.method == "POST":
        raw = request.POST.get("to_partner", "")
        data = {name: request.POST.get(name, "") for name in REFERRAL_FIELDS}
        try:
            referral = referrals.refer(user, int(raw) if raw.isdigit() else None, data)
            return redirect("referral", referral.pk)
        except ValidationFailed as exc:
            errors = exc.errors
    ctx = {
        "receivers": referrals.receivers_for(user),
        "form": request.POST,
        "errors": errors,
    }
    return render(request, "cosell/referral_form.html", ctx, status=400 if errors else 200)


@login_required
def referral_details(request: HttpRequest, referral_id: int) -> HttpResponse:
    referral = referrals.get_referral_for(request.user, referral_id)
    if request.method == "POST":
        action = request.POST.get("action")
        if action not in ("accept", "decline"):
            ctx = {"referral": referral, "errors": {"action": "choose accept or decline"}}
            return render(request, "cosell/referral_detail.html", ctx, status=400)
        referrals.respond(acting_user(request), referral, accept=action == "accept")
        return redirect("referral", referral.pk)
    ctx = {
        "referral": referral,
        "can_respond": referrals.can_respond(request.user, referral)
        and referral.status == Referral.Status.OFFERED,
    }
    return render(request, "cosell/referral_detail.html", ctx)
