"""Every write of onboarding: templates (the CPO's), and journeys and their tasks.

Each action checks who may act, validates, writes in one transaction and leaves an audit entry.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from mutualist.accounts.models import User
from mutualist.accounts.roles import VENDOR_ROLES
from mutualist.audit.log import record
from mutualist.cosell.notify import deciders_for, notify, partner_people
from mutualist.lib import validate
from mutualist.lib.errors import Conflict, ValidationFailed
from mutualist.onboarding import access
from mutualist.onboarding.choices import RESOLVED, JourneyStatus, Kind, Side, TaskStatus
from mutualist.onboarding.models import (
    Journey,
    JourneyTemplate,
    Phase,
    PhaseTemplate,
    Task,
    TaskTemplate,
)
from mutualist.onboarding.state import blockers
from mutualist.partners.choices import Status
from mutualist.partners.models import Partner

NOTE_MAX = 2000
_URL = URLValidator(schemes=["http", "https"])


# --- templates ----------------------------------------------------------------------------


def _flag(value: Any) -> bool:
    return value in (True, "1", "true", "on", "yes")


def _int(data: Mapping[str, Any], field: str, errors: dict[str, str]) -> int | None:
    value = data.get(field)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        errors[field] = f"{value!r} is not a whole number"
        return None


def _text(data: Mapping[str, Any], field: str, max_length: int, errors: dict[str, str]) -> str:
    value = str(data.get(field) or "").strip()
    if problem := validate.text_error(value, max_length, required=True):
        errors[field] = problem
    return value


@transaction.atomic
def create_template(actor: User, data: Mapping[str, Any]) -> JourneyTemplate:
    """A new template, or the next version of one with the same name."""
    access.require_can_manage_templates(actor)
    errors: dict[str, str] = {}
    name = _text(data, "name", 200, errors)
    description = str(data.get("description") or "").strip()
    if errors:
        raise ValidationFailed(errors)
    latest = JourneyTemplate.objects.filter(name=name).aggregate(v=Max("version"))["v"] or 0
    is_default = _flag(data.get("is_default"))
    if is_default:
        JourneyTemplate.objects.filter(is_default=True).update(is_default=False)
    template = JourneyTemplate.objects.create(
        name=name,
        version=latest + 1,
        description=description,
        active=_flag(data.get("active", True)),
        is_default=is_default,
        created_by=actor,
    )
    record(actor, "onboarding.template_create", template, after={"version": template.version})
    return template


@transaction.atomic
def set_default_template(actor: User, template: JourneyTemplate) -> JourneyTemplate:
    access.require_can_manage_templates(actor)
    if not template.active:
        raise Conflict(f"{template} is retired; make it active before making it the default.")
    before = JourneyTemplate.objects.filter(is_default=True).first()
    JourneyTemplate.objects.filter(is_default=True).update(is_default=False)
    template.is_default = True
    template.save(update_fields=["is_default"])
    record(
        actor,
        "onboarding.template_default",
        template,
        before={"default": before.pk if before else None},
        after={"default": template.pk},
    )
    return template


@transaction.atomic
def add_phase(actor: User, template: JourneyTemplate, data: Mapping[str, Any]) -> PhaseTemplate:
    access.require_can_manage_templates(actor)
    errors: dict[str, str] = {}
    name = _text(data, "name", 200, errors)
    order = _int(data, "order", errors)
    if order is None and "order" not in errors:
        order = (template.phases.aggregate(o=Max("order"))["o"] or 0) + 1
    elif order is not None and order < 1:
        errors["order"] = f"is {order}; phases are numbered from 1"
    elif order is not None and template.phases.filter(order=order).exists():
        errors["order"] = f"phase {order} exists already; pick another number"
    if errors:
        raise ValidationFailed(errors)
    assert order is not None
    phase = PhaseTemplate.objects.create(
        template=template, order=order, name=name, gated=_flag(data.get("gated"))
    )
    record(actor, "onboarding.phase_create", phase, after={"template": template.pk})
    return phase


def _task_fields(data: Mapping[str, Any], partial: bool, errors: dict[str, str]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if not partial or "title" in data:
        fields["title"] = _text(data, "title", 200, errors)
    if "description" in data:
        fields["description"] = str(data.get("description") or "").strip()
    for field, choices, what in (
        ("kind", Kind.values, "task kind"),
        ("owner_side", Side.values, "side (who does the task)"),
    ):
        if not partial or field in data:
            value = str(data.get(field) or ("other" if field == "kind" else ""))
            if problem := validate.choice_error(value, choices, what):
                errors[field] = problem
            fields[field] = value
    if "owner_role" in data:
        fields["owner_role"] = str(data.get("owner_role") or "").strip()[:64]
    if not partial or "due_days" in data:
        days = _int(data, "due_days", errors)
        if days is None and "due_days" not in errors:
            errors["due_days"] = "is required: the number of days after the start it is due"
        elif days is not None and days < 0:
            errors["due_days"] = (
                f"is {days}; give the number of days after the journey starts (0 or more)"
            )
        fields["due_days"] = days
    if "order" in data:
        fields["order"] = _int(data, "order", errors)
    return fields


def _dependency_ids(data: Mapping[str, Any], errors: dict[str, str]) -> list[int] | None:
    if "depends_on" not in data:
        return None
    raw = data.get("depends_on") or []
    try:
        return sorted({int(v) for v in raw})
    except (TypeError, ValueError):
        errors["depends_on"] = "give the ids of the tasks this one depends on, as a list"
        return None


def _dependency_error(
    template: JourneyTemplate, phase: PhaseTemplate, task_id: int | None, depends_on: list[int]
) -> str | None:
    """A task may depend on tasks of its own or earlier phases of the same template, without
    a cycle. The message names the offending task (and the cycle)."""
    tasks = {t.pk: t for t in TaskTemplate.objects.filter(phase__template=template)}
    phases = {p.pk: p for p in template.phases.all()}
    for dep_id in depends_on:
        if dep_id not in tasks:
            return f"task {dep_id} is not a task of {template}; pick tasks of this template"
        if dep_id == task_id:
            return "a task cannot depend on itself"
        dep_phase = phases[tasks[dep_id].phase_id]
        if dep_phase.order > phase.order:
            return (
                f"'{tasks[dep_id].title}' is in phase {dep_phase.order} ({dep_phase.name}), "
                f"after this task's phase {phase.order} ({phase.name}); a task can depend only "
                "on tasks of its own or earlier phases"
            )
    if task_id is None:
        return None  # a new task has no dependents yet, so it cannot close a cycle
    graph: dict[int, list[int]] = defaultdict(list)
    for from_id, to_id in TaskTemplate.depends_on.through.objects.filter(
        from_tasktemplate__phase__template=template
    ).values_list("from_tasktemplate_id", "to_tasktemplate_id"):
        if from_id != task_id:
            graph[from_id].append(to_id)
    graph[task_id] = list(depends_on)
    path = _path_back(graph, task_id)
    if path:
        names = " → ".join(f"'{tasks[i].title}'" for i in path)
        return f"this would make a cycle: {names}; remove one of these dependencies"
    return None


def _path_back(graph: Mapping[int, list[int]], start: int) -> list[int]:
    """A dependency path from `start` back to itself, or []."""
    stack: list[tuple[int, list[int]]] = [(start, [start])]
    seen: set[int] = set()
    while stack:
        node, path = stack.pop()
        for nxt in graph.get(node, []):
            if nxt == start:
                return [*path, start]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, [*path, nxt]))
    return []


@transaction.atomic
def add_task(actor: User, phase: PhaseTemplate, data: Mapping[str, Any]) -> TaskTemplate:
    access.require_can_manage_templates(actor)
    errors: dict[str, str] = {}
    fields = _task_fields(data, partial=False, errors=errors)
    depends_on = _dependency_ids(data, errors) or []
    if "depends_on" not in errors and (
        problem := _dependency_error(phase.template, phase, None, depends_on)
    ):
        errors["depends_on"] = problem
    if errors:
        raise ValidationFailed(errors)
    if fields.get("order") is None:
        fields["order"] = (phase.tasks.aggregate(o=Max("order"))["o"] or 0) + 1
    task = TaskTemplate.objects.create(phase=phase, **fields)
    task.depends_on.set(depends_on)
    record(
        actor, "onboarding.task_template_create", task, after={**fields, "depends_on": depends_on}
    )
    return task


@transaction.atomic
def update_task(actor: User, task: TaskTemplate, data: Mapping[str, Any]) -> TaskTemplate:
    access.require_can_manage_templates(actor)
    errors: dict[str, str] = {}
    fields = _task_fields(data, partial=True, errors=errors)
    if fields.get("order", 0) is None:
        fields.pop("order")
    depends_on = _dependency_ids(data, errors)
    if (
        depends_on is not None
        and "depends_on" not in errors
        and (problem := _dependency_error(task.phase.template, task.phase, task.pk, depends_on))
    ):
        errors["depends_on"] = problem
    if errors:
        raise ValidationFailed(errors)
    before = {name: getattr(task, name) for name in fields}
    before["depends_on"] = sorted(task.depends_on.values_list("pk", flat=True))
    for name, value in fields.items():
        setattr(task, name, value)
    task.save()
    if depends_on is not None:
        task.depends_on.set(depends_on)
        fields["depends_on"] = depends_on
    record(actor, "onboarding.task_template_update", task, before=before, after=fields)
    return task


@transaction.atomic
def delete_task(actor: User, task: TaskTemplate) -> None:
    """Remove a task from its template. Journeys under way keep their copy of it. A task that
    others depend on stays until those dependencies are removed."""
    access.require_can_manage_templates(actor)
    dependents = list(task.dependents.order_by("pk").values_list("title", flat=True))
    if dependents:
        names = ", ".join(f"'{t}'" for t in dependents)
        raise Conflict(
            f"'{task.title}' is a prerequisite of {names}; remove those dependencies first."
        )
    before = {
        "phase": task.phase_id,
        "title": task.title,
        "kind": task.kind,
        "owner_side": task.owner_side,
        "owner_role": task.owner_role,
        "due_days": task.due_days,
        "depends_on": sorted(task.depends_on.values_list("pk", flat=True)),
    }
    pk, label = task.pk, str(task)
    task.delete()
    record(
        actor,
        "onboarding.task_template_delete",
        object_type=TaskTemplate._meta.label,
        object_id=str(pk),
        object_label=label,
        before=before,
    )


# --- journeys -----------------------------------------------------------------------------


def default_template() -> JourneyTemplate | None:
    return JourneyTemplate.objects.filter(is_default=True, active=True).first()


def journey_url(journey: Journey) -> str:
    try:
        return reverse("onboarding-journey", args=[journey.pk])
    except NoReverseMatch:  # the pages are not mounted (a CLI or test set-up without them)
        return ""


def _owners(task: Task) -> list[User]:
    """Who is told about a task: its assignee, else everyone on its side who can do it."""
    if task.assignee_id is not None:
        return [task.assignee] if task.assignee else []
    partner = task.journey.partner
    if task.owner_side == Side.PARTNER:
        return list(partner_people(partner))
    return list(deciders_for(partner))


def _notify_tasks(tasks: Iterable[Task], verb: str, headline: str) -> None:
    """One notification per person, naming their tasks."""
    per_user: dict[int, tuple[User, list[Task]]] = {}
    for task in tasks:
        for user in _owners(task):
            per_user.setdefault(user.pk, (user, []))[1].append(task)
    for user, theirs in per_user.values():
        titles = ", ".join(f"'{t.title}'" for t in theirs[:5])
        more = f" and {len(theirs) - 5} more" if len(theirs) > 5 else ""
        journey = theirs[0].journey
        notify(
            [user],
            verb,
            f"{journey.partner.name} onboarding: {headline}: {titles}{more}.",
            journey_url(journey),
        )


def _journey_tasks(journey: Journey) -> list[Task]:
    return list(journey.tasks.select_related("phase", "assignee", "journey__partner"))


def _ready(journey: Journey) -> list[Task]:
    tasks = _journey_tasks(journey)
    held = blockers(journey, tasks)
    return [t for t in tasks if t.status == TaskStatus.OPEN and t.pk not in held]


@transaction.atomic
def start_journey(
    actor: User,
    partner: Partner,
    template: JourneyTemplate | None = None,
    *,
    at: dt.datetime | None = None,
) -> Journey:
    access.require_can_manage(actor, partner)
    if partner.status != Status.ONBOARDING:
        raise Conflict(
            f"{partner.name} is {partner.get_status_display().lower()}, not onboarding; a "
            "journey starts when a partner enters onboarding (change its status first)."
        )
    current = Journey.objects.filter(partner=partner, status=JourneyStatus.ACTIVE).first()
    if current is not None:
        raise Conflict(
            f"{partner.name} has a journey under way since {current.started_at:%Y-%m-%d}; "
            "finish or cancel it before starting another."
        )
    template = template or default_template()
    if template is None:
        raise Conflict(
            "There is no default journey template; the CPO marks one as the default first."
        )
    if not template.active:
        raise ValidationFailed({"template": f"{template} is retired; pick an active template"})
    phases = list(template.phases.prefetch_related("tasks__depends_on"))
    if not any(p.tasks.all() for p in phases):
        raise ValidationFailed({"template": f"{template} has no tasks; add tasks to it first"})
    now = at or timezone.now()
    try:
        with transaction.atomic():
            journey = Journey.objects.create(
                partner=partner,
                template=template,
                template_version=template.version,
                started_at=now,
                started_by=actor,
            )
    except IntegrityError:
        raise Conflict(f"{partner.name} has a journey under way already.") from None
    _copy_template(journey, phases, timezone.localdate(now))
    record(
        actor,
        "onboarding.start",
        journey,
        after={"partner": partner.pk, "template": template.pk, "version": template.version},
    )
    _notify_tasks(_ready(journey), "onboarding_task", "these tasks are yours to do")
    return journey


def _copy_template(journey: Journey, phases: list[PhaseTemplate], start: dt.date) -> None:
    copies: dict[int, Task] = {}
    for phase_template in phases:
        phase = Phase.objects.create(
            journey=journey,
            order=phase_template.order,
            name=phase_template.name,
            gated=phase_template.gated,
        )
        for tt in phase_template.tasks.all():
            copies[tt.pk] = Task.objects.create(
                journey=journey,
                phase=phase,
                template_task=tt,
                order=tt.order,
                title=tt.title,
                description=tt.description,
                kind=tt.kind,
                owner_side=tt.owner_side,
                owner_role=tt.owner_role,
                # The alliance manager owns the vendor's tasks unless a team is named.
                assignee=journey.partner.owner
                if tt.owner_side == Side.VENDOR and not tt.owner_role
                else None,
                due_on=start + dt.timedelta(days=tt.due_days),
            )
    for phase_template in phases:
        for tt in phase_template.tasks.all():
            deps = [copies[d.pk] for d in tt.depends_on.all() if d.pk in copies]
            if deps:
                copies[tt.pk].depends_on.set(deps)


def _lock(task: Task) -> Task:
    return (
        Task.objects.select_for_update(of=("self",))
        .select_related("journey", "journey__partner", "phase", "assignee")
        .get(pk=task.pk)
    )


def _require_active(journey: Journey) -> None:
    if journey.status != JourneyStatus.ACTIVE:
        raise Conflict(
            f"{journey.partner.name}'s journey is {journey.get_status_display().lower()}; "
            "its tasks cannot change."
        )


def _after_resolution(actor: User, task: Task, held_before: dict[int, list[str]]) -> None:
    """Tell owners of tasks this one unblocked; close the journey when nothing is left."""
    journey = task.journey
    tasks = _journey_tasks(journey)
    held_after = blockers(journey, tasks)
    freed = [t for t in tasks if t.pk in held_before and t.pk not in held_after]
    if freed:
        _notify_tasks(freed, "onboarding_task", "these tasks can start now")
    if all(t.status in RESOLVED for t in tasks):
        journey.status, journey.ended_at = JourneyStatus.COMPLETED, timezone.now()
        journey.save(update_fields=["status", "ended_at"])
        record(actor, "onboarding.complete", journey, after={"status": journey.status})
        notify(
            deciders_for(journey.partner),
            "onboarding_complete",
            f"{journey.partner.name} has finished its onboarding journey.",
            journey_url(journey),
        )


def _clean_completion(task: Task, note: str, evidence_url: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    if problem := validate.text_error(note, NOTE_MAX):
        errors["note"] = problem
    if evidence_url:
        try:
            _URL(evidence_url)
        except ValidationError:
            errors["evidence_url"] = (
                f"{evidence_url!r} is not a web address; paste a link starting with https://"
            )
    elif task.kind == Kind.CERTIFICATION:
        errors["evidence_url"] = (
            "a certification needs evidence: paste the link to the certificate or the exam result"
        )
    return errors


@transaction.atomic
def complete_task(
    actor: User,
    task: Task,
    note: str = "",
    evidence_url: str = "",
    *,
    at: dt.datetime | None = None,
) -> Task:
    access.require_can_complete(actor, task)
    task = _lock(task)
    _require_active(task.journey)
    if task.status != TaskStatus.OPEN:
        by = f" by {task.completed_by.get_username()}" if task.completed_by else ""
        raise Conflict(f"'{task.title}' is {task.get_status_display().lower()} already{by}.")
    held = blockers(task.journey)
    if reasons := held.get(task.pk):
        raise Conflict(f"'{task.title}' cannot be completed yet: {'; '.join(reasons)}.")
    note, evidence_url = note.strip(), evidence_url.strip()
    if errors := _clean_completion(task, note, evidence_url):
        raise ValidationFailed(errors)
    task.status = TaskStatus.DONE
    task.completed_at, task.completed_by = at or timezone.now(), actor
    task.note, task.evidence_url = note, evidence_url
    task.save(update_fields=["status", "completed_at", "completed_by", "note", "evidence_url"])
    record(
        actor,
        "onboarding.task_complete",
        task,
        before={"status": TaskStatus.OPEN},
        after={"status": task.status, "note": note, "evidence_url": evidence_url},
    )
    _after_resolution(actor, task, held)
    return task


@transaction.atomic
def skip_task(actor: User, task: Task, reason: str) -> Task:
    """The vendor decides a task does not apply to this partner (a blocked one too)."""
    access.get_task_for(actor, task.pk)
    task = _lock(task)
    access.require_can_manage(actor, task.journey.partner)
    _require_active(task.journey)
    if task.status != TaskStatus.OPEN:
        raise Conflict(f"'{task.title}' is {task.get_status_display().lower()} already.")
    if problem := validate.text_error(reason.strip(), 500, required=True):
        raise ValidationFailed({"reason": f"{problem}: say why this task does not apply"})
    held = blockers(task.journey)
    task.status, task.note = TaskStatus.SKIPPED, reason.strip()
    task.completed_at, task.completed_by = timezone.now(), actor
    task.save(update_fields=["status", "note", "completed_at", "completed_by"])
    record(actor, "onboarding.task_skip", task, after={"status": task.status, "reason": reason})
    _after_resolution(actor, task, held)
    return task


@transaction.atomic
def reopen_task(actor: User, task: Task, reason: str = "") -> Task:
    """Undo a completion (a wrong click, a certificate that turned out invalid). Tasks that
    depend on it stay as they are."""
    access.get_task_for(actor, task.pk)
    task = _lock(task)
    journey = task.journey
    if not (access.can_manage(actor, journey.partner) or access.can_complete(actor, task)):
        access.require_can_complete(actor, task)
    if task.status == TaskStatus.OPEN:
        raise Conflict(f"'{task.title}' is open already.")
    if journey.status == JourneyStatus.CANCELLED:
        raise Conflict(f"{journey.partner.name}'s journey is cancelled; its tasks cannot change.")
    before = task.status
    if journey.status == JourneyStatus.COMPLETED:
        journey.status, journey.ended_at = JourneyStatus.ACTIVE, None
        try:
            with transaction.atomic():
                journey.save(update_fields=["status", "ended_at"])
        except IntegrityError:
            raise Conflict(
                f"{journey.partner.name} has a newer journey under way; reopen tasks there."
            ) from None
    task.status = TaskStatus.OPEN
    task.completed_at = task.completed_by = task.overdue_notified_at = None
    task.save(update_fields=["status", "completed_at", "completed_by", "overdue_notified_at"])
    record(
        actor,
        "onboarding.task_reopen",
        task,
        before={"status": before},
        after={"status": task.status, "reason": reason.strip()},
    )
    return task


@transaction.atomic
def assign_task(actor: User, task: Task, assignee: User | None) -> Task:
    access.get_task_for(actor, task.pk)
    task = _lock(task)
    if not access.can_assign(actor, task):
        access.require_can_manage(actor, task.journey.partner)
    _require_active(task.journey)
    if task.status != TaskStatus.OPEN:
        raise Conflict(f"'{task.title}' is {task.get_status_display().lower()}; nobody to assign.")
    partner = task.journey.partner
    if assignee is not None:
        if not assignee.is_active:
            raise ValidationFailed({"assignee": f"{assignee.get_username()} is deactivated"})
        if task.owner_side == Side.VENDOR and assignee.role not in VENDOR_ROLES:
            raise ValidationFailed(
                {"assignee": "this is the vendor's task; pick one of the vendor's people"}
            )
        if task.owner_side == Side.PARTNER and assignee.partner_id != partner.pk:
            raise ValidationFailed(
                {"assignee": f"this is {partner.name}'s task; pick one of {partner.name}'s people"}
            )
    before = task.assignee_id
    task.assignee = assignee
    task.save(update_fields=["assignee"])
    record(
        actor,
        "onboarding.task_assign",
        task,
        before={"assignee": before},
        after={"assignee": assignee.pk if assignee else None},
    )
    if assignee is not None and assignee.pk != actor.pk:
        notify(
            [assignee],
            "onboarding_task",
            f"{partner.name} onboarding: '{task.title}' is yours, due {task.due_on:%Y-%m-%d}.",
            journey_url(task.journey),
        )
    return task


@transaction.atomic
def cancel_journey(actor: User, journey: Journey, reason: str) -> Journey:
    access.require_can_manage(actor, journey.partner)
    journey = (
        Journey.objects.select_for_update(of=("self",)).select_related("partner").get(pk=journey.pk)
    )
    if journey.status != JourneyStatus.ACTIVE:
        raise Conflict(
            f"{journey.partner.name}'s journey is {journey.get_status_display().lower()} already."
        )
    if problem := validate.text_error(reason.strip(), 500, required=True):
        raise ValidationFailed({"reason": f"{problem}: say why the journey stops"})
    journey.status, journey.ended_at = JourneyStatus.CANCELLED, timezone.now()
    journey.cancel_reason = reason.strip()
    journey.save(update_fields=["status", "ended_at", "cancel_reason"])
    record(actor, "onboarding.cancel", journey, after={"reason": journey.cancel_reason})
    return journey


@transaction.atomic
def sweep_overdue(today: dt.date | None = None) -> int:
    """Tell owners, once, about open tasks past their due date. Returns how many tasks."""
    today = today or timezone.localdate()
    overdue = list(
        Task.objects.filter(
            journey__status=JourneyStatus.ACTIVE,
            status=TaskStatus.OPEN,
            due_on__lt=today,
            overdue_notified_at__isnull=True,
        ).select_related("journey", "journey__partner", "assignee", "phase")
    )
    by_journey: dict[int, list[Task]] = defaultdict(list)
    for task in overdue:
        by_journey[task.journey_id].append(task)
    for tasks in by_journey.values():
        _notify_tasks(tasks, "onboarding_overdue", "overdue")
    if overdue:
        Task.objects.filter(pk__in=[t.pk for t in overdue]).update(
            overdue_notified_at=timezone.now()
        )
        record(
            None,
            "onboarding.overdue_notified",
            object_type="onboarding.Task",
            after={"tasks": [t.pk for t in overdue]},
        )
    return len(overdue)


def on_status_change(partner: Partner, new_status: str, actor: User) -> Journey | None:
    """Called by `partners.actions.change_status` inside its transaction, after the status is
    saved. Entering onboarding starts the default template's journey (if there is a default
    and no journey under way); exiting cancels the journey under way."""
    if new_status == Status.ONBOARDING:
        if default_template() is None or partner.journeys.filter(status="active").exists():
            return None
        return start_journey(actor, partner)
    if new_status == Status.EXITED:
        current = partner.journeys.filter(status=JourneyStatus.ACTIVE).first()
        if current is not None:
            return cancel_journey(actor, current, "The partner exited the programme.")
    return None
