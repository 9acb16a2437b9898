from __future__ import annotations

from typing import Any

import pytest

from tests.browser.test_flows import log_in
from tests.conftest import World
from tests.fit.conftest import definition, prospect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_scoring_a_prospect(page: Any, live_server: Any, world: World) -> None:
    from mutualist.fit import actions
    from mutualist.partners.models import Segment

    for kind, code, name in (("industry", "retail", "Retail"), ("technology", "cloud", "Cloud")):
        Segment.objects.get_or_create(kind=kind, code=code, defaults={"name": name})
    actions.publish(world.cpo, actions.create_scorecard(world.cpo, "Partner fit", definition()))
    hooli = prospect("Hooli")
    log_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}/fit/")
    page.get_by_test_id("fit-ranking").get_by_role("link", name="Hooli").click()
    page.get_by_label("Strategic fit", exact=True).fill("4")
    page.get_by_label("Evidence for Strategic fit").fill("Discovery call")
    page.get_by_label("Cultural fit", exact=True).fill("5")
    page.get_by_role("button", name="Save assessment").click()
    page.wait_for_url(f"**/fit/partners/{hooli.pk}/")
    assert page.get_by_test_id("fit-score").inner_text() == "52.0"  # 32 + 20 + 0 computed
    explanation = page.get_by_test_id("fit-explanation").inner_text()
    assert "mean of 1 reviewer" in explanation and "covers 0 of 2 target segments" in explanation
    assert "strategic ≥ 3.0: passed" in page.get_by_test_id("fit-gates").inner_text()
