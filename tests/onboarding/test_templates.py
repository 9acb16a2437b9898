from __future__ import annotations

import pytest

from mutualist.lib.errors import NotAllowed, ValidationFailed
from mutualist.onboarding import actions
from mutualist.onboarding.models import JourneyTemplate, TaskTemplate
from tests.conftest import World
from tests.onboarding.conftest import standard_template


def test_it_builds_a_template_with_versions(world: World) -> None:
    first = standard_template(world)
    again = actions.create_template(world.cpo, {"name": "Standard onboarding"})
    assert (first.version, again.version) == (1, 2)
    assert [p.name for p in first.phases.all()] == ["Welcome", "Enablement", "Integration"]
    certification = TaskTemplate.objects.get(title="Sales certification")
    assert [d.title for d in certification.depends_on.all()] == ["Sales training"]


def test_it_rejects_negative_due_days(world: World) -> None:
    template = actions.create_template(world.cpo, {"name": "T"})
    phase = actions.add_phase(world.cpo, template, {"name": "One"})
    with pytest.raises(ValidationFailed) as exc:
        actions.add_task(world.cpo, phase, {"title": "x", "owner_side": "vendor", "due_days": -3})
    assert exc.value.errors == {
        "due_days": "is -3; give the number of days after the journey starts (0 or more)"
    }
    assert not TaskTemplate.objects.exists()


def test_it_names_bad_kind_side_and_missing_title(world: World) -> None:
    template = actions.create_template(world.cpo, {"name": "T"})
    phase = actions.add_phase(world.cpo, template, {"name": "One"})
    with pytest.raises(ValidationFailed) as exc:
        actions.add_task(world.cpo, phase, {"kind": "party", "owner_side": "both", "due_days": 1})
    assert set(exc.value.errors) == {"title", "kind", "owner_side"}
    assert "use one of: vendor, partner" in exc.value.errors["owner_side"]


def test_it_rejects_a_dependency_on_a_later_phase(world: World) -> None:
    standard_template(world)
    kickoff = TaskTemplate.objects.get(title="Kickoff call")
    keys = TaskTemplate.objects.get(title="API keys")
    with pytest.raises(ValidationFailed) as exc:
        actions.update_task(world.cpo, kickoff, {"depends_on": [keys.pk]})
    assert exc.value.errors["depends_on"] == (
        "'API keys' is in phase 3 (Integration), after this task's phase 1 (Welcome); "
        "a task can depend only on tasks of its own or earlier phases"
    )
    assert list(kickoff.depends_on.all()) == []


def test_it_rejects_a_cycle_and_names_it(world: World) -> None:
    standard_template(world)
    training = TaskTemplate.objects.get(title="Sales training")
    certification = TaskTemplate.objects.get(title="Sales certification")
    with pytest.raises(ValidationFailed) as exc:
        actions.update_task(world.cpo, training, {"depends_on": [certification.pk]})
    assert exc.value.errors["depends_on"] == (
        "this would make a cycle: 'Sales training' → 'Sales certification' → 'Sales training'; "
        "remove one of these dependencies"
    )
    assert list(training.depends_on.all()) == []


def test_it_rejects_a_task_of_another_template(world: World) -> None:
    standard_template(world)
    other = actions.create_template(world.cpo, {"name": "Other"})
    phase = actions.add_phase(world.cpo, other, {"name": "One"})
    keys = TaskTemplate.objects.get(title="API keys")
    with pytest.raises(ValidationFailed) as exc:
        actions.add_task(
            world.cpo,
            phase,
            {"title": "x", "owner_side": "vendor", "due_days": 1, "depends_on": [keys.pk]},
        )
    assert exc.value.errors["depends_on"].startswith(f"task {keys.pk} is not a task of Other v1")


def test_only_the_cpo_changes_templates(world: World) -> None:
    for user in (world.alice, world.ann):
        with pytest.raises(NotAllowed):
            actions.create_template(user, {"name": "Mine"})
    assert not JourneyTemplate.objects.exists()


def test_one_default_at_a_time(world: World) -> None:
    first = standard_template(world)
    second = actions.create_template(world.cpo, {"name": "Light", "is_default": True})
    first.refresh_from_db()
    assert (first.is_default, second.is_default) == (False, True)
    actions.set_default_template(world.cpo, first)
    assert actions.default_template() == first
