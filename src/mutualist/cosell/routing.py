"""Lead routing: which partner should work a lead, offering it to them under an answer deadline
(the SLA), and what happens when they accept, decline or let it expire.

A suggestion is a score made of named factors (geography, industry, technology, partner type,
tier, capacity), each with its points and a sentence, so the page can say *why this partner*.
A partner that already declined a lead or let it expire is never offered it again, and a partner
holding `MAX_OPEN_OFFERS` unanswered offers gets no more until it answers some.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypedDict

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from mutualist.accounts.models import User
from mutualist.analytics.estimate import Estimate
from mutualist.analytics.stats import proportion, sample_median
from mutualist.audit.log import record, snapshot
from mutualist.cosell.access import (
    require_can_answer,
    require_can_route,
)
from mutualist.cosell.models import LeadOffer
from mutualist.cosell.notify import deciders_for, notify, partner_people
from mutualist.crm.choices import InvolvementRole, LeadStatus
from mutualist.crm.models import Lead
from mutualist.lib.countries import COUNTRY_CODES
from mutualist.lib.errors import Conflict, ValidationFailed
from mutualist.partners.choices import PartnerType, SegmentKind, Status, Tier
from mutualist.partners.models import Partner, Segment

MAX_OPEN_OFFERS = 10
DEFAULT_SLA_HOURS = 48
MAX_SLA_HOURS = 24 * 14
MIN_FOR_MEDIAN = 5
ROUTABLE = (LeadStatus.OPEN, LeadStatus.WORKING)
Offer = LeadOffer.Status

# Points per factor. Geography and industry decide most; type, tier and capacity break ties.
SAME_COUNTRY, SAME_REGION = 30, 15
INDUSTRY_POINTS = 20
TECHNOLOGY_POINTS = 5  # per shared technology, at most two
TYPE_POINTS = {
    PartnerType.RESELLER: 10,
    PartnerType.SYSTEM_INTEGRATOR: 8,
    PartnerType.MSP: 6,
    PartnerType.DISTRIBUTOR: 4,
    PartnerType.REFERRAL: 4,
    PartnerType.STRATEGIC_ALLIANCE: 4,
    PartnerType.ISV: 2,
    PartnerType.AFFILIATE: 0,
}
TIER_POINTS = {Tier.PLATINUM: 15, Tier.GOLD: 10, Tier.SILVER: 5, Tier.REGISTERED: 2, Tier.NONE: 0}
CAPACITY_POINTS = 10

_NA = "US CA PM BM GL"
_LATAM = """MX GT BZ SV HN NI CR PA CU DO HT JM PR BS BB TT AG DM GD KN LC VC AW CW SX BQ KY TC
VG VI AI MS GP MQ BL MF CO VE EC PE BO BR PY UY AR CL GY SR GF FK"""
_APAC = """CN HK MO TW JP KR KP MN IN PK BD LK NP BT MV AF SG MY ID TH VN PH KH LA MM BN TL AU
NZ PG FJ SB VU NC PF WS TO KI TV NR FM MH PW GU MP AS CK NU TK WF PN NF CX CC IO"""
# Every other country code is in EMEA (Europe, the Middle East, Africa and Central Asia).
REGION_OF = {
    **dict.fromkeys(COUNTRY_CODES, "EMEA"),
    **dict.fromkeys(_NA.split(), "NA"),
    **dict.fromkeys(_LATAM.split(), "LATAM"),
    **dict.fromkeys(_APAC.split(), "APAC"),
}


class Factor(TypedDict):
    factor: str
    detail: str
    points: int


@dataclass
class Suggestion:
    partner: Partner
    score: float
    explanation: list[Factor]
    open_offers: int = 0


@dataclass(frozen=True)
class LeadFacts:
    """What routing knows of a lead: its own country and industry, else its account's."""

    country: str
    region: str
    industry: str
    technologies: frozenset[str] = frozenset()


# --- ranking --------------------------------------------------------------------------------


def _technologies_of(lead: Lead) -> frozenset[str]:
    """The customer's stack where we know it: the technology segments of the partners that
    were on its deals as technology partners."""
    if lead.account_id is None:
        return frozenset()
    # One filter() call, so the kind and the involvement constrain the same segment row.
    codes = Segment.objects.filter(
        kind=SegmentKind.TECHNOLOGY,
        partners__involvements__role=InvolvementRole.TECHNOLOGY,
        partners__involvements__opportunity__account_id=lead.account_id,
    ).values_list("code", flat=True)
    return frozenset(codes)


def facts_of(lead: Lead) -> LeadFacts:
    account = lead.account
    country = lead.country or (account.country if account else "")
    industry = lead.industry or (account.industry if account else "")
    return LeadFacts(country, REGION_OF.get(country, ""), industry, _technologies_of(lead))


def _geography(facts: LeadFacts, partner: Partner, codes: set[str]) -> Factor:
    if not facts.country:
        return Factor(factor="geography", detail="the lead's country is not known", points=0)
    if partner.country == facts.country:
        return Factor(
            factor="geography",
            detail=f"based in {facts.country}, like the lead",
            points=SAME_COUNTRY,
        )
    if facts.region and (partner.region == facts.region or facts.region in codes):
        return Factor(
            factor="geography",
            detail=f"covers {facts.region}, where the lead ({facts.country}) is",
            points=SAME_REGION,
        )
    where = partner.country or partner.region or "an unknown place"
    return Factor(
        factor="geography", detail=f"based in {where}, outside {facts.country}'s region", points=0
    )


def _industry(facts: LeadFacts, codes: set[str]) -> Factor:
    if not facts.industry:
        return Factor(factor="industry", detail="the lead's industry is not known", points=0)
    if facts.industry in codes:
        return Factor(
            factor="industry", detail=f"works in {facts.industry}", points=INDUSTRY_POINTS
        )
    return Factor(factor="industry", detail=f"no {facts.industry} segment", points=0)


def _technology(facts: LeadFacts, codes: set[str]) -> Factor:
    if not facts.technologies:
        return Factor(
            factor="technology", detail="the customer's technology is not known", points=0
        )
    shared = sorted(facts.technologies & codes)
    if not shared:
        return Factor(factor="technology", detail="none of the customer's technologies", points=0)
    points = TECHNOLOGY_POINTS * min(len(shared), 2)
    return Factor(factor="technology", detail=f"knows {', '.join(shared)}", points=points)


def _type(partner: Partner) -> Factor:
    types = [PartnerType(t) for t in partner.type_list if t in PartnerType.values]
    if not types:
        return Factor(factor="type", detail="no partner type recorded", points=0)
    best = max(types, key=lambda t: TYPE_POINTS[t])
    return Factor(factor="type", detail=best.label, points=TYPE_POINTS[best])


def _tier(partner: Partner) -> Factor:
    tier = Tier(partner.tier) if partner.tier in Tier.values else Tier.NONE
    return Factor(factor="tier", detail=tier.label, points=TIER_POINTS[tier])


def _capacity(open_offers: int) -> Factor:
    points = CAPACITY_POINTS * max(MAX_OPEN_OFFERS - open_offers, 0) // MAX_OPEN_OFFERS
    detail = f"{open_offers} unanswered offer{'s' if open_offers != 1 else ''} (at most {MAX_OPEN_OFFERS})"
    return Factor(factor="capacity", detail=detail, points=points)


def score(facts: LeadFacts, partner: Partner, open_offers: int) -> Suggestion:
    """Score one partner for a lead. Reads `partner.segments.all()`: prefetch it for many."""
    segments = list(partner.segments.all())
    by_kind: dict[str, set[str]] = defaultdict(set)
    for segment in segments:
        by_kind[segment.kind].add(segment.code)
    explanation = [
        _geography(facts, partner, by_kind[SegmentKind.GEOGRAPHY]),
        _industry(facts, by_kind[SegmentKind.INDUSTRY]),
        _technology(facts, by_kind[SegmentKind.TECHNOLOGY]),
        _type(partner),
        _tier(partner),
        _capacity(open_offers),
    ]
    total = float(sum(f["points"] for f in explanation))
    return Suggestion(partner, total, explanation, open_offers)


def _tried(lead: Lead) -> QuerySet[LeadOffer]:
    """Partners that had their chance at this lead: they declined or let it expire."""
    return LeadOffer.objects.filter(lead=lead, status__in=[Offer.DECLINED, Offer.EXPIRED])


def _open_offers() -> Count:
    return Count("lead_offers", filter=Q(lead_offers__status=Offer.OFFERED))


def suggest_partners(lead: Lead, limit: int = 5) -> list[Suggestion]:
    """Active partners ranked for `lead`, best first (ties by name)."""
    candidates = (
        Partner.objects.filter(status=Status.ACTIVE)
        .exclude(pk__in=_tried(lead).values("partner_id"))
        .exclude(
            pk__in=LeadOffer.objects.filter(lead=lead, status=Offer.OFFERED).values("partner_id")
        )
        .annotate(open_offers=_open_offers())
        .filter(open_offers__lt=MAX_OPEN_OFFERS)
        .prefetch_related("segments")
    )
    facts = facts_of(lead)
    ranked = sorted(
        (score(facts, p, p.open_offers) for p in candidates),
        key=lambda s: (-s.score, s.partner.name, s.partner.pk),
    )
    return ranked[:limit]


# --- offering -------------------------------------------------------------------------------


def offer_url(offer: LeadOffer) -> str:
    try:
        return reverse("lead-offer", args=[offer.pk])
    except NoReverseMatch:  # the co-selling pages are not mounted in this installation
        return ""


def _require_routable(lead: Lead) -> None:
    if lead.status not in ROUTABLE:
        raise Conflict(
            f"{lead.company} is {lead.get_status_display().lower()}; only open leads are routed."
        )
    if lead.partner_id is not None:
        raise Conflict(f"{lead.company} is already with {lead.partner}; it needs no routing.")
    if LeadOffer.objects.filter(lead=lead, status=Offer.OFFERED).exists():
        raise Conflict(f"{lead.company} has an unanswered offer; wait for it or its deadline.")


def _check_sla(sla_hours: int) -> None:
    if not 1 <= sla_hours <= MAX_SLA_HOURS:
        raise ValidationFailed(
            {"sla_hours": f"give the partner between 1 and {MAX_SLA_HOURS} hours to answer"}
        )


def _chosen(lead: Lead, partner: Partner) -> Suggestion:
    """The explanation for a partner staff picked by hand, after the same exclusions."""
    if partner.status != Status.ACTIVE:
        raise ValidationFailed(
            {
                "partner": f"{partner.name} is {partner.get_status_display().lower()}; offer leads to active partners"
            }
        )
    if _tried(lead).filter(partner=partner).exists():
        raise Conflict(
            f"{partner.name} declined {lead.company} or let it expire; choose another partner."
        )
    open_offers = LeadOffer.objects.filter(partner=partner, status=Offer.OFFERED).count()
    if open_offers >= MAX_OPEN_OFFERS:
        raise Conflict(
            f"{partner.name} has {open_offers} unanswered offers, the most a partner may hold; "
            "choose another partner or wait for its answers."
        )
    return score(facts_of(lead), partner, open_offers)


def _create_offer(
    lead: Lead, suggestion: Suggestion, actor: User | None, now: datetime, sla: timedelta
) -> LeadOffer:
    try:
        with transaction.atomic():
            offer = LeadOffer.objects.create(
                lead=lead,
                partner=suggestion.partner,
                offered_by=actor,
                offered_at=now,
                respond_by=now + sla,
                explanation=list(suggestion.explanation),
                score=suggestion.score,
            )
    except IntegrityError:  # another offer of this lead won the race
        raise Conflict(
            f"{lead.company} has an unanswered offer; wait for it or its deadline."
        ) from None
    record(actor, "cosell.offer.create", offer, after=snapshot(offer))
    notify(
        partner_people(suggestion.partner),
        "lead_offered",
        f"New lead for {suggestion.partner.name}: {lead.company}. Accept or decline by "
        f"{offer.respond_by:%Y-%m-%d %H:%M} UTC.",
        offer_url(offer),
    )
    return offer


@transaction.atomic
def offer_lead(
    actor: User, lead: Lead, partner: Partner | None = None, sla_hours: int = DEFAULT_SLA_HOURS
) -> LeadOffer:
    """Offer `lead` to `partner`, or to the best-ranked partner when `partner` is None."""
    require_can_route(actor)
    _check_sla(sla_hours)
    lead = (
        Lead.objects.select_for_update(of=("self",))
        .select_related("account", "partner")
        .get(pk=lead.pk)
    )
    _require_routable(lead)
    if partner is None:
        suggestions = suggest_partners(lead, limit=1)
        if not suggestions:
            raise Conflict(
                f"No active partner with room is left for {lead.company}; work it directly."
            )
        suggestion = suggestions[0]
    else:
        suggestion = _chosen(lead, partner)
    return _create_offer(lead, suggestion, actor, timezone.now(), timedelta(hours=sla_hours))


def _reroute(lead: Lead, previous: LeadOffer, now: datetime) -> LeadOffer | None:
    """After a decline or an expiry: offer the lead to the next partner by rule, with the same
    answer time; tell the deciders when nobody is left."""
    lead = (
        Lead.objects.select_for_update(of=("self",))
        .select_related("account", "partner")
        .get(pk=lead.pk)
    )
    if lead.status not in ROUTABLE or lead.partner_id is not None:
        return None
    suggestions = suggest_partners(lead, limit=1)
    if suggestions:
        return _create_offer(
            lead, suggestions[0], None, now, previous.respond_by - previous.offered_at
        )
    notify(
        deciders_for(previous.partner),
        "lead_unrouted",
        f"No partner is left for lead {lead.company}: {previous.partner.name} "
        f"{previous.get_status_display().lower()} it, and every other partner had its chance or is full.",
        offer_url(previous),
    )
    return None


def _lock(offer: LeadOffer) -> LeadOffer:
    return (
        LeadOffer.objects.select_for_update(of=("self",))
        .select_related("lead", "partner")
        .get(pk=offer.pk)
    )


def _require_open(offer: LeadOffer, now: datetime) -> None:
    if offer.status != Offer.OFFERED:
        raise Conflict(f"This offer is {offer.get_status_display().lower()} already.")
    if now > offer.respond_by:
        raise Conflict(
            f"This offer expired at {offer.respond_by:%Y-%m-%d %H:%M} UTC; the lead goes to the next partner."
        )


ANSWER_FIELDS = ["status", "responded_at", "responded_by_id", "decline_reason"]


@transaction.atomic
def accept_offer(actor: User, offer: LeadOffer, *, now: datetime | None = None) -> LeadOffer:
    """The partner takes the lead: it becomes the lead's partner."""
    now = now or timezone.now()
    offer = _lock(offer)
    require_can_answer(actor, offer)
    _require_open(offer, now)
    before = snapshot(offer, ANSWER_FIELDS)
    offer.status, offer.responded_at, offer.responded_by = Offer.ACCEPTED, now, actor
    offer.save(update_fields=["status", "responded_at", "responded_by"])
    record(actor, "cosell.offer.accept", offer, before=before, after=snapshot(offer, ANSWER_FIELDS))
    lead = offer.lead
    lead_before = snapshot(lead, ["partner_id"])
    lead.partner = offer.partner
    lead.save(update_fields=["partner"])
    record(actor, "crm.lead.route", lead, before=lead_before, after=snapshot(lead, ["partner_id"]))
    if offer.offered_by_id is not None:
        notify(
            User.objects.filter(pk=offer.offered_by_id),
            "lead_accepted",
            f"{offer.partner.name} accepted lead {lead.company}.",
            offer_url(offer),
        )
    return offer


@transaction.atomic
def decline_offer(
    actor: User, offer: LeadOffer, reason: str, *, now: datetime | None = None
) -> LeadOffer:
    """The partner passes; the lead goes straight to the next partner by rule."""
    now = now or timezone.now()
    offer = _lock(offer)
    require_can_answer(actor, offer)
    reason = reason.strip()
    if not reason:
        raise ValidationFailed(
            {"reason": "say why you decline (for example: no capacity, not our region)"}
        )
    if len(reason) > 2000:
        raise ValidationFailed(
            {"reason": f"is {len(reason)} characters long; at most 2000 are allowed"}
        )
    _require_open(offer, now)
    before = snapshot(offer, ANSWER_FIELDS)
    offer.status, offer.responded_at, offer.responded_by = Offer.DECLINED, now, actor
    offer.decline_reason = reason
    offer.save(update_fields=["status", "responded_at", "responded_by", "decline_reason"])
    record(
        actor, "cosell.offer.decline", offer, before=before, after=snapshot(offer, ANSWER_FIELDS)
    )
    _reroute(offer.lead, offer, now)
    return offer


def sweep_offers(now: datetime | None = None) -> int:
    """Expire the offers past their deadline and route each lead on. Returns how many expired.
    Each offer is its own transaction, so one failure does not undo the others."""
    now = now or timezone.now()
    overdue = (
        LeadOffer.objects.filter(status=Offer.OFFERED, respond_by__lt=now)
        .order_by("respond_by", "pk")
        .values_list("pk", flat=True)
    )
    expired = 0
    for offer_id in list(overdue):
        with transaction.atomic():
            offer = (
                LeadOffer.objects.select_for_update(of=("self",))
                .select_related("lead", "partner")
                .get(pk=offer_id)
            )
            if offer.status != Offer.OFFERED:
                continue  # answered meanwhile
            offer.status = Offer.EXPIRED
            offer.save(update_fields=["status"])
            record(
                None,
                "cosell.offer.expire",
                offer,
                before={"status": Offer.OFFERED},
                after={"status": offer.status},
            )
            _reroute(offer.lead, offer, now)
            expired += 1
    return expired


# --- acceptance -----------------------------------------------------------------------------


@dataclass
class PartnerStats:
    partner_id: int
    partner_name: str
    offers: int = 0
    open: int = 0
    accepted: int = 0
    declined: int = 0
    expired: int = 0
    rate: Estimate = field(default_factory=lambda: proportion(0, 0))
    median_hours_to_accept: float | None = None
    median_low_hours: float | None = None  # the median's 95% order-statistic interval
    median_high_hours: float | None = None
    median_note: str = ""

    @property
    def answered(self) -> int:
        """Offers that came to an end (withdrawn ones are the vendor's doing and not counted)."""
        return self.accepted + self.declined + self.expired


def _counts(offers: QuerySet[LeadOffer]) -> dict[int, PartnerStats]:
    rows = (
        offers.values("partner_id", "partner__name")
        .annotate(
            offers=Count("pk"),
            open=Count("pk", filter=Q(status=Offer.OFFERED)),
            accepted=Count("pk", filter=Q(status=Offer.ACCEPTED)),
            declined=Count("pk", filter=Q(status=Offer.DECLINED)),
            expired=Count("pk", filter=Q(status=Offer.EXPIRED)),
        )
        .order_by("partner__name", "partner_id")
    )
    return {
        r["partner_id"]: PartnerStats(
            r["partner_id"],
            r["partner__name"],
            r["offers"],
            r["open"],
            r["accepted"],
            r["declined"],
            r["expired"],
        )
        for r in rows
    }


def _hours_to_accept(offers: QuerySet[LeadOffer]) -> dict[int, list[float]]:
    hours: dict[int, list[float]] = defaultdict(list)
    accepted = offers.filter(status=Offer.ACCEPTED, responded_at__isnull=False)
    rows = accepted.values_list("partner_id", "offered_at", "responded_at")
    for partner_id, offered_at, responded_at in rows:
        if responded_at is not None:
            hours[partner_id].append((responded_at - offered_at).total_seconds() / 3600)
    return hours


def acceptance_stats(partner: Partner | None = None) -> list[PartnerStats]:
    """Per partner: offers and their outcomes, the acceptance rate (accepted of those answered
    or expired) with its Wilson 95% interval, and the median hours to accept (from
    `MIN_FOR_MEDIAN` accepted offers; fewer is "not enough data")."""
    offers = LeadOffer.objects.all()
    if partner is not None:
        offers = offers.filter(partner=partner)
    stats = _counts(offers)
    hours = _hours_to_accept(offers)
    for partner_id, row in stats.items():
        row.rate = proportion(row.accepted, row.answered)
        times = hours.get(partner_id, [])
        if len(times) >= MIN_FOR_MEDIAN:
            median = sample_median(times)
            row.median_hours_to_accept = round(median.value, 1)  # type: ignore[arg-type]
            row.median_low_hours, row.median_high_hours = median.low, median.high
        else:
            row.median_note = f"not enough data ({len(times)} accepted, {MIN_FOR_MEDIAN} needed)"
    return list(stats.values())


# --- lists ----------------------------------------------------------------------------------


def filter_offers(
    offers: QuerySet[LeadOffer], status: str = "", partner: str = "", q: str = ""
) -> QuerySet[LeadOffer]:
    """The offers list's filters, shared by the page, its CSV and the API."""
    errors: dict[str, str] = {}
    if status and status not in Offer.values:
        errors["status"] = f"unknown status {status!r}; use one of: {', '.join(Offer.values)}"
    if partner and not partner.isdigit():
        errors["partner"] = f"{partner!r} is not a partner id (a whole number)"
    if errors:
        raise ValidationFailed(errors)
    if status:
        offers = offers.filter(status=status)
    if partner:
        offers = offers.filter(partner_id=int(partner))
    if q:
        offers = offers.filter(Q(lead__company__icontains=q) | Q(partner__name__icontains=q))
    return offers.select_related("lead", "partner").order_by("-offered_at", "-id")


def unrouted_leads() -> QuerySet[Lead]:
    """Open leads with no partner and no unanswered offer: the ones waiting for routing."""
    return (
        Lead.objects.filter(partner__isnull=True, status__in=ROUTABLE)
        .exclude(pk__in=LeadOffer.objects.filter(status=Offer.OFFERED).values("lead_id"))
        .order_by("-created_at", "-id")
    )
