"""The board: every metric for one period and as-of date, as a JSON-ready dict.

One :class:`Snapshot` is shared by all metrics, and with ``cache=True`` its attributed
opportunity and involvement tables are materialised once in the backend, so the
attribution join runs once per board rather than once per metric.
"""

from __future__ import annotations

from typing import Any

from .acv import acv_summary
from .attribution import AttributionRules
from .cac import cac
from .cycle import cycle_days
from .estimate import to_json
from .growth import partner_growth
from .leaderboard import leaderboard
from .leads import lead_conversion
from .period import DateLike, Period, as_date
from .pipeline import attribution_summary
from .quality import data_quality
from .retention import retention
from .schema import Tables
from .snapshot import Snapshot
from .winrate import win_rates

KEYS = (
    "period",
    "as_of",
    "attribution",
    "win_rate",
    "acv",
    "cycle_days",
    "nrr",
    "grr",
    "logo_churn",
    "lead_conversion_days",
    "cac",
    "partner_growth",
    "leaderboard",
    "data_quality",
)


def board(
    tables: Tables,
    period: Period,
    as_of: DateLike,
    rules: AttributionRules | None = None,
    cache: bool = True,
) -> dict[str, Any]:
    """All board metrics; see docs/metrics.md for every definition and the JSON contract."""
    snap = Snapshot(tables, as_of, rules, cache=cache)
    day = as_date(as_of)
    quality = data_quality(snap, day)
    wins = win_rates(snap, period, day)
    wins["stale_open_deals"] = quality["stale_open_deals"]["count"]
    kept = retention(snap, period, day)
    result: dict[str, Any] = {
        "period": period,
        "as_of": day.isoformat(),
        "attribution": attribution_summary(snap, period, day),
        "win_rate": wins,
        "acv": acv_summary(snap, period, day),
        "cycle_days": cycle_days(snap, period, day),
        "nrr": kept["nrr"],
        "grr": kept["grr"],
        "logo_churn": kept["logo_churn"],
        "lead_conversion_days": lead_conversion(snap, period, day),
        "cac": cac(snap, period, day),
        "partner_growth": partner_growth(snap, day),
        "leaderboard": leaderboard(snap, period, day),
        "data_quality": quality,
    }
    return to_json(result)
