"""Lead routing and referrals in the browser: staff route a lead to Acme and Acme accepts it in
its portal; Acme refers a customer to Globex and Globex accepts it."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from mutualist.cosell.models import LeadOffer, Referral
from mutualist.crm.models import Lead
from tests.browser.test_flows import log_in
from tests.conftest import T0, World

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def log_out(page: Any) -> None:
    page.get_by_role("button", name="Log out").click()


def test_staff_route_a_lead_and_the_partner_accepts(
    page: Any, live_server: Any, world: World
) -> None:
    base = live_server.url
    lead = Lead.objects.create(company="Vandelay Industries", created_at=T0, country="US")

    log_in(page, base, "alice")
    page.goto(f"{base}/cosell/offers/")
    page.get_by_test_id("unrouted-leads").get_by_role(
        "link", name="Route Vandelay Industries"
    ).click()
    expect(page.get_by_role("heading", name="Route Vandelay Industries")).to_be_visible()
    suggestion = page.get_by_test_id(f"suggestion-{world.acme.pk}")
    assert "based in US, like the lead" in suggestion.inner_text()
    suggestion.get_by_role("button", name="Offer to Acme").click()
    assert page.get_by_test_id("offer-status").inner_text() == "Offered"
    log_out(page)

    log_in(page, base, "acme_user")
    page.goto(f"{base}/cosell/offers/")
    page.get_by_role("button", name="Accept Vandelay Industries").click()
    assert page.get_by_test_id("offer-status").inner_text() == "Accepted"
    lead.refresh_from_db()
    assert lead.partner == world.acme
    assert LeadOffer.objects.get(lead=lead).responded_by == world.acme_user


def test_a_partner_refers_a_customer_and_the_other_accepts(
    page: Any, live_server: Any, world: World
) -> None:
    base = live_server.url
    log_in(page, base, "acme_admin")
    page.goto(f"{base}/cosell/referrals/")
    page.get_by_role("link", name="Refer a customer").click()
    page.get_by_label("Refer to").select_option(label="Globex")
    page.get_by_label("Company").fill("Pied Piper")
    page.get_by_label("Web domain").fill("https://www.piedpiper.com/")
    page.get_by_label("Country").fill("US")
    page.get_by_label("Estimated amount").fill("40000")
    page.get_by_label("Note for the partner").fill("They need a compression ISV.")
    page.get_by_role("button", name="Send referral").click()
    assert page.get_by_test_id("referral-status").inner_text() == "Offered"
    log_out(page)

    log_in(page, base, "globex_user")
    page.goto(f"{base}/cosell/referrals/")
    page.get_by_test_id("referral-table").get_by_role("link", name="Pied Piper").click()
    page.get_by_role("button", name="Accept referral").click()
    assert page.get_by_test_id("referral-status").inner_text() == "Accepted"
    page.get_by_role("link", name="Pied Piper (referral)").click()
    expect(page.get_by_role("heading", name="Pied Piper (referral)")).to_be_visible()
    referral = Referral.objects.get(company_name="Pied Piper")
    assert referral.opportunity is not None
    assert sorted(referral.opportunity.involvements.values_list("partner__name", "role")) == [
        ("Acme", "sourced"),
        ("Globex", "influenced"),
    ]
