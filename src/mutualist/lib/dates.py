"""Calendar arithmetic shared by apps that count terms in months."""

from __future__ import annotations

import datetime as dt


def end_of_term(start: dt.date, months: int) -> dt.date:
    """The last day of a term of `months` from `start` (1 March + 12 months -> 28 February)."""
    month = start.month - 1 + months
    year, month = start.year + month // 12, month % 12 + 1
    for day in (start.day, 30, 29, 28):
        try:
            return dt.date(year, month, day) - dt.timedelta(days=1)
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has 28 days")
