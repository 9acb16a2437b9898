"""Co-selling in the demo: registrations in every state (one overdue, one about to expire, one
appealed), routed leads, referrals between the two demo partners, and announcements, so that a
new user sees each page working."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import F
from django.utils import timezone

from mutualist.accounts.models import User
from mutualist.cosell import announcements, referrals, registrations, routing
from mutualist.cosell.models import DealRegistration
from mutualist.crm.models import Account, Lead
from mutualist.lib.errors import Conflict, ValidationFailed

NEW_COMPANIES = [
    ("Brightline Logistics", "brightline-logistics.com", "US"),
    ("Nordhafen Maschinenbau GmbH", "nordhafen-maschinenbau.de", "DE"),
    ("Quaystone Health", "quaystone-health.co.uk", "GB"),
    ("Verdant Foods S.A.", "verdant-foods.fr", "FR"),
    ("Kettlewell Insurance", "kettlewell-insurance.com", "US"),
    ("Solano Retail Group", "solano-retail.com", "US"),
    ("Arktis Energi AS", "arktis-energi.no", "NO"),
    ("Tidewater Analytics", "tidewater-analytics.com", "US"),
]


def _deal(name: str, domain: str, country: str, amount: int) -> dict[str, Any]:
    return {
        "company_name": name,
        "domain": domain,
        "country": country,
        "contact_name": "Jordan Lee",
        "contact_email": f"jordan@{domain}" if domain else "",
        "product": "Platform subscription",
        "amount": str(amount),
        "currency": "USD",
        "expected_close": (timezone.localdate() + dt.timedelta(days=75)).isoformat(),
    }


def _ago(registration: DealRegistration, hours: float) -> None:
    """Demo history: pretend a registration arrived `hours` ago."""
    shift = dt.timedelta(hours=hours)
    DealRegistration.objects.filter(pk=registration.pk).update(
        submitted_at=F("submitted_at") - shift
    )


def load() -> None:
    cpo = User.objects.get(username="cpo")
    first = User.objects.filter(username="partner1-user").select_related("partner").first()
    second = User.objects.filter(username="partner2-user").select_related("partner").first()
    if first is None or second is None or first.partner is None or second.partner is None:
        return
    registrations.new_rules(cpo, {"submissions_per_hour": 200}, "Demo: generous rate limit")
    made = [
        registrations.submit(first, _deal(n, d, c, 20_000 + 7_500 * i))
        for i, (n, d, c) in enumerate(NEW_COMPANIES[:6])
    ]
    for registration, hours in zip(made, (2, 60, 70, 100, 5, 9), strict=True):
        _ago(registration, hours)
    for registration in made[2:4]:
        registrations.approve(cpo, registration, "Good fit; new logo")
    registrations.reject(cpo, made[4], "Already in a direct cycle with our enterprise team")
    DealRegistration.objects.filter(pk=made[3].pk).update(
        protected_until=timezone.now() + dt.timedelta(days=6)
    )
    # A conflict: partner 2 registers partner 1's company; and partner 1 registers a customer.
    contested = registrations.submit(second, _deal(*NEW_COMPANIES[0], amount=18_000))
    registrations.appeal(second, contested, "We have worked with Brightline for two years.")
    customer = Account.objects.filter(lifecycle="customer").order_by("pk").first()
    if customer is not None:
        registrations.submit(
            first, _deal(customer.name, customer.domain, customer.country or "US", 40_000)
        )
    for name, domain, country in NEW_COMPANIES[6:]:
        registrations.submit(second, _deal(name, domain, country, 33_000))
    registrations.sweep()
    _leads(cpo, first)
    _referrals(first, second)
    announcements.publish(
        cpo,
        {
            "title": "Partner kick-off in Berlin, 12 March",
            "body": "Join our product and alliance teams for the annual kick-off: roadmap, programme changes and the co-selling awards.",
        },
    )
    announcements.publish(
        cpo,
        {
            "title": "Deal registration: 90-day protection",
            "body": "Approved registrations are protected for 90 days, with one 30-day extension on request. Decisions within 48 hours.",
        },
    )


def _leads(cpo: User, partner_user: User) -> None:
    open_leads = Lead.objects.filter(status="open", partner__isnull=True).order_by("pk")[:4]
    for number, lead in enumerate(open_leads):
        try:
            offer = routing.offer_lead(
                cpo, lead, partner=partner_user.partner if number < 2 else None
            )
        except (Conflict, ValidationFailed):
            continue
        if number == 0 and offer.partner_id == partner_user.partner_id:
            routing.accept_offer(partner_user, offer)


def _referrals(first: User, second: User) -> None:
    assert first.partner is not None and second.partner is not None
    made = referrals.refer(
        first,
        second.partner,
        {
            "company_name": "Harbor Point Hotels",
            "domain": "harborpoint-hotels.com",
            "country": "US",
            "amount": "60000",
            "currency": "USD",
            "note": "They need an integrator for the rollout.",
        },
    )
    del made
    back = referrals.refer(
        second,
        first.partner,
        {
            "company_name": "Lindqvist Bygg AB",
            "domain": "lindqvist-bygg.se",
            "country": "SE",
            "amount": "45000",
            "currency": "EUR",
            "note": "Reseller coverage in the Nordics.",
        },
    )
    referrals.respond(first, back, True)
