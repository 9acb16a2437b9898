"""The CPO edits journey templates on the template page and creates them on /onboarding/."""

from __future__ import annotations

import html
from typing import Any

import pytest
from django.test import Client

from mutualist.audit.models import AuditEntry
from mutualist.onboarding.models import JourneyTemplate, PhaseTemplate, TaskTemplate
from tests.conftest import World
from tests.onboarding.conftest import standard_template


def _url(template: JourneyTemplate) -> str:
    return f"/onboarding/templates/{template.pk}/"


def _post(world: World, user: Any, url: str, data: dict[str, Any]) -> Any:
    client: Client = world.client_for(user)
    return client.post(url, data)


def _text(response: Any) -> str:
    return html.unescape(response.content.decode())


def _snapshot() -> list[Any]:
    through = TaskTemplate.depends_on.through.objects.values_list(
        "from_tasktemplate_id", "to_tasktemplate_id"
    )
    tasks = TaskTemplate.objects.values_list("pk", "title", "due_days", "phase_id")
    return [*sorted(tasks), *sorted(through), PhaseTemplate.objects.count()]


def test_the_cpo_creates_a_template_from_the_index(world: World) -> None:
    response = _post(world, world.cpo, "/onboarding/", {"form": "template", "name": "Partner 101"})
    assert response.status_code == 302 and response["Location"] == "/onboarding/"
    template = JourneyTemplate.objects.get(name="Partner 101")
    assert (template.version, template.created_by) == (1, world.cpo)
    assert AuditEntry.objects.filter(action="onboarding.template_create").count() == 1
    page = world.client_for(world.cpo).get("/onboarding/")
    assert 'aria-label="New template"' in page.content.decode()


def test_a_blank_template_name_is_a_400_naming_the_field(world: World) -> None:
    response = _post(world, world.cpo, "/onboarding/", {"form": "template", "name": "   "})
    assert response.status_code == 400
    assert 'data-field="name"' in response.content.decode()
    assert not JourneyTemplate.objects.exists()


def test_the_cpo_adds_a_phase(world: World) -> None:
    template = standard_template(world)
    response = _post(
        world, world.cpo, _url(template), {"form": "phase", "name": "Launch", "gated": "1"}
    )
    assert response.status_code == 302 and response["Location"] == _url(template)
    phase = template.phases.get(name="Launch")
    assert (phase.order, phase.gated) == (4, True)
    assert AuditEntry.objects.filter(action="onboarding.phase_create").count() == 4


def test_a_taken_phase_order_is_a_400_keeping_the_typed_values(world: World) -> None:
    template = standard_template(world)
    response = _post(world, world.cpo, _url(template), {"form": "phase", "name": "Dup", "order": 2})
    assert response.status_code == 400
    text = _text(response)
    assert "phase 2 exists already" in text
    assert 'value="Dup"' in text and 'value="2"' in text
    assert not template.phases.filter(name="Dup").exists()


def test_the_cpo_adds_a_task_with_dependencies(world: World) -> None:
    template = standard_template(world)
    integration = template.phases.get(name="Integration")
    kickoff = TaskTemplate.objects.get(title="Kickoff call")
    keys = TaskTemplate.objects.get(title="API keys")
    response = _post(
        world,
        world.cpo,
        _url(template),
        {
            "form": "task_new",
            "phase": integration.pk,
            "title": "Sandbox access",
            "kind": "integration",
            "owner_side": "vendor",
            "owner_role": "engineering",
            "due_days": "10",
            "depends_on": [kickoff.pk, keys.pk],
        },
    )
    assert response.status_code == 302 and response["Location"] == _url(template)
    task = TaskTemplate.objects.get(title="Sandbox access")
    assert (task.phase, task.kind, task.owner_side, task.owner_role, task.due_days) == (
        integration,
        "integration",
        "vendor",
        "engineering",
        10,
    )
    assert sorted(task.depends_on.values_list("pk", flat=True)) == sorted([kickoff.pk, keys.pk])
    assert AuditEntry.objects.filter(action="onboarding.task_template_create").count() == 7


def test_the_cpo_edits_a_task(world: World) -> None:
    template = standard_template(world)
    training = TaskTemplate.objects.get(title="Sales training")
    certification = TaskTemplate.objects.get(title="Sales certification")
    kickoff = TaskTemplate.objects.get(title="Kickoff call")
    response = _post(
        world,
        world.cpo,
        _url(template),
        {
            "form": "task_edit",
            "task": certification.pk,
            "title": "Sales exam",
            "kind": "certification",
            "owner_side": "partner",
            "owner_role": "sales",
            "due_days": "45",
            "depends_on": [training.pk, kickoff.pk],
        },
    )
    assert response.status_code == 302
    certification.refresh_from_db()
    assert (certification.title, certification.owner_role, certification.due_days) == (
        "Sales exam",
        "sales",
        45,
    )
    assert sorted(certification.depends_on.values_list("pk", flat=True)) == sorted(
        [training.pk, kickoff.pk]
    )
    assert AuditEntry.objects.filter(action="onboarding.task_template_update").count() == 1


def test_the_cpo_deletes_a_task(world: World) -> None:
    template = standard_template(world)
    connector = TaskTemplate.objects.get(title="Connector build")
    response = _post(
        world, world.cpo, _url(template), {"form": "task_delete", "task": connector.pk}
    )
    assert response.status_code == 302
    assert not TaskTemplate.objects.filter(pk=connector.pk).exists()
    entry = AuditEntry.objects.get(action="onboarding.task_template_delete")
    assert entry.object_id == str(connector.pk)


def test_a_task_others_depend_on_is_not_deleted(world: World) -> None:
    template = standard_template(world)
    keys = TaskTemplate.objects.get(title="API keys")
    response = _post(world, world.cpo, _url(template), {"form": "task_delete", "task": keys.pk})
    assert response.status_code == 409
    assert "prerequisite of 'Connector build'" in _text(response)
    assert TaskTemplate.objects.filter(pk=keys.pk).exists()


def _edit(world: World, template: JourneyTemplate, task: TaskTemplate, **more: Any) -> Any:
    data = {
        "form": "task_edit",
        "task": task.pk,
        "title": task.title,
        "kind": task.kind,
        "owner_side": task.owner_side,
        "owner_role": task.owner_role,
        "due_days": str(task.due_days),
        **more,
    }
    return _post(world, world.cpo, _url(template), data)


def test_a_cycle_is_a_400_naming_it_and_stores_nothing(world: World) -> None:
    template = standard_template(world)
    training = TaskTemplate.objects.get(title="Sales training")
    certification = TaskTemplate.objects.get(title="Sales certification")
    before = _snapshot()
    response = _edit(world, template, training, title="Renamed", depends_on=[certification.pk])
    assert response.status_code == 400
    text = _text(response)
    assert "this would make a cycle: 'Sales training' → 'Sales certification' → " in text
    assert 'value="Renamed"' in text
    assert _snapshot() == before


def test_a_dependency_on_a_later_phase_is_a_400_and_stores_nothing(world: World) -> None:
    template = standard_template(world)
    welcome = template.phases.get(name="Welcome")
    keys = TaskTemplate.objects.get(title="API keys")
    before = _snapshot()
    response = _post(
        world,
        world.cpo,
        _url(template),
        {
            "form": "task_new",
            "phase": welcome.pk,
            "title": "Too early",
            "owner_side": "vendor",
            "due_days": "1",
            "depends_on": [keys.pk],
        },
    )
    assert response.status_code == 400
    assert "'API keys' is in phase 3 (Integration), after this task's phase 1" in _text(response)
    assert 'value="Too early"' in _text(response)
    assert _snapshot() == before


@pytest.mark.parametrize("form", ["task_new", "task_edit"])
def test_negative_due_days_is_a_400_and_stores_nothing(world: World, form: str) -> None:
    template = standard_template(world)
    kickoff = TaskTemplate.objects.get(title="Kickoff call")
    before = _snapshot()
    if form == "task_edit":
        response = _edit(world, template, kickoff, due_days="-4")
    else:
        response = _post(
            world,
            world.cpo,
            _url(template),
            {
                "form": "task_new",
                "phase": kickoff.phase_id,
                "title": "Late",
                "owner_side": "vendor",
                "due_days": "-4",
            },
        )
    assert response.status_code == 400
    text = _text(response)
    assert 'data-field="due_days"' in text
    assert "is -4; give the number of days after the journey starts (0 or more)" in text
    assert 'value="-4"' in text
    assert _snapshot() == before


def _every_form(template: JourneyTemplate) -> list[tuple[str, dict[str, Any]]]:
    phase = template.phases.get(name="Welcome")
    task = TaskTemplate.objects.get(title="Kickoff call")
    new_task = {"title": "x", "owner_side": "vendor", "due_days": "1"}
    return [
        ("/onboarding/", {"form": "template", "name": "Sneaky"}),
        (_url(template), {"form": "phase", "name": "Sneaky"}),
        (_url(template), {"form": "task_new", "phase": phase.pk, **new_task}),
        (_url(template), {"form": "task_edit", "task": task.pk, **new_task}),
        (_url(template), {"form": "task_delete", "task": task.pk}),
    ]


@pytest.mark.parametrize(("username", "status"), [("alice", 403), ("ann", 403), ("acme_user", 404)])
def test_only_the_cpo_edits_templates(world: World, username: str, status: int) -> None:
    template = standard_template(world)
    before = _snapshot()
    user = getattr(world, username)
    for url, data in _every_form(template):
        assert _post(world, user, url, data).status_code == status, (url, data["form"])
    assert _snapshot() == before
    assert not JourneyTemplate.objects.filter(name="Sneaky").exists()
    if status == 403:
        page = world.client_for(user).get(_url(template)).content.decode()
        assert 'name="form"' not in page
