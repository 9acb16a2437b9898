"""How a partner is doing against the KPI targets of its signed agreements, per review period.

A target's review periods follow its cadence from the agreement's start (a quarterly KPI on an
agreement starting 15 March is reviewed 15 March to 14 June, 15 June to 14 September, …), because
the commitment runs from the signature, not from calendar quarters (decision 0015).

Each KPI names a metric from `KPI_METRICS`. Two kinds:
- *totals* accumulate over a period (pipeline, revenue, deals, leads, registrations): a period
  that has ended is met or missed; the running one is on track or behind against the target
  pro-rated to the days elapsed;
- *levels* are read as they stand at the period's end (certifications, CSAT, win rate): met or
  below. A win rate carries its Wilson interval and count, and is called met or missed only when
  the whole interval is on one side of the target ("not conclusive" otherwise).

A KPI without a metric is reviewed by hand and says so, rather than showing a made-up figure.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q

from mutualist.agreements.models import Target
from mutualist.analytics import Period
from mutualist.analytics.stats import wilson
from mutualist.cosell.models import DealRegistration
from mutualist.crm.models import Lead, Opportunity
from mutualist.lib.dates import end_of_term
from mutualist.tiers.metrics import SOURCING_ROLES, SOURCING_WINDOW, fact_on, won_deal_kinds

TOTAL, LEVEL = "total", "level"
MIN_CLOSED_FOR_RATE = 5  # fewer closed deals than this: the win rate says "not enough data"
MONTHS = {"monthly": 1, "quarterly": 3, "annual": 12}


@dataclass(frozen=True)
class Reading:
    """A metric's value over one period with the count it rests on (and an interval for rates)."""

    value: float | None
    n: int | None = None
    low: float | None = None
    high: float | None = None
    note: str = ""


@dataclass(frozen=True)
class KpiMetric:
    key: str
    label: str
    unit: str
    kind: str  # TOTAL or LEVEL
    read: Callable[[int, dt.date, dt.date], Reading]


def _moment(day: dt.date, end: bool = False) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.max if end else dt.time.min, tzinfo=dt.UTC)


def _between(field: str, start: dt.date, end: dt.date) -> Q:
    return Q(**{f"{field}__gte": _moment(start), f"{field}__lte": _moment(end, end=True)})


def _won(kind: str | None) -> Callable[[int, dt.date, dt.date], Reading]:
    def read(partner_id: int, start: dt.date, end: dt.date) -> Reading:
        deals = won_deal_kinds(Period(start, end), partner_id).values()
        amounts = [amount for k, amount in deals if kind is None or k == kind]
        return Reading(float(sum(amounts, Decimal(0))), n=len(amounts))

    return read


def _won_count(partner_id: int, start: dt.date, end: dt.date) -> Reading:
    n = len(won_deal_kinds(Period(start, end), partner_id))
    return Reading(float(n), n=n)


def _sourced_pipeline(partner_id: int, start: dt.date, end: dt.date) -> Reading:
    """Opportunities created in the period that the partner sourced (a sourcing involvement
    attached within the window after creation), at their amount, whatever became of them."""
    rows = Opportunity.objects.filter(
        _between("created_at", start, end),
        involvements__partner_id=partner_id,
        involvements__role__in=SOURCING_ROLES,
    ).values_list("pk", "amount", "created_at", "involvements__attached_at")
    sourced: dict[int, Decimal] = {}
    for pk, amount, created, attached in rows:
        if attached <= created + SOURCING_WINDOW:
            sourced[pk] = amount or Decimal(0)
    return Reading(float(sum(sourced.values(), Decimal(0))), n=len(sourced))


def _win_rate(partner_id: int, start: dt.date, end: dt.date) -> Reading:
    """Won / closed among deals closed in the period with the partner involved by the close."""
    closed = (
        Opportunity.objects.filter(_between("closed_at", start, end), is_closed=True)
        .filter(
            involvements__partner_id=partner_id,
            involvements__attached_at__lte=_moment(end, end=True),
        )
        .distinct()
    )
    counts = closed.aggregate(n=Count("pk"), won=Count("pk", filter=Q(is_won=True)))
    n, won = counts["n"], counts["won"]
    if n < MIN_CLOSED_FOR_RATE:
        return Reading(None, n=n, note=f"not enough data: {n} closed deal(s)")
    value, low, high = wilson(won, n)
    return Reading(value, n=n, low=low, high=high)


def _leads(partner_id: int, start: dt.date, end: dt.date) -> Reading:
    n = Lead.objects.filter(_between("created_at", start, end), partner_id=partner_id).count()
    return Reading(float(n), n=n)


def _registrations(partner_id: int, start: dt.date, end: dt.date) -> Reading:
    """Registrations submitted in the period that were approved (protected, or since expired)."""
    n = DealRegistration.objects.filter(
        _between("submitted_at", start, end),
        partner_id=partner_id,
        status__in=(DealRegistration.Status.APPROVED, DealRegistration.Status.EXPIRED),
    ).count()
    return Reading(float(n), n=n)


def _fact(key: str) -> Callable[[int, dt.date, dt.date], Reading]:
    def read(partner_id: int, start: dt.date, end: dt.date) -> Reading:
        value = fact_on(partner_id, key, end)
        return Reading(value, note="" if value is not None else "nothing recorded yet")

    return read


KPI_METRICS: dict[str, KpiMetric] = {
    m.key: m
    for m in [
        KpiMetric("sourced_pipeline", "Sourced pipeline created", "USD", TOTAL, _sourced_pipeline),
        KpiMetric("sourced_revenue", "Sourced won revenue", "USD", TOTAL, _won("sourced")),
        KpiMetric("influenced_revenue", "Influenced won revenue", "USD", TOTAL, _won("influenced")),
        KpiMetric("won_revenue", "Won revenue (sourced and influenced)", "USD", TOTAL, _won(None)),
        KpiMetric("won_deals", "Won deals", "deals", TOTAL, _won_count),
        KpiMetric("leads_referred", "Leads referred", "leads", TOTAL, _leads),
        KpiMetric(
            "deal_registrations", "Approved deal registrations", "deals", TOTAL, _registrations
        ),
        KpiMetric("win_rate", "Win rate (0 to 1)", "share", LEVEL, _win_rate),
        KpiMetric("certifications", "Certifications held", "count", LEVEL, _fact("certifications")),
        KpiMetric("csat", "Customer satisfaction", "score", LEVEL, _fact("csat")),
    ]
}


def review_periods(start: dt.date, end: dt.date, cadence: str) -> list[tuple[dt.date, dt.date]]:
    """The review periods of a target from `start` to `end`, the last one cut at `end`."""
    months, period_start = MONTHS[cadence], start
    periods: list[tuple[dt.date, dt.date]] = []
    while period_start <= end:
        period_end = min(end_of_term(start, months * (len(periods) + 1)), end)
        periods.append((period_start, period_end))
        period_start = period_end + dt.timedelta(days=1)
    return periods


@dataclass(frozen=True)
class PeriodProgress:
    start: dt.date
    end: dt.date
    running: bool  # the period containing today
    reading: Reading
    target: float
    expected: float | None  # the pro-rated target so far, for a running total
    status: str  # met | missed | on_track | behind | below | not_conclusive | no_data | manual

    @property
    def attainment(self) -> float | None:
        """Actual as a share of the target (1.0 = reached)."""
        value = self.reading.value
        return None if value is None or not self.target else value / self.target

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.status]


STATUS_LABELS = {
    "met": "Met",
    "missed": "Missed",
    "on_track": "On track",
    "behind": "Behind",
    "below": "Below target",
    "not_conclusive": "Not conclusive",
    "no_data": "Not enough data",
    "manual": "Reviewed by hand",
}


def _status(metric: KpiMetric, reading: Reading, target: float, expected: float | None) -> str:
    value, ended = reading.value, expected is None
    if value is None:
        return "no_data"
    if reading.low is not None and reading.high is not None:  # a rate: trust only its interval
        if reading.low >= target:
            return "met"
        if reading.high < target:
            return "missed" if ended else "below"
        return "not_conclusive"
    if value >= target:
        return "met"
    if metric.kind == LEVEL:
        return "missed" if ended else "below"
    if ended:
        return "missed"
    return "on_track" if expected is not None and value >= expected else "behind"


def period_progress(target: Target, start: dt.date, end: dt.date, today: dt.date) -> PeriodProgress:
    goal = float(target.target)
    metric = KPI_METRICS.get(target.metric_key)
    running = start <= today <= end
    if metric is None:
        note = (
            f"no metric called {target.metric_key!r}; choose one of the listed metrics"
            if target.metric_key
            else "this KPI names no metric: it is reviewed by hand"
        )
        return PeriodProgress(start, end, running, Reading(None, note=note), goal, None, "manual")
    reading = metric.read(target.partner_id, start, min(end, today))
    expected = None
    if running:
        elapsed = (today - start).days + 1
        expected = goal * elapsed / ((end - start).days + 1) if metric.kind == TOTAL else goal
    return PeriodProgress(
        start, end, running, reading, goal, expected, _status(metric, reading, goal, expected)
    )


def target_progress(target: Target, today: dt.date) -> list[PeriodProgress]:
    """Every review period of the target that has begun by `today`, oldest first."""
    return [
        period_progress(target, start, end, today)
        for start, end in review_periods(target.period_start, target.period_end, target.cadence)
        if start <= today
    ]


def latest(target: Target, today: dt.date) -> PeriodProgress | None:
    """The running period, or the last one if the target's term is over; None before it starts."""
    periods = target_progress(target, today)
    return periods[-1] if periods else None


def progress_in(target: Target, period: Period, today: dt.date) -> PeriodProgress:
    """The target measured over any period (a quarterly review's, say), cut at `today`."""
    return period_progress(target, period.start, period.end, today)


def as_dict(period: PeriodProgress) -> dict[str, Any]:
    """A period's progress as the API and the CSV give it."""
    reading = period.reading
    return {
        "start": period.start,
        "end": period.end,
        "running": period.running,
        "actual": reading.value,
        "n": reading.n,
        "low": reading.low,
        "high": reading.high,
        "target": period.target,
        "expected": period.expected,
        "attainment": period.attainment,
        "status": period.status,
        "note": reading.note,
    }


def metric_choices() -> list[tuple[str, str]]:
    return [(m.key, f"{m.label} ({m.unit})") for m in KPI_METRICS.values()]


def unknown_metric_error(key: str) -> str | None:
    if not key or key in KPI_METRICS:
        return None
    return f"{key!r} is not a metric we can measure; use one of: {', '.join(KPI_METRICS)}"
