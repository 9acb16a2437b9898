"""How fast deal registrations are decided: the measured service level staff are held to."""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass

from django.db.models import F, QuerySet
from django.utils import timezone

from mutualist.analytics.estimate import Estimate
from mutualist.analytics.stats import proportion, sample_median
from mutualist.cosell.models import DealRegistration
from mutualist.cosell.registrations import current_rules

MIN_FOR_MEDIAN = 5
WINDOW_DAYS = 90


@dataclass(frozen=True)
class SlaSummary:
    sla_hours: int
    decided: int
    within_sla: Estimate  # share decided within the SLA, Wilson interval
    median_hours: float | None  # None: not enough data
    p90_hours: float | None
    overdue: int
    waiting: int
    median_low: float | None = None  # the median's 95% order-statistic interval
    median_high: float | None = None


def overdue_queue(now: dt.datetime | None = None) -> QuerySet[DealRegistration]:
    """Pending registrations past their rules' decision deadline, oldest first."""
    now = now or timezone.now()
    pending = DealRegistration.objects.filter(
        status=DealRegistration.Status.PENDING
    ).select_related("partner", "rules")
    late = [
        r.pk
        for r in pending
        if r.submitted_at + dt.timedelta(hours=r.rules.decision_sla_hours) < now
    ]
    return (
        DealRegistration.objects.filter(pk__in=late)
        .select_related("partner")
        .order_by("submitted_at")
    )


def summary(now: dt.datetime | None = None) -> SlaSummary:
    now = now or timezone.now()
    rules = current_rules()
    decided = DealRegistration.objects.filter(
        decided_at__isnull=False, decided_at__gte=now - dt.timedelta(days=WINDOW_DAYS)
    ).annotate(waited=F("decided_at") - F("submitted_at"))
    hours = sorted(r.waited.total_seconds() / 3600 for r in decided)
    within = sum(h <= rules.decision_sla_hours for h in hours)
    enough = len(hours) >= MIN_FOR_MEDIAN
    median = sample_median(hours)
    return SlaSummary(
        sla_hours=rules.decision_sla_hours,
        decided=len(hours),
        within_sla=proportion(within, len(hours)),
        median_hours=median.value if enough else None,
        median_low=median.low if enough else None,
        median_high=median.high if enough else None,
        p90_hours=statistics.quantiles(hours, n=10)[-1] if enough else None,
        overdue=overdue_queue(now).count(),
        waiting=DealRegistration.objects.filter(status=DealRegistration.Status.PENDING).count(),
    )
