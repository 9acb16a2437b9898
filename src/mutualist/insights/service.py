"""Computing the board for the app: period parsing, the data source, and a cache that is
invalidated by any write (the newest audit entry id is part of the key)."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

from django.core.cache import cache
from django.utils import timezone

from mutualist.analytics import Period, board, connect
from mutualist.analytics.pillars import ecosystem_pillars, partner_scorecard
from mutualist.insights.tables import app_tables, data_version
from mutualist.lib.errors import ValidationFailed

CACHE_SECONDS = 600


def parse_day(field: str, text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed({field: f"{text!r} is not a date; use YYYY-MM-DD"}) from None


def resolve_period(start: str | None, end: str | None, as_of: str | None) -> tuple[Period, dt.date]:
    """Defaults: as of today; the period is the twelve months up to the as-of date."""
    as_of_day = parse_day("as_of", as_of) or timezone.now().date()
    end_day = parse_day("to", end) or as_of_day
    start_day = parse_day("from", start) or (
        end_day.replace(year=end_day.year - 1) + dt.timedelta(days=1)
    )
    if start_day > end_day:
        raise ValidationFailed({"from": f"{start_day} is after the end {end_day}; swap them"})
    if end_day > as_of_day:
        raise ValidationFailed(
            {
                "to": f"{end_day} is after the as-of date {as_of_day}; a "
                "period cannot end after the day the numbers are taken"
            }
        )
    return Period(start_day, end_day), as_of_day


_tables: tuple[int, dict[str, Any]] | None = None
# One DuckDB connection holds the app's tables for the whole process, and a DuckDB connection
# refuses a second call while one runs ("connection is busy"): the web server's threads take
# turns. Reentrant, because a scorecard computes the board it needs first.
_engine = threading.RLock()


def current_tables() -> dict[str, Any]:
    """The app's tables in DuckDB, rebuilt only when something was written since. Queries on
    them run under `_engine` (see above)."""
    global _tables
    version = data_version()
    with _engine:
        if _tables is None or _tables[0] != version:
            _tables = (version, app_tables())
        return _tables[1]


def board_for(period: Period, as_of: dt.date, source: str | None = None) -> dict[str, Any]:
    if source:
        return board(connect(source), period, as_of)
    key = f"board:{data_version()}:{period.start}:{period.end}:{as_of}"
    cached = cache.get(key)
    if cached is None:
        with _engine:
            cached = board(current_tables(), period, as_of)
        cache.set(key, cached, CACHE_SECONDS)
    return cached


def pillars_for(period: Period, as_of: dt.date, board_json: dict[str, Any]) -> dict[str, Any]:
    key = f"pillars:{data_version()}:{period.start}:{period.end}:{as_of}"
    cached = cache.get(key)
    if cached is None:
        with _engine:
            cached = ecosystem_pillars(current_tables(), board_json, period, as_of)
        cache.set(key, cached, CACHE_SECONDS)
    return cached


def scorecard_for(partner_id: int, period: Period, as_of: dt.date) -> dict[str, Any]:
    board_json = board_for(period, as_of)
    with _engine:
        return partner_scorecard(current_tables(), board_json, partner_id, period, as_of)


def charts_for(period: Period, as_of: dt.date, board_json: dict[str, Any]) -> dict[str, str]:
    from mutualist.insights.charts import board_svgs

    key = f"charts:{data_version()}:{period.start}:{period.end}:{as_of}"
    cached = cache.get(key)
    if cached is None:
        cached = board_svgs(board_json)
        cache.set(key, cached, CACHE_SECONDS)
    return cached
