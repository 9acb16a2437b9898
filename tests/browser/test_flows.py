from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD, World

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/")


def test_login_wrong_password_then_right(page: Any, live_server: Any, world: World) -> None:
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("User name").fill("cpo")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Log in").click()
    assert "did not match" in page.get_by_role("alert").inner_text()
    log_in(page, live_server.url, "cpo")
    assert page.get_by_role("heading", name="Your partner ecosystem").is_visible()


def test_directory_filters_narrow_the_list(page: Any, live_server: Any, world: World) -> None:
    log_in(page, live_server.url, "ann")
    page.get_by_role("link", name="Partners", exact=True).click()
    table = page.get_by_test_id("partner-table")
    assert table.get_by_role("link", name="Acme").is_visible()
    assert table.get_by_role("link", name="Globex").is_visible()
    page.get_by_label("Type").select_option("isv")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**type=isv**")
    assert page.get_by_test_id("result-count").inner_text() == "1 result"
    assert table.get_by_role("link", name="Globex").is_visible()
    assert table.get_by_role("link", name="Acme").count() == 0
    page.get_by_label("Search").fill("acme")
    page.get_by_label("Type").select_option("")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**q=acme**")
    assert table.get_by_role("link", name="Acme").is_visible()
    assert table.get_by_role("link", name="Globex").count() == 0


def test_partner_user_portal_is_isolated(page: Any, live_server: Any, world: World) -> None:
    log_in(page, live_server.url, "acme_user")
    assert page.get_by_role("heading", name="Acme · partner portal").is_visible()
    content = page.content()
    assert "Globex" not in content and "Pied Piper" not in content
    page.get_by_role("link", name="Opportunities", exact=True).click()
    # After a click, expect() waits for the next page; is_visible() would look at once.
    expect(page.get_by_role("link", name="Initech expansion")).to_be_visible()
    assert "Umbrella" not in page.content()
    response = page.goto(f"{live_server.url}/partners/{world.globex.pk}/")
    assert response.status == 404
    response = page.goto(f"{live_server.url}/crm/opportunities/{world.globex_opp.pk}/")
    assert response.status == 404
    page.goto(f"{live_server.url}/crm/opportunities/{world.shared_opp.pk}/")
    assert "Acme" in page.content() and "Globex" not in page.content()
