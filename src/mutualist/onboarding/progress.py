"""How far a journey is, and what it led to: percent done, overdue tasks, the next due date,
and the days from the start to the partner's first registered deal and first won deal.

"First registered deal" is the earlier of the partner's first deal registration and its first
attachment to an opportunity after the start; "first won deal" is the first won opportunity the
partner is involved in that closed after the start. Both are None ("not yet") until they happen.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from mutualist.analytics.stats import sample_median
from mutualist.cosell.models import DealRegistration
from mutualist.crm.models import Opportunity, PartnerInvolvement
from mutualist.onboarding.choices import JourneyStatus, TaskStatus
from mutualist.onboarding.models import Journey, Task
from mutualist.onboarding.state import blockers

MIN_JOURNEYS = 5  # below this many journeys with a won deal, a median is "not enough data"


def with_figures(journeys: QuerySet[Journey], today: dt.date | None = None) -> QuerySet[Journey]:
    """Annotate task counts and the first registration/involvement/win after each start."""
    today = today or timezone.localdate()
    first_registration = (
        DealRegistration.objects.filter(
            partner=OuterRef("partner"), submitted_at__gte=OuterRef("started_at")
        )
        .order_by("submitted_at")
        .values("submitted_at")[:1]
    )
    first_involvement = (
        PartnerInvolvement.objects.filter(
            partner=OuterRef("partner"), attached_at__gte=OuterRef("started_at")
        )
        .order_by("attached_at")
        .values("attached_at")[:1]
    )
    first_win = (
        Opportunity.objects.filter(
            involvements__partner=OuterRef("partner"),
            is_won=True,
            closed_at__gte=OuterRef("started_at"),
        )
        .order_by("closed_at")
        .values("closed_at")[:1]
    )
    return journeys.annotate(
        n_tasks=Count("tasks", filter=~Q(tasks__status=TaskStatus.SKIPPED), distinct=True),
        n_done=Count("tasks", filter=Q(tasks__status=TaskStatus.DONE), distinct=True),
        n_overdue=Count(
            "tasks",
            filter=Q(tasks__status=TaskStatus.OPEN, tasks__due_on__lt=today),
            distinct=True,
        ),
        first_registration_at=Subquery(first_registration),
        first_involvement_at=Subquery(first_involvement),
        first_won_at=Subquery(first_win),
    )


def percent(done: int, total: int) -> int:
    """Skipped tasks count neither way; a journey with nothing left to do is 100%."""
    return round(100 * done / total) if total else 100


def days_between(start: dt.datetime, end: dt.datetime | None) -> int | None:
    return None if end is None else (end - start).days


def first_deal_at(journey: Journey) -> dt.datetime | None:
    found = [
        t
        for t in (
            getattr(journey, "first_registration_at", None),
            getattr(journey, "first_involvement_at", None),
        )
        if t is not None
    ]
    return min(found) if found else None


def days_to_first_deal(journey: Journey) -> int | None:
    return days_between(journey.started_at, first_deal_at(journey))


def days_to_first_win(journey: Journey) -> int | None:
    return days_between(journey.started_at, getattr(journey, "first_won_at", None))


@dataclass(frozen=True)
class Progress:
    journey: Journey
    tasks: list[Task]
    blocked: dict[int, list[str]]
    done: int
    total: int
    percent: int
    overdue: list[Task]
    next_due: Task | None
    days_to_first_deal: int | None
    days_to_first_win: int | None
    today: dt.date = field(default_factory=timezone.localdate)

    def is_overdue(self, task: Task) -> bool:
        return task.status == TaskStatus.OPEN and task.due_on < self.today


def of(journey: Journey, today: dt.date | None = None) -> Progress:
    today = today or timezone.localdate()
    figures = with_figures(Journey.objects.filter(pk=journey.pk), today).get()
    tasks = list(
        journey.tasks.select_related("phase", "assignee", "completed_by").order_by(
            "phase__order", "order", "pk"
        )
    )
    counted = [t for t in tasks if t.status != TaskStatus.SKIPPED]
    done = sum(1 for t in counted if t.status == TaskStatus.DONE)
    open_tasks = [t for t in tasks if t.status == TaskStatus.OPEN]
    upcoming = sorted((t for t in open_tasks if t.due_on >= today), key=lambda t: (t.due_on, t.pk))
    return Progress(
        journey=journey,
        tasks=tasks,
        blocked=blockers(journey, tasks),
        done=done,
        total=len(counted),
        percent=percent(done, len(counted)),
        overdue=[t for t in open_tasks if t.due_on < today],
        next_due=upcoming[0] if upcoming else None,
        days_to_first_deal=days_to_first_deal(figures),
        days_to_first_win=days_to_first_win(figures),
        today=today,
    )


@dataclass(frozen=True)
class Median:
    days: float | None  # None: not enough data
    n: int  # journeys with a first won deal, which the median is based on
    journeys: int  # journeys considered (not cancelled)
    low: float | None = None  # the 95% order-statistic interval; None below 6 journeys
    high: float | None = None


def median_days_to_first_win(journeys: QuerySet[Journey] | None = None) -> Median:
    """Across journeys that were not cancelled. Journeys without a won deal yet are not in the
    median (it is the median of those that got there), and the count says how many did."""
    rows = with_figures(
        (journeys if journeys is not None else Journey.objects.all()).exclude(
            status=JourneyStatus.CANCELLED
        )
    )
    days = [d for j in rows if (d := days_to_first_win(j)) is not None]
    if len(days) < MIN_JOURNEYS:
        return Median(days=None, n=len(days), journeys=len(rows))
    median = sample_median(days)
    return Median(median.value, len(days), len(rows), median.low, median.high)
