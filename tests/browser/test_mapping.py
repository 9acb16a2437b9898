"""Account mapping in the browser: opt in on both sides, set a rule, read the matrix and drill
into a cell, as vendor staff and as the partner."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.test_flows import log_in
from tests.overlaps.conftest import Mapped

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_out(page: Any) -> None:
    page.get_by_role("button", name="Log out").click()


def share_customers(page: Any, base: str, partner_id: int, mine: str) -> None:
    page.goto(f"{base}/mapping/{partner_id}/sharing/")
    page.get_by_role("button", name="Opt in to account mapping").click()
    assert "opted in" in page.get_by_test_id("opt-in-state").inner_text()
    row = page.get_by_test_id(f"rule-{mine}")
    row.get_by_label("Level for Customers").select_option("overlaps")
    row.get_by_role("button", name="Save").click()
    assert (
        "overlaps"
        in page.get_by_test_id("rule-customers").get_by_label("Level for Customers").input_value()
    )


def test_matrix_and_drill_down_as_vendor_and_as_partner(
    page: Any, live_server: Any, mapped: Mapped
) -> None:
    base, acme = live_server.url, mapped.world.acme

    log_in(page, base, "alice")
    page.get_by_role("link", name="Mapping", exact=True).click()
    page.get_by_role("link", name="Acme").click()
    assert "Neither side has opted in" in page.get_by_test_id("mapping-state").inner_text()
    share_customers(page, base, acme.pk, "customers")
    log_out(page)

    log_in(page, base, "acme_admin")
    page.get_by_role("link", name="Account mapping", exact=True).click()
    assert (
        "The vendor has opted in; you have not" in page.get_by_test_id("mapping-state").inner_text()
    )
    share_customers(page, base, acme.pk, "customers")
    # The preview shows what the vendor now sees of Acme's customers.
    assert "8" in page.get_by_test_id("preview-matrix").inner_text()
    page.get_by_role("link", name="← Matrix").click()
    matrix = page.get_by_test_id("overlap-matrix")
    assert matrix.get_by_test_id("cell-customers-open-opportunities").inner_text() == "fewer than 5"
    matrix.get_by_test_id("cell-customers-customers").get_by_role("link", name="8").click()
    rows = page.get_by_test_id("overlap-rows")
    assert page.get_by_test_id("result-count").inner_text() == "8 companies"
    assert rows.get_by_text("Aldercrest Ltd").is_visible()  # the vendor's record, shared fields
    assert "Umbrella" not in page.content()  # a vendor prospect, not shared
    log_out(page)

    log_in(page, base, "alice")
    page.goto(f"{base}/mapping/{acme.pk}/")
    page.get_by_test_id("cell-customers-customers").get_by_role("link", name="8").click()
    page.get_by_role("searchbox", name="Search").fill("alder")
    page.get_by_role("button", name="Search").click()
    assert page.get_by_test_id("result-count").inner_text() == "1 company"
    assert page.get_by_test_id("overlap-rows").get_by_text("Aldercrest Limited").is_visible()


def test_an_outsider_partner_gets_404_for_the_matrix(
    page: Any, live_server: Any, mapped: Mapped
) -> None:
    log_in(page, live_server.url, "globex_user")
    response = page.goto(f"{live_server.url}/mapping/{mapped.world.acme.pk}/")
    assert response.status == 404
