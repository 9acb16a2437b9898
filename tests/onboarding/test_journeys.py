from __future__ import annotations

import datetime as dt

import pytest
from django.http import Http404

from mutualist.audit.models import AuditEntry
from mutualist.cosell.models import Notification
from mutualist.lib.errors import Conflict, NotAllowed, ValidationFailed
from mutualist.onboarding import actions
from mutualist.onboarding.models import Journey, Task
from mutualist.partners import actions as partner_actions
from tests.conftest import T0, World
from tests.onboarding.conftest import Onboarding, put_in_onboarding, standard_template


def test_it_starts_from_the_default_template(onboarding: Onboarding) -> None:
    journey, w = onboarding.journey, onboarding.world
    assert (journey.partner, journey.template_version, journey.status) == (w.acme, 1, "active")
    due = dict(journey.tasks.values_list("title", "due_on"))
    assert due["Kickoff call"] == dt.date(2025, 1, 18)
    assert due["Connector build"] == dt.date(2025, 2, 24)
    # The vendor's tasks go to the alliance manager unless a team is named.
    assert onboarding.task("Kickoff call").assignee == w.alice
    assert onboarding.task("API keys").assignee is None
    assert [d.title for d in onboarding.task("Connector build").depends_on.all()] == ["API keys"]
    assert AuditEntry.objects.filter(action="onboarding.start").count() == 1
    # Acme's people hear about the partner tasks they can do now, in one notification each.
    text = Notification.objects.get(user=w.acme_user).text
    assert text == "Acme onboarding: these tasks are yours to do: 'Name contacts'."


def test_it_refuses_a_partner_not_in_onboarding(world: World) -> None:
    standard_template(world)
    with pytest.raises(Conflict, match="Acme is active, not onboarding"):
        actions.start_journey(world.alice, world.acme)
    assert not Journey.objects.exists()


def test_it_refuses_a_second_journey(onboarding: Onboarding) -> None:
    w = onboarding.world
    with pytest.raises(Conflict, match="has a journey under way since 2025-01-15"):
        actions.start_journey(w.cpo, w.acme)
    assert Journey.objects.count() == 1


def test_who_may_start(world: World) -> None:
    standard_template(world)
    put_in_onboarding(world.acme)
    with pytest.raises(NotAllowed):
        actions.start_journey(world.bob, world.acme)  # Globex's manager
    with pytest.raises(NotAllowed):
        actions.start_journey(world.ann, world.acme)
    with pytest.raises(NotAllowed):
        actions.start_journey(world.acme_admin, world.acme)
    with pytest.raises(Http404):
        actions.start_journey(world.globex_user, world.acme)
    assert not Journey.objects.exists()


def test_a_gated_phase_waits_and_the_error_names_the_blocker(onboarding: Onboarding) -> None:
    w = onboarding.world
    training = onboarding.task("Sales training")
    with pytest.raises(Conflict) as exc:
        actions.complete_task(w.acme_user, training)
    assert str(exc.value) == (
        "'Sales training' cannot be completed yet: phase 'Welcome' is not complete "
        "('Kickoff call', 'Name contacts' open)."
    )
    assert Task.objects.get(pk=training.pk).status == "open"
    actions.complete_task(w.alice, onboarding.task("Kickoff call"))
    actions.complete_task(w.acme_user, onboarding.task("Name contacts"))
    done = actions.complete_task(w.acme_user, training, "All 6 sellers attended")
    assert (done.status, done.completed_by, done.note) == (
        "done",
        w.acme_user,
        "All 6 sellers attended",
    )


def test_a_dependency_blocks_and_is_named(onboarding: Onboarding) -> None:
    w = onboarding.world
    with pytest.raises(Conflict) as exc:
        actions.complete_task(w.acme_user, onboarding.task("Connector build"))
    assert "'API keys' (Integration) is not done" in str(exc.value)
    assert onboarding.task("Connector build").blocked_by == ["'API keys' (Integration) is not done"]
    Notification.objects.all().delete()
    actions.complete_task(w.cpo, onboarding.task("API keys"))
    assert not onboarding.task("Connector build").blocked
    # Acme's people are told the connector can start now.
    assert list(Notification.objects.filter(user=w.acme_admin).values_list("text", flat=True)) == [
        "Acme onboarding: these tasks can start now: 'Connector build'."
    ]


def test_who_completes_what(onboarding: Onboarding) -> None:
    w = onboarding.world
    contacts, kickoff = onboarding.task("Name contacts"), onboarding.task("Kickoff call")
    with pytest.raises(Http404):
        actions.complete_task(w.globex_user, contacts)  # another partner's task
    with pytest.raises(
        NotAllowed, match="This is Acme's task: its people complete it in the portal"
    ):
        actions.complete_task(w.alice, contacts)
    with pytest.raises(NotAllowed, match="vendor's task"):
        actions.complete_task(w.acme_admin, kickoff)
    with pytest.raises(NotAllowed):
        actions.complete_task(w.ann, kickoff)  # analysts read only
    with pytest.raises(NotAllowed):
        actions.complete_task(w.bob, kickoff)  # not Acme's manager
    assert Task.objects.filter(status="done").count() == 0
    actions.complete_task(w.acme_admin, contacts)
    actions.complete_task(w.alice, kickoff)
    assert Task.objects.filter(status="done").count() == 2


def test_a_certification_needs_evidence(onboarding: Onboarding) -> None:
    w = onboarding.world
    actions.complete_task(w.alice, onboarding.task("Kickoff call"))
    actions.complete_task(w.acme_user, onboarding.task("Name contacts"))
    actions.complete_task(w.acme_user, onboarding.task("Sales training"))
    certification = onboarding.task("Sales certification")
    with pytest.raises(ValidationFailed) as exc:
        actions.complete_task(w.acme_user, certification)
    assert exc.value.errors == {
        "evidence_url": "a certification needs evidence: paste the link to the certificate or "
        "the exam result"
    }
    with pytest.raises(ValidationFailed) as exc:
        actions.complete_task(w.acme_user, certification, evidence_url="certificate.pdf")
    assert "is not a web address" in exc.value.errors["evidence_url"]
    assert Task.objects.get(pk=certification.pk).status == "open"
    done = actions.complete_task(
        w.acme_user, certification, evidence_url="https://learn.example/cert/42"
    )
    assert done.evidence_url == "https://learn.example/cert/42"


def test_completing_twice_is_a_conflict(onboarding: Onboarding) -> None:
    w = onboarding.world
    actions.complete_task(w.acme_user, onboarding.task("Name contacts"))
    with pytest.raises(Conflict, match="'Name contacts' is done already by acme_user"):
        actions.complete_task(w.acme_admin, onboarding.task("Name contacts"))


def test_the_journey_completes_and_reopens(onboarding: Onboarding) -> None:
    w = onboarding.world
    actions.skip_task(w.alice, onboarding.task("Connector build"), "They resell only")
    for title, who in (
        ("Kickoff call", w.alice),
        ("Name contacts", w.acme_user),
        ("Sales training", w.acme_user),
        ("API keys", w.cpo),
    ):
        actions.complete_task(who, onboarding.task(title))
    actions.complete_task(
        w.acme_user, onboarding.task("Sales certification"), evidence_url="https://x.example/c"
    )
    journey = Journey.objects.get(pk=onboarding.journey.pk)
    assert journey.status == "completed" and journey.ended_at is not None
    with pytest.raises(Conflict, match="Acme's journey is completed; its tasks cannot change"):
        actions.complete_task(w.acme_user, onboarding.task("Connector build"))
    actions.reopen_task(w.acme_user, onboarding.task("Name contacts"), "wrong person named")
    journey.refresh_from_db()
    assert (journey.status, journey.ended_at) == ("active", None)
    assert onboarding.task("Name contacts").completed_by is None


def test_skip_needs_a_reason_and_a_manager(onboarding: Onboarding) -> None:
    w = onboarding.world
    task = onboarding.task("Connector build")
    with pytest.raises(ValidationFailed) as exc:
        actions.skip_task(w.alice, task, " ")
    assert exc.value.errors == {"reason": "is required: say why this task does not apply"}
    with pytest.raises(NotAllowed):
        actions.skip_task(w.acme_admin, task, "no")
    with pytest.raises(Http404):
        actions.skip_task(w.globex_user, task, "no")
    assert Task.objects.get(pk=task.pk).status == "open"


def test_assigning(onboarding: Onboarding) -> None:
    w = onboarding.world
    contacts, keys = onboarding.task("Name contacts"), onboarding.task("API keys")
    assert actions.assign_task(w.acme_admin, contacts, w.acme_user).assignee == w.acme_user
    with pytest.raises(ValidationFailed, match="pick one of Acme's people"):
        actions.assign_task(w.alice, contacts, w.globex_user)
    with pytest.raises(ValidationFailed, match="pick one of the vendor's people"):
        actions.assign_task(w.alice, keys, w.acme_user)
    with pytest.raises(NotAllowed):
        actions.assign_task(w.acme_user, contacts, w.acme_admin)  # users do not assign
    with pytest.raises(Http404):
        actions.assign_task(w.globex_user, contacts, None)
    assert actions.assign_task(w.alice, keys, w.cpo).assignee == w.cpo
    assert Notification.objects.filter(user=w.cpo, text__contains="'API keys' is yours").exists()


def test_cancel(onboarding: Onboarding) -> None:
    w = onboarding.world
    with pytest.raises(NotAllowed):
        actions.cancel_journey(w.ann, onboarding.journey, "x")
    journey = actions.cancel_journey(w.alice, onboarding.journey, "Deal fell through")
    assert (journey.status, journey.cancel_reason) == ("cancelled", "Deal fell through")
    with pytest.raises(Conflict, match="journey is cancelled"):
        actions.complete_task(w.acme_user, onboarding.task("Name contacts"))


def test_overdue_owners_are_told_once(onboarding: Onboarding) -> None:
    Notification.objects.all().delete()
    assert actions.sweep_overdue(dt.date(2025, 1, 20)) == 1  # the kickoff, due 18 January
    assert list(Notification.objects.values_list("user__username", "text")) == [
        ("alice", "Acme onboarding: overdue: 'Kickoff call'.")
    ]
    assert actions.sweep_overdue(dt.date(2025, 1, 21)) == 0


def test_entering_onboarding_starts_the_default_journey(world: World) -> None:
    standard_template(world)
    world.acme.status = "negotiating"
    world.acme.save()
    partner_actions.change_status(world.alice, world.acme, "onboarding", "contract signed")
    journey = world.acme.journeys.get()  # started by the status change
    assert (journey.status, journey.tasks.count()) == ("active", 6)
    assert actions.on_status_change(world.acme, "onboarding", world.alice) is None  # one at a time
    partner_actions.change_status(world.alice, world.acme, "exited", "no fit")
    journey.refresh_from_db()
    assert journey.status == "cancelled"


def test_no_default_template_starts_nothing(world: World) -> None:
    standard_template(world, default=False)
    put_in_onboarding(world.acme)
    assert actions.on_status_change(world.acme, "onboarding", world.alice) is None
    with pytest.raises(Conflict, match="no default journey template"):
        actions.start_journey(world.alice, world.acme)


def test_started_at_is_kept(onboarding: Onboarding) -> None:
    assert onboarding.journey.started_at == T0
