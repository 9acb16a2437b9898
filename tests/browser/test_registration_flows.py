"""Deal registration in the browser: a partner registers, a second partner meets the conflict
and appeals; staff approve within the service level, extend, and the protection expires."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from mutualist.cosell import registrations
from mutualist.cosell.models import DealRegistration
from tests.browser.test_flows import log_in
from tests.conftest import World

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def register(page: Any, base: str, company: str, domain: str) -> None:
    page.goto(f"{base}/cosell/registrations/new/")
    page.get_by_label("Customer company").fill(company)
    page.get_by_label("Web domain").fill(domain)
    page.get_by_label("Country").fill("US")
    page.get_by_label("Contact", exact=True).fill("Gavin Belson")
    page.get_by_label("Product").fill("Platform")
    page.get_by_label("Estimated amount").fill("25000")
    page.get_by_label("Expected close date").fill(
        (timezone.localdate() + dt.timedelta(days=45)).isoformat()
    )
    page.get_by_role("button", name="Submit registration").click()
    page.wait_for_url("**/cosell/registrations/*/")


def log_out(page: Any) -> None:
    page.get_by_role("button", name="Log out").click()


def test_register_meet_a_conflict_and_appeal(page: Any, live_server: Any, resolved: World) -> None:
    base = live_server.url
    log_in(page, base, "acme_user")
    register(page, base, "Hooli Inc.", "hooli.com")
    assert page.get_by_test_id("registration-status").inner_text() == "Pending review"
    log_out(page)

    log_in(page, base, "globex_user")
    register(page, base, "HOOLI", "https://www.hooli.com/")
    assert page.get_by_test_id("registration-status").inner_text() == "Conflict"
    reasons = page.get_by_test_id("reasons").inner_text()
    assert "Another partner registered this company first" in reasons and "Acme" not in reasons
    page.get_by_label("Appeal this decision").fill("We met Hooli at our own event in March.")
    page.get_by_role("button", name="Appeal").click()
    assert "Appeal open" in page.content()
    log_out(page)

    log_in(page, base, "bob")
    page.get_by_role("link", name="Registrations", exact=True).click()
    expect(page.get_by_test_id("registration-table").get_by_text("appealed")).to_be_visible()


def test_approve_within_the_service_level_extend_and_expire(
    page: Any, live_server: Any, resolved: World
) -> None:
    base = live_server.url
    r = registrations.submit(
        resolved.acme_user,
        {
            "company_name": "Pied Piper",
            "domain": "piedpiper.com",
            "country": "US",
            "contact_name": "Richard",
            "product": "Compression",
            "amount": "50000",
            "currency": "USD",
            "expected_close": (timezone.localdate() + dt.timedelta(days=30)).isoformat(),
        },
    )
    log_in(page, base, "alice")
    page.get_by_role("link", name="Registrations", exact=True).click()
    assert "1 waiting for a decision" in " ".join(page.get_by_test_id("sla").inner_text().split())
    page.get_by_role("link", name="Pied Piper").click()
    page.get_by_role("button", name="Approve and protect").click()
    assert page.get_by_test_id("registration-status").inner_text() == "Approved (protected)"
    first_until = page.get_by_test_id("protected-until").inner_text()
    log_out(page)

    log_in(page, base, "acme_user")
    page.goto(f"{base}/cosell/registrations/{r.pk}/")
    page.get_by_label("Extension reason").fill("Budget approval moved to next quarter")
    page.get_by_role("button", name="Ask for an extension").click()
    log_out(page)

    log_in(page, base, "alice")
    page.goto(f"{base}/cosell/registrations/{r.pk}/")
    page.get_by_role("button", name="Approve extension").click()
    extended = page.get_by_test_id("protected-until").inner_text()
    assert extended != first_until and "1 extension" in extended

    registrations.sweep(
        DealRegistration.objects.get(pk=r.pk).protected_until + dt.timedelta(seconds=1)
    )  # type: ignore[operator]
    page.reload()
    assert page.get_by_test_id("registration-status").inner_text() == "Expired"
