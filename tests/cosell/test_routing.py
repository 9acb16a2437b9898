"""Lead routing: ranking with its explanation, offering, answers, expiry and re-routing, and
acceptance figures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.http import Http404
from django.utils import timezone

from mutualist.accounts import actions as account_actions
from mutualist.accounts.models import User
from mutualist.accounts.roles import Role
from mutualist.audit.models import AuditEntry
from mutualist.cosell import routing
from mutualist.cosell.models import LeadOffer, Notification
from mutualist.crm.models import Account, Lead, PartnerInvolvement
from mutualist.lib.errors import Conflict, NotAllowed, ValidationFailed
from mutualist.partners.models import Partner, Segment
from tests.conftest import PASSWORD, T0, World, make_opportunity, make_partner

Offer = LeadOffer.Status


def partner(
    name: str,
    country: str,
    region: str,
    types: str,
    tier: str,
    *segments: str,
    status: str = "active",
) -> Partner:
    p = make_partner(name, None, types)
    p.country, p.region, p.tier, p.status = country, region, tier, status
    p.save()
    p.segments.set([Segment.objects.get(code=code) for code in segments])
    return p


def person(username: str, p: Partner, role: str = Role.PARTNER_USER) -> User:
    return account_actions.create_user(None, username, PASSWORD, role, partner=p)


def fill(p: Partner, n: int) -> None:
    """Give `p` n unanswered offers of other leads (due in a month, so no sweep here ends them)."""
    now = timezone.now()
    for i in range(n):
        lead = Lead.objects.create(company=f"Filler {p.name} {i}", created_at=T0)
        LeadOffer.objects.create(
            lead=lead, partner=p, offered_at=now, respond_by=now + timedelta(days=30)
        )


@dataclass
class Routed:
    world: World
    lead: Lead
    berlin: Partner
    paris: Partner
    nordic: Partner
    berlin_user: User
    paris_user: User
    nordic_user: User


@pytest.fixture
def routed(world: World) -> Routed:
    """A German retail lead (known through its account, whose deals ran on AWS) and partners
    that fit it more or less well:

    berlin  DE, platinum reseller, retail + aws      30+20+5+10+15+10 = 90
    paris   FR (EMEA), silver SI, 3 open offers      15+ 0+0+ 8+ 5+ 7 = 35
    nordic  US, but an EMEA geography segment, msp   15+ 0+0+ 6+ 2+10 = 33
    acme    US, gold reseller                         0+ 0+0+10+10+10 = 30
    globex  US, gold ISV, aws                         0+ 0+5+ 2+10+10 = 27
    busy    DE platinum, but 10 open offers: left out; dormant DE: inactive, left out.
    """
    # Globex's industry segment is not a technology: it must not count as the customer's stack.
    world.globex.segments.set(Segment.objects.filter(code__in=["aws", "media"]))
    account = Account.objects.create(
        name="Wurst AG", domain="wurst.de", country="DE", industry="retail", created_at=T0
    )
    opp = make_opportunity(account, "Wurst cloud")
    PartnerInvolvement.objects.create(
        opportunity=opp, partner=world.globex, role="technology", attached_at=T0
    )
    lead = Lead.objects.create(company="Wurst AG", created_at=T0, account=account)
    berlin = partner(
        "Berlin Retail", "DE", "EMEA", ",reseller,", "platinum", "retail", "aws", "media"
    )
    paris = partner("Paris Partners", "FR", "EMEA", ",system_integrator,", "silver")
    nordic = partner("Nordic Cloud", "US", "NA", ",msp,", "registered", "EMEA")
    busy = partner("Busy AG", "DE", "EMEA", ",reseller,", "platinum", "retail")
    partner("Dormant GmbH", "DE", "EMEA", ",reseller,", "platinum", "retail", status="inactive")
    fill(paris, 3)
    fill(busy, routing.MAX_OPEN_OFFERS)
    return Routed(
        world,
        lead,
        berlin,
        paris,
        nordic,
        person("berlin_user", berlin),
        person("paris_user", paris),
        person("nordic_user", nordic),
    )


def test_it_ranks_partners_and_explains_why(routed: Routed) -> None:
    suggestions = routing.suggest_partners(routed.lead)
    assert [(s.partner.name, s.score) for s in suggestions] == [
        ("Berlin Retail", 90),
        ("Paris Partners", 35),
        ("Nordic Cloud", 33),
        ("Acme", 30),
        ("Globex", 27),
    ]
    assert suggestions[0].explanation == [
        {"factor": "geography", "detail": "based in DE, like the lead", "points": 30},
        {"factor": "industry", "detail": "works in retail", "points": 20},
        {"factor": "technology", "detail": "knows aws", "points": 5},
        {"factor": "type", "detail": "Reseller", "points": 10},
        {"factor": "tier", "detail": "Platinum", "points": 15},
        {"factor": "capacity", "detail": "0 unanswered offers (at most 10)", "points": 10},
    ]
    by_factor = {f["factor"]: f for f in suggestions[2].explanation}
    assert by_factor["geography"] == {
        "factor": "geography",
        "detail": "covers EMEA, where the lead (DE) is",
        "points": 15,
    }
    assert {f["factor"]: f["points"] for f in suggestions[1].explanation}["capacity"] == 7


def test_it_leaves_out_full_and_inactive_partners(routed: Routed) -> None:
    names = [s.partner.name for s in routing.suggest_partners(routed.lead, limit=50)]
    assert "Busy AG" not in names and "Dormant GmbH" not in names
    assert len(names) == 5
    busy = Partner.objects.get(name="Busy AG")
    with pytest.raises(Conflict, match="10 unanswered offers"):
        routing.offer_lead(routed.world.cpo, routed.lead, busy)
    # One answer frees room: Busy AG is a candidate again, with 1 capacity point of 10
    # (30 + 20 + 0 + 10 + 15 + 1), behind Berlin.
    LeadOffer.objects.filter(partner=busy).first().delete()  # type: ignore[union-attr]
    ranked = [(s.partner.name, s.score) for s in routing.suggest_partners(routed.lead, limit=2)]
    assert ranked == [("Berlin Retail", 90), ("Busy AG", 76)]


def test_it_offers_by_rule_to_the_best_partner_and_notifies_its_people(routed: Routed) -> None:
    offer = routing.offer_lead(routed.world.alice, routed.lead, sla_hours=24)
    assert offer.partner == routed.berlin
    assert offer.status == Offer.OFFERED
    assert offer.score == 90
    assert offer.explanation[0]["points"] == 30
    assert offer.respond_by - offer.offered_at == timedelta(hours=24)
    assert offer.offered_by == routed.world.alice
    note = Notification.objects.get(user=routed.berlin_user)
    assert note.verb == "lead_offered" and "Wurst AG" in note.text
    assert not Notification.objects.filter(user=routed.paris_user).exists()
    assert AuditEntry.objects.filter(action="cosell.offer.create", object_id=str(offer.pk)).exists()
    routed.lead.refresh_from_db()
    assert routed.lead.partner is None  # not until the partner accepts


def test_it_refuses_a_lead_with_an_open_offer_or_converted(routed: Routed) -> None:
    routing.offer_lead(routed.world.cpo, routed.lead)
    with pytest.raises(Conflict, match="unanswered offer"):
        routing.offer_lead(routed.world.cpo, routed.lead, routed.paris)
    converted = Lead.objects.create(company="Done Inc", created_at=T0, status="converted")
    with pytest.raises(Conflict, match="converted"):
        routing.offer_lead(routed.world.cpo, converted)
    with pytest.raises(Conflict, match="already with Acme"):
        routing.offer_lead(routed.world.cpo, routed.world.acme_lead)


def test_it_lets_only_the_cpo_and_alliance_managers_offer(routed: Routed) -> None:
    with pytest.raises(NotAllowed, match="Analyst"):
        routing.offer_lead(routed.world.ann, routed.lead)
    with pytest.raises(Http404):
        routing.offer_lead(routed.world.acme_admin, routed.lead)
    with pytest.raises(ValidationFailed) as exc:
        routing.offer_lead(routed.world.cpo, routed.lead, sla_hours=0)
    assert list(exc.value.errors) == ["sla_hours"]
    dormant = Partner.objects.get(name="Dormant GmbH")
    with pytest.raises(ValidationFailed) as exc:
        routing.offer_lead(routed.world.cpo, routed.lead, dormant)
    assert exc.value.errors == {
        "partner": "Dormant GmbH is inactive; offer leads to active partners"
    }
    assert not LeadOffer.objects.filter(lead=routed.lead).exists()


def test_accepting_makes_the_partner_the_leads_partner(routed: Routed) -> None:
    offer = routing.offer_lead(routed.world.alice, routed.lead)
    routing.accept_offer(routed.berlin_user, offer)
    offer.refresh_from_db()
    routed.lead.refresh_from_db()
    assert offer.status == Offer.ACCEPTED and offer.responded_by == routed.berlin_user
    assert routed.lead.partner == routed.berlin
    entry = AuditEntry.objects.get(action="crm.lead.route")
    assert entry.before == {"partner_id": None} and entry.after == {"partner_id": routed.berlin.pk}
    assert Notification.objects.get(user=routed.world.alice).verb == "lead_accepted"
    with pytest.raises(Conflict, match="accepted already"):
        routing.decline_offer(routed.berlin_user, offer, "changed our mind")


def test_only_the_partners_people_answer(routed: Routed) -> None:
    offer = routing.offer_lead(routed.world.alice, routed.lead)
    with pytest.raises(Http404):
        routing.accept_offer(routed.world.globex_user, offer)
    with pytest.raises(Http404):
        routing.decline_offer(routed.paris_user, offer, "not ours")
    with pytest.raises(NotAllowed, match="Only Berlin Retail's people"):
        routing.accept_offer(routed.world.cpo, offer)
    offer.refresh_from_db()
    assert offer.status == Offer.OFFERED


def test_an_answer_after_the_deadline_is_refused_as_expired(routed: Routed) -> None:
    offer = routing.offer_lead(routed.world.alice, routed.lead, sla_hours=2)
    late = offer.respond_by + timedelta(minutes=1)
    with pytest.raises(Conflict, match="expired"):
        routing.accept_offer(routed.berlin_user, offer, now=late)
    routed.lead.refresh_from_db()
    assert routed.lead.partner is None


def test_a_decline_needs_a_reason_and_reroutes_at_once(routed: Routed) -> None:
    offer = routing.offer_lead(routed.world.alice, routed.lead, sla_hours=24)
    with pytest.raises(ValidationFailed) as exc:
        routing.decline_offer(routed.berlin_user, offer, "  ")
    assert list(exc.value.errors) == ["reason"]
    routing.decline_offer(routed.berlin_user, offer, "No capacity this quarter")
    offer.refresh_from_db()
    assert (offer.status, offer.decline_reason) == (Offer.DECLINED, "No capacity this quarter")
    following = LeadOffer.objects.get(lead=routed.lead, status=Offer.OFFERED)
    assert following.partner == routed.paris
    assert following.offered_by is None  # by rule
    assert following.respond_by - following.offered_at == timedelta(hours=24)
    assert Notification.objects.filter(user=routed.paris_user, verb="lead_offered").count() == 1
    # Berlin never sees this lead again.
    assert "Berlin Retail" not in [s.partner.name for s in routing.suggest_partners(routed.lead)]
    with pytest.raises(Conflict, match="declined"):
        routing.accept_offer(routed.berlin_user, offer)


def test_sweep_expires_overdue_offers_and_routes_on(routed: Routed) -> None:
    offer = routing.offer_lead(routed.world.alice, routed.lead, sla_hours=48)
    assert routing.sweep_offers(now=timezone.now() + timedelta(hours=47)) == 0
    later = timezone.now() + timedelta(hours=49)
    assert routing.sweep_offers(now=later) == 1
    offer.refresh_from_db()
    assert offer.status == Offer.EXPIRED
    following = LeadOffer.objects.get(lead=routed.lead, status=Offer.OFFERED)
    assert following.partner == routed.paris
    assert following.offered_at == later
    assert following.respond_by == later + timedelta(hours=48)
    assert AuditEntry.objects.get(action="cosell.offer.expire").actor_label == "system"


def test_when_nobody_is_left_the_deciders_are_told(routed: Routed) -> None:
    Partner.objects.exclude(pk=routed.berlin.pk).filter(status="active").update(status="inactive")
    offer = routing.offer_lead(routed.world.cpo, routed.lead)
    assert offer.partner == routed.berlin
    routed.berlin.owner = routed.world.bob
    routed.berlin.save()
    routing.decline_offer(routed.berlin_user, offer, "Not our kind of customer")
    assert not LeadOffer.objects.filter(lead=routed.lead, status=Offer.OFFERED).exists()
    told = set(
        Notification.objects.filter(verb="lead_unrouted").values_list("user__username", flat=True)
    )
    assert told == {"cpo", "bob"}
    with pytest.raises(Conflict, match="No active partner"):
        routing.offer_lead(routed.world.cpo, routed.lead)


def _answered(p: Partner, status: str, hours: float | None, n: int = 1) -> None:
    for i in range(n):
        lead = Lead.objects.create(company=f"{p.name} {status} {hours} {i}", created_at=T0)
        responded = T0 + timedelta(hours=hours) if hours is not None else None
        LeadOffer.objects.create(
            lead=lead,
            partner=p,
            offered_at=T0,
            respond_by=T0 + timedelta(hours=48),
            status=status,
            responded_at=responded,
        )


def test_acceptance_stats(world: World) -> None:
    for hours in (1, 2, 3, 4, 5, 6):
        _answered(world.acme, Offer.ACCEPTED, hours)
    _answered(world.acme, Offer.DECLINED, 3, n=2)
    _answered(world.acme, Offer.EXPIRED, None)
    _answered(world.acme, Offer.OFFERED, None)
    _answered(world.globex, Offer.ACCEPTED, 10)
    acme, globex = routing.acceptance_stats()
    assert (acme.partner_name, acme.offers, acme.open) == ("Acme", 10, 1)
    assert (acme.accepted, acme.declined, acme.expired, acme.answered) == (6, 2, 1, 9)
    assert acme.rate.count == 6 and acme.rate.n == 9 and acme.rate.method == "wilson"
    assert acme.rate.value == pytest.approx(0.6667, abs=1e-4)
    assert acme.rate.low == pytest.approx(0.3542, abs=1e-4)
    assert acme.rate.high == pytest.approx(0.8794, abs=1e-4)
    assert acme.median_hours_to_accept == 3.5 and acme.median_note == ""
    # 1..6 hours: the exact binomial 95% interval of the median runs from the 1st to the 6th
    assert (acme.median_low_hours, acme.median_high_hours) == (1.0, 6.0)
    assert globex.rate.value == 1.0 and globex.rate.low == pytest.approx(0.2065, abs=1e-4)
    assert globex.median_hours_to_accept is None
    assert globex.median_note == "not enough data (1 accepted, 5 needed)"
    only: Any = routing.acceptance_stats(world.globex)
    assert [s.partner_name for s in only] == ["Globex"]
