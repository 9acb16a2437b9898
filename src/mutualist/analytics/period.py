"""Reporting period and as-of date: which rows a board may see, and when.

Both are calendar dates, inclusive: ``Period(2025-01-01, 2025-12-31)`` covers every moment
of those days. Internally they become half-open timestamp ranges ``[start, end)`` at UTC
midnight, which is what the Ibis filters compare against (timestamps are naive UTC).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

DateLike = dt.date | dt.datetime | str  # ISO strings accepted for convenience


def as_date(value: DateLike) -> dt.date:
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def day_start(day: dt.date) -> dt.datetime:
    """UTC midnight as a naive datetime (the analytics schema stores naive UTC)."""
    return dt.datetime(day.year, day.month, day.day)


def day_end(day: dt.date) -> dt.datetime:
    """Exclusive end of a day: the next midnight."""
    return day_start(day) + dt.timedelta(days=1)


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(day: dt.date, months: int) -> dt.date:
    """First-of-month arithmetic (only used on month starts, so day 1 always exists)."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    """Inclusive calendar-date range of a report."""

    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", as_date(self.start))
        object.__setattr__(self, "end", as_date(self.end))
        if self.end < self.start:
            raise ValueError(f"period end {self.end} is before its start {self.start}")

    @property
    def lo(self) -> dt.datetime:
        return day_start(self.start)

    @property
    def hi(self) -> dt.datetime:
        return day_end(self.end)

    @classmethod
    def trailing_year(cls, as_of: DateLike) -> Period:
        """The 12 months up to and including ``as_of`` (a common board default)."""
        end = as_date(as_of)
        start = add_months(month_start(end), -11)
        return cls(start, end)

    def to_json(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}
