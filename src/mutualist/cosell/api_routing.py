"""Lead routing and referrals over HTTP: the same access rules and actions as the pages.

No `from __future__ import annotations` here: Ninja reads the `Query[...]` annotations at
import time."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import ConfigDict

from mutualist.accounts.access import acting_user
from mutualist.cosell import access, referrals, routing
from mutualist.cosell.access import offers_visible_to
from mutualist.cosell.models import LeadOffer, Referral
from mutualist.crm.access import get_lead_for
from mutualist.lib.pagination import PagePagination
from mutualist.partners.access import get_partner_for

router = Router(tags=["co-selling"])


class FactorOut(Schema):
    factor: str
    detail: str
    points: int


class OfferOut(Schema):
    id: int
    lead_id: int
    lead_company: str = Field(..., alias="lead.company")
    partner_id: int
    partner_name: str = Field(..., alias="partner.name")
    status: str
    offered_at: datetime
    respond_by: datetime
    responded_at: datetime | None
    decline_reason: str
    score: float
    explanation: list[FactorOut]


class OfferIn(Schema):
    model_config = ConfigDict(extra="forbid")

    partner_id: int | None = Field(
        None, description="Leave out to offer to the best-ranked partner"
    )
    sla_hours: int = Field(routing.DEFAULT_SLA_HOURS, description="Hours the partner has to answer")


class DeclineIn(Schema):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(..., description="Why the partner declines; helps routing next time")


class OfferFilters(Schema):
    status: str = ""
    partner: str = Field("", description="Partner id (vendor staff)")
    q: str = Field("", description="Search lead company or partner name")


class RateOut(Schema):
    value: float | None
    low: float | None
    high: float | None
    count: int | None
    n: int
    method: str
    warning: str | None
    note: str | None


class StatsOut(Schema):
    partner_id: int
    partner_name: str
    offers: int
    open: int
    accepted: int
    declined: int
    expired: int
    acceptance_rate: RateOut
    median_hours_to_accept: float | None
    median_low_hours: float | None = None
    median_high_hours: float | None = None
    median_note: str


class ReferralOut(Schema):
    id: int
    from_partner_id: int
    from_partner_name: str = Field(..., alias="from_partner.name")
    to_partner_id: int
    to_partner_name: str = Field(..., alias="to_partner.name")
    company_name: str
    domain: str
    country: str
    amount: Decimal | None
    currency: str
    note: str
    status: str
    created_at: datetime
    responded_at: datetime | None
    opportunity_id: int | None


class ReferralIn(Schema):
    model_config = ConfigDict(extra="forbid")

    to_partner_id: int
    company_name: str
    domain: str = ""
    country: str
    amount: Decimal | None = None
    currency: str = "USD"
    note: str = ""


class ReferralFilters(Schema):
    status: str = ""
    direction: str = Field("", description="made | received (partner people)")
    q: str = ""


@router.get("/lead-offers", response=list[OfferOut])
@paginate(PagePagination)
def list_offers(request: HttpRequest, filters: Query[OfferFilters]) -> Any:
    """The lead offers you see: a partner's own, or every partner's for vendor staff."""
    return routing.filter_offers(
        offers_visible_to(request.user), filters.status, filters.partner, filters.q.strip()
    )


@router.get("/lead-offers/stats", response=list[StatsOut])
def offer_stats(request: HttpRequest) -> Any:
    """Acceptance per partner, with the rate's Wilson 95% interval (vendor staff)."""
    access.require_staff(request.user)
    return [
        {**row.__dict__, "acceptance_rate": row.rate.__dict__} for row in routing.acceptance_stats()
    ]


@router.post("/leads/{lead_id}/offers", response={201: OfferOut})
def offer_lead(request: HttpRequest, lead_id: int, payload: OfferIn | None = None) -> Any:
    """Offer a lead to a partner, or by rule to the best-ranked one (CPO, alliance managers)."""
    payload = payload or OfferIn(partner_id=None, sla_hours=routing.DEFAULT_SLA_HOURS)
    access.require_can_route(request.user)
    lead = get_lead_for(request.user, lead_id)
    partner = get_partner_for(request.user, payload.partner_id) if payload.partner_id else None
    offer = routing.offer_lead(acting_user(request), lead, partner, payload.sla_hours)
    return Status(201, offer)


@router.post("/lead-offers/{offer_id}/accept", response=OfferOut)
def accept_offer(request: HttpRequest, offer_id: int) -> LeadOffer:
    offer = access.get_offer_for(request.user, offer_id)
    return routing.accept_offer(acting_user(request), offer)


@router.post("/lead-offers/{offer_id}/decline", response=OfferOut)
def decline_offer(request: HttpRequest, offer_id: int, payload: DeclineIn) -> LeadOffer:
    offer = access.get_offer_for(request.user, offer_id)
    return routing.decline_offer(acting_user(request), offer, payload.reason)


@router.get("/referrals", response=list[ReferralOut])
@paginate(PagePagination)
def list_referrals(request: HttpRequest, filters: Query[ReferralFilters]) -> Any:
    """Referrals your partner made or received; every referral for vendor staff."""
    return referrals.filter_referrals(
        request.user, filters.status, filters.direction, filters.q.strip()
    )


@router.post("/referrals", response={201: ReferralOut})
def create_referral(request: HttpRequest, payload: ReferralIn) -> Any:
    """Refer a customer to another active partner (a partner's people)."""
    data = payload.dict(exclude={"to_partner_id"})
    return Status(201, referrals.refer(acting_user(request), payload.to_partner_id, data))


@router.post("/referrals/{referral_id}/accept", response=ReferralOut)
def accept_referral(request: HttpRequest, referral_id: int) -> Referral:
    """Accept: the deal enters the CRM with both partners on it (the receiving partner)."""
    referral = referrals.get_referral_for(request.user, referral_id)
    return referrals.respond(acting_user(request), referral, accept=True)


@router.post("/referrals/{referral_id}/decline", response=ReferralOut)
def decline_referral(request: HttpRequest, referral_id: int) -> Referral:
    referral = referrals.get_referral_for(request.user, referral_id)
    return referrals.respond(acting_user(request), referral, accept=False)
