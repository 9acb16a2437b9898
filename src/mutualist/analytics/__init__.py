"""Board-metrics engine: Ibis metric definitions with honest intervals (no Django here).

Input: the seven tables of :mod:`mutualist.analytics.schema` as Ibis tables (see
:mod:`mutualist.analytics.source`). Output: plain dataclasses (:class:`Estimate`) and dicts;
:func:`board` assembles every metric into one JSON-ready dict. Definitions, formulas and
the JSON contract are in ``docs/metrics.md``.
"""

from __future__ import annotations

from .acv import acv_summary
from .attribution import AttributionRules
from .board import KEYS, board
from .cac import cac
from .cycle import cycle_days
from .estimate import NOT_ENOUGH_DATA, Estimate, to_json
from .growth import partner_growth
from .leaderboard import leaderboard
from .leads import lead_conversion
from .period import Period
from .pipeline import attribution_summary
from .quality import data_quality
from .retention import retention
from .schema import TABLES, SchemaError, validate
from .snapshot import Snapshot
from .source import connect, tables_from_arrow, tables_from_synth, write_parquet
from .winrate import win_rates

__all__ = [
    "KEYS",
    "NOT_ENOUGH_DATA",
    "TABLES",
    "AttributionRules",
    "Estimate",
    "Period",
    "SchemaError",
    "Snapshot",
    "acv_summary",
    "attribution_summary",
    "board",
    "cac",
    "connect",
    "cycle_days",
    "data_quality",
    "lead_conversion",
    "leaderboard",
    "partner_growth",
    "retention",
    "tables_from_arrow",
    "tables_from_synth",
    "to_json",
    "validate",
    "win_rates",
    "write_parquet",
]
