from __future__ import annotations

from django.utils import timezone

from mutualist.onboarding import demo, progress
from mutualist.onboarding.models import Journey
from tests.conftest import World
from tests.onboarding.conftest import put_in_onboarding


def test_the_demo_starts_journeys_with_work_done_and_overdue(world: World) -> None:
    put_in_onboarding(world.acme)
    put_in_onboarding(world.globex)
    demo.load()
    journeys = list(Journey.objects.order_by("partner__name"))
    assert [j.partner.name for j in journeys] == ["Acme", "Globex"]
    assert all(j.template.name == "Standard partner onboarding" for j in journeys)
    for journey in journeys:
        figures = progress.of(journey, timezone.localdate())
        assert figures.total == 15
        assert 0 < figures.done < figures.total
        assert figures.overdue, journey.partner.name
