"""Amounts in the reporting currency, for the board.

Finance's monthly rates (`crm.ExchangeRate`, imported with `mutualist import rates`) convert
each amount at the rate of its month: a closed deal at its close month, an open deal at the
newest rate (what the pipeline is worth now), revenue and costs at their month. A month
without its own rate takes the currency's newest earlier one. An amount with no rate at all
(a currency never imported, or a month before the first rate) keeps its own currency, so the
board's mixed-currency warnings name it: it is flagged, never guessed.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from mutualist.crm.models import ExchangeRate
from mutualist.lib.currencies import reporting_currency


@dataclass
class Rates:
    base: str
    months: dict[str, list[dt.date]] = field(default_factory=dict)
    rates: dict[str, list[float]] = field(default_factory=dict)

    @classmethod
    def of(cls, base: str, rows: Iterable[tuple[dt.date, str, Any]]) -> Rates:
        table = cls(base)
        for month, currency, rate in sorted(rows):
            table.months.setdefault(currency, []).append(month)
            table.rates.setdefault(currency, []).append(float(rate))
        return table

    def factor(self, currency: str | None, when: dt.date | None) -> float | None:
        """Reporting-currency units per unit of `currency` for `when` (None: the newest
        rate); 1 for the reporting currency; None when there is no rate."""
        if currency == self.base:
            return 1.0
        months = self.months.get(currency or "")
        if not months:
            return None
        at = len(months) - 1 if when is None else bisect.bisect_right(months, _month(when)) - 1
        return self.rates[currency or ""][at] if at >= 0 else None

    def convert(
        self, amount: float | None, currency: str | None, when: dt.date | None
    ) -> tuple[float | None, str | None]:
        """(amount, currency) in the reporting currency, or as given when there is no rate."""
        rate = self.factor(currency, when)
        if amount is None or rate is None:
            return amount, currency
        return amount * rate, self.base


def _month(day: dt.date) -> dt.date:
    return dt.date(day.year, day.month, 1)


def current_rates() -> Rates:
    return Rates.of(
        reporting_currency(), ExchangeRate.objects.values_list("month", "currency", "rate")
    )
