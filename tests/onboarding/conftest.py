"""An onboarding template like the demo's, small enough to reason about, and Acme in onboarding
with a journey started from it on T0.

Phase 1 "Welcome" (not gated): kickoff call (vendor, day 3), name contacts (partner, day 7).
Phase 2 "Enablement" (gated): sales training (partner, day 20), certification (partner, day 30,
depends on the training). Phase 3 "Integration" (not gated): API keys (vendor, engineering,
day 25), connector build (partner, day 40, depends on API keys).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from mutualist.onboarding import actions
from mutualist.onboarding.models import Journey, JourneyTemplate, Task, TaskTemplate
from mutualist.partners.models import Partner
from tests.conftest import T0, World


def put_in_onboarding(partner: Partner) -> Partner:
    Partner.objects.filter(pk=partner.pk).update(status="onboarding")
    partner.refresh_from_db()
    return partner


def standard_template(world: World, default: bool = True) -> JourneyTemplate:
    cpo = world.cpo
    template = actions.create_template(cpo, {"name": "Standard onboarding", "is_default": default})
    welcome = actions.add_phase(cpo, template, {"name": "Welcome"})
    enablement = actions.add_phase(cpo, template, {"name": "Enablement", "gated": True})
    integration = actions.add_phase(cpo, template, {"name": "Integration"})

    def task(phase: Any, title: str, side: str, days: int, **more: Any) -> TaskTemplate:
        return actions.add_task(
            cpo, phase, {"title": title, "owner_side": side, "due_days": days, **more}
        )

    task(welcome, "Kickoff call", "vendor", 3, kind="contact")
    task(welcome, "Name contacts", "partner", 7, kind="contact")
    training = task(enablement, "Sales training", "partner", 20, kind="training")
    task(
        enablement,
        "Sales certification",
        "partner",
        30,
        kind="certification",
        depends_on=[training.pk],
    )
    keys = task(integration, "API keys", "vendor", 25, kind="integration", owner_role="engineering")
    task(integration, "Connector build", "partner", 40, kind="integration", depends_on=[keys.pk])
    return template


@dataclass
class Onboarding:
    world: World
    template: JourneyTemplate
    journey: Journey

    def task(self, title: str) -> Task:
        return self.journey.tasks.select_related("journey__partner", "phase").get(title=title)


@pytest.fixture
def onboarding(world: World) -> Onboarding:
    template = standard_template(world)
    put_in_onboarding(world.acme)
    journey = actions.start_journey(world.alice, world.acme, at=T0)
    return Onboarding(world, template, journey)


def journey_for_matrix(world: World) -> dict[str, int]:
    """Ids for the access matrix: Acme's journey, one of Acme's own tasks, the template."""
    template = standard_template(world)
    put_in_onboarding(world.acme)
    journey = actions.start_journey(world.cpo, world.acme, at=T0)
    task = journey.tasks.get(title="Name contacts")
    return {"journey_id": journey.pk, "task_id": task.pk, "journey_template_id": template.pk}
