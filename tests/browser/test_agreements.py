"""In a browser: the legal, finance and operations approvers each sign off Acme's agreement;
it shows Signed, Acme's targets appear for Acme's people, each with its review periods."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.test_flows import log_in
from tests.conftest import World

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def test_approving_an_agreement_through_all_sign_offs(
    page: Any, live_server: Any, world: World
) -> None:
    from tests.agreements.helpers import in_review, make_approvers, make_template

    make_approvers()
    agreement = in_review(world.alice, world.acme, make_template(world.cpo))
    url = f"{live_server.url}/agreements/{agreement.pk}/"
    for username, label in (
        ("legal", "Approver (legal)"),
        ("finance", "Approver (finance)"),
        ("ops", "Approver (operations)"),
    ):
        page.context.clear_cookies()
        log_in(page, live_server.url, username)
        page.goto(url)
        assert page.get_by_test_id("agreement-status").inner_text() == "In review"
        page.get_by_role("button", name=f"Approve version 1 as {label}").click()
        page.wait_for_url(url)
        assert f"Approved by {username}" in page.get_by_test_id("approvals").inner_text()
    assert page.get_by_test_id("agreement-status").inner_text() == "Signed"
    page.context.clear_cookies()
    log_in(page, live_server.url, "acme_user")
    page.goto(f"{live_server.url}/agreements/partner/{world.acme.pk}/")
    targets = page.get_by_test_id("partner-targets").inner_text()
    assert "Sourced pipeline" in targets and "500000.00" in targets
    assert "Certified sellers" in targets
    # the target's own page: each review period with actual against target
    page.get_by_role("link", name="Sourced pipeline").click()
    periods = page.get_by_test_id("target-periods").inner_text()
    assert "2026-01-01 \u2013 2026-03-31" in periods  # the first quarter of the agreement
    assert "Sourced pipeline created" in page.get_by_test_id("target-metric").inner_text()
