"""In a browser: alice, Acme's alliance manager, approves Acme's tier proposal and sees it applied."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from tests.browser.test_flows import log_in
from tests.conftest import World

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_alice_approves_acmes_tier_change(page: Any, live_server: Any, world: World) -> None:
    from mutualist.partners.models import TierChange
    from mutualist.tiers import actions
    from mutualist.tiers.evaluate import evaluate

    TierChange.objects.create(
        partner=world.acme, tier="gold", effective_from=world.acme.created_at, reason="initial"
    )
    program = actions.create_program(world.cpo, {"name": "Partner program", "grace_days": 0})
    actions.add_level(world.cpo, program, {"tier": "registered", "rank": 1})
    actions.add_level(
        world.cpo,
        program,
        {"tier": "gold", "rank": 2, "rules": [{"metric": "sourced_revenue", "threshold": 1}]},
    )
    # Acme sourced nothing in the last year: a downgrade to registered, due today (no grace).
    evaluate(program, timezone.now().date())
    log_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}/tiers/")
    queue = page.get_by_test_id("proposal-queue")
    queue.get_by_role("row", name="Acme").get_by_role("link", name="Decide").click()
    assert page.get_by_test_id("proposal-status").inner_text() == "Proposed"
    page.get_by_label("Decision note").fill("Agreed at the quarterly review")
    page.get_by_role("button", name="Approve").click()
    assert page.get_by_test_id("proposal-status").inner_text() == "Applied"
    assert page.get_by_test_id("applied-at").is_visible()
    page.get_by_role("link", name="Acme's tier").click()
    assert page.get_by_test_id("current-tier").inner_text() == "registered"
    assert "approved by alice" in page.get_by_test_id("tier-history").inner_text()
