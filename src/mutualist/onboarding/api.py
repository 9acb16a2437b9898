"""Onboarding over HTTP: journeys and their progress, completing a task, starting a journey."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Status
from ninja.pagination import paginate

from mutualist.accounts.access import acting_user
from mutualist.lib.errors import ValidationFailed
from mutualist.lib.pagination import PagePagination
from mutualist.onboarding import access, actions, progress
from mutualist.onboarding.choices import JourneyStatus, TaskStatus
from mutualist.onboarding.models import Journey, Task
from mutualist.onboarding.schemas import CompleteIn, JourneyDetailOut, JourneyOut, StartIn, TaskOut
from mutualist.partners.access import get_partner_for

router = Router(tags=["onboarding"])


def present_task(task: Task, blocked: dict[int, list[str]], today: dt.date) -> dict[str, Any]:
    return {
        "id": task.pk,
        "journey_id": task.journey_id,
        "phase": task.phase.name,
        "phase_order": task.phase.order,
        "title": task.title,
        "kind": task.kind,
        "owner_side": task.owner_side,
        "owner_role": task.owner_role,
        "assignee": task.assignee.get_username() if task.assignee else None,
        "due_on": task.due_on,
        "status": task.status,
        "overdue": task.status == TaskStatus.OPEN and task.due_on < today,
        "blocked_by": blocked.get(task.pk, []),
        "completed_at": task.completed_at,
        "completed_by": task.completed_by.get_username() if task.completed_by else None,
        "note": task.note,
        "evidence_url": task.evidence_url,
    }


def present(journey: Journey) -> dict[str, Any]:
    """A journey annotated by `progress.with_figures`."""
    return {
        "id": journey.pk,
        "partner_id": journey.partner_id,
        "partner": journey.partner.name,
        "template": journey.template.name,
        "template_version": journey.template_version,
        "status": journey.status,
        "started_at": journey.started_at,
        "ended_at": journey.ended_at,
        "tasks": journey.n_tasks,  # type: ignore[attr-defined]
        "done": journey.n_done,  # type: ignore[attr-defined]
        "percent_done": progress.percent(journey.n_done, journey.n_tasks),  # type: ignore[attr-defined]
        "overdue": journey.n_overdue,  # type: ignore[attr-defined]
        "days_to_first_registered_deal": progress.days_to_first_deal(journey),
        "days_to_first_won_deal": progress.days_to_first_win(journey),
    }


def present_details(journey: Journey) -> dict[str, Any]:
    figures = progress.of(journey)
    row = progress.with_figures(Journey.objects.filter(pk=journey.pk)).select_related(
        "partner", "template"
    )
    data = present(row.get())
    data["task_list"] = [present_task(t, figures.blocked, figures.today) for t in figures.tasks]
    data["next_due"] = (
        present_task(figures.next_due, figures.blocked, figures.today) if figures.next_due else None
    )
    return data


class _Presented:
    def __init__(self, rows: QuerySet[Journey]) -> None:
        self.rows = rows

    def count(self) -> int:
        return int(self.rows.count())

    def __getitem__(self, page: slice) -> list[dict[str, Any]]:
        return [present(j) for j in self.rows[page]]


@router.get("/onboarding/journeys", response=list[JourneyOut])
@paginate(PagePagination)
def list_journeys(
    request: HttpRequest,
    status: str = "",
    partner_id: int | None = None,
    overdue: bool = False,
    q: str = "",
) -> Any:
    """Journeys with their progress; a partner's token sees its own partner's only."""
    if status and status not in JourneyStatus.values:
        raise ValidationFailed(
            {"status": f"unknown status; use one of: {', '.join(JourneyStatus.values)}"}
        )
    rows = progress.with_figures(
        access.journeys_visible_to(request.user).select_related("partner", "template"),
        timezone.localdate(),
    )
    if status:
        rows = rows.filter(status=status)
    if partner_id is not None:
        rows = rows.filter(partner_id=partner_id)
    if overdue:
        rows = rows.filter(n_overdue__gt=0)  # type: ignore[misc]
    if q:
        rows = rows.filter(partner__name__icontains=q.strip())
    return _Presented(rows.order_by("-started_at", "-pk"))


@router.get("/onboarding/journeys/{journey_id}", response=JourneyDetailOut)
def get_journey(request: HttpRequest, journey_id: int) -> Any:
    return present_details(access.get_journey_for(request.user, journey_id))


@router.post("/onboarding/tasks/{task_id}/complete", response=TaskOut)
def complete(request: HttpRequest, task_id: int, payload: CompleteIn) -> Any:
    """Mark a task done. A partner's people complete the partner's tasks; the CPO and the
    alliance manager the vendor's. A blocked task is a 409 naming what blocks it."""
    task = access.get_task_for(request.user, task_id)
    task = actions.complete_task(acting_user(request), task, payload.note, payload.evidence_url)
    figures = progress.of(task.journey)
    return present_task(task, figures.blocked, figures.today)


@router.post("/partners/{partner_id}/onboarding", response={201: JourneyDetailOut})
def start(request: HttpRequest, partner_id: int, payload: StartIn) -> Any:
    """Start the partner's journey from a template (the default one if none is given)."""
    partner = get_partner_for(request.user, partner_id)
    template = (
        access.get_template_for(request.user, payload.template_id)
        if payload.template_id is not None
        else None
    )
    journey = actions.start_journey(acting_user(request), partner, template)
    return Status(201, present_details(journey))
