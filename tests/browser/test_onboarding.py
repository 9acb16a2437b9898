"""In a browser: one of Acme's people completes an onboarding task in the portal and sees the
journey's progress go up."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.test_flows import log_in
from tests.conftest import World

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_acme_user_completes_an_onboarding_task(page: Any, live_server: Any, world: World) -> None:
    from mutualist.onboarding import actions
    from tests.onboarding.conftest import put_in_onboarding, standard_template

    standard_template(world)
    put_in_onboarding(world.acme)
    actions.start_journey(world.alice, world.acme)
    log_in(page, live_server.url, "acme_user")
    page.goto(f"{live_server.url}/onboarding/")
    assert page.get_by_test_id("percent-done").inner_text() == "0%"
    assert page.get_by_role("heading", name="Your onboarding with us").is_visible()
    page.get_by_label("Note for Name contacts").fill("Jane Doe leads, Raj is technical")
    page.get_by_role("button", name="Mark 'Name contacts' done").click()
    assert page.get_by_test_id("percent-done").inner_text() == "17%"
    row = page.locator("tr", has_text="Name contacts")
    assert "Done" in row.inner_text()
    assert "Jane Doe leads, Raj is technical" in row.inner_text()
    # The vendor's kickoff call is not the partner's to complete: no button for it.
    assert page.get_by_role("button", name="Mark 'Kickoff call' done").count() == 0
