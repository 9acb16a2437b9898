"""Data-quality panel: the problems that silently bend board metrics, counted as of a date.

Shown next to the metrics so a reader can judge them: stale open deals inflate win rates,
close-before-create breaks cycle times, missing or negative amounts distort revenue,
unknown stages break the won/lost mapping, mixed currencies make sums meaningless, and
involvements added after close would (if counted) inflate partner attribution.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import ibis
import ibis.expr.types as ir

from .attribution import AttributionRules
from .period import DateLike, day_start
from .schema import KNOWN_STAGES, Tables
from .snapshot import Snapshot, as_snapshot, rows

STALE_DAYS = 365
MAX_STAGES = 20  # unknown stage names listed (the count covers all of them)


def _item(count: int, n: int, what: str) -> dict[str, Any]:
    return {"count": count, "n": n, "share": count / n if n else None, "what": what}


def _currency_mixes(
    tables: dict[str, ir.Table], column: str = "currency"
) -> dict[str, dict[str, int]]:
    """Rows per currency of each table, in one query (a union of the group-bys)."""
    parts = [
        t.group_by(cur=t[column].fill_null("?"))
        .agg(k=t.count())
        .mutate(table_name=ibis.literal(name))
        for name, t in tables.items()
    ]
    found = rows(ibis.union(*parts, distinct=False))
    out: dict[str, dict[str, int]] = {name: {} for name in tables}
    for r in sorted(found, key=lambda r: r["cur"]):
        out[r["table_name"]][r["cur"]] = int(r["k"])
    return out


def _row_counts(tables: dict[str, ir.Table]) -> dict[str, int]:
    """``count()`` of each table in one query (a union of one-row aggregates)."""
    parts = [t.agg(k=t.count()).mutate(table_name=ibis.literal(name)) for name, t in tables.items()]
    return {r["table_name"]: int(r["k"] or 0) for r in rows(ibis.union(*parts, distinct=False))}


def _stage_counts(
    raw: ir.Table, known_stages: Sequence[str], limit: int
) -> tuple[int, dict[str, int]]:
    """(deals in a known stage, the ``limit`` most frequent unknown stage names with their
    deals, ties by name in code-point order).

    Grouping by the stage costs a fraction of testing each deal's stage against the list
    (the engine groups a dictionary-encoded column by its codes); the test is then made
    once per distinct name. The cut is made by a rank window in the database (ties kept,
    so the result does not depend on an engine's row order) and the final order in Python
    (PostgreSQL sorts text by its collation, DuckDB and Spark by code point). Deals without
    a stage are in neither: the caller counts them as unknown."""
    staged = raw.filter(raw.stage.notnull())
    agg = staged.group_by("stage").agg(k=staged.count())
    known = agg.stage.isin(list(known_stages))
    ranked = agg.mutate(
        known=known, pos=ibis.rank().over(group_by=known, order_by=ibis.desc(agg.k))
    )
    found = rows(ranked.filter(ranked.known | (ranked.pos < limit)).select("stage", "k", "known"))
    in_known = sum(int(r["k"]) for r in found if r["known"])
    unknown = sorted((r for r in found if not r["known"]), key=lambda r: (-int(r["k"]), r["stage"]))
    return in_known, {r["stage"]: int(r["k"]) for r in unknown[:limit]}


def data_quality(
    tables: Tables | Snapshot,
    as_of: DateLike,
    rules: AttributionRules | None = None,
    stale_days: int = STALE_DAYS,
    known_stages: Sequence[str] = KNOWN_STAGES,
) -> dict[str, Any]:
    snap = as_snapshot(tables, as_of, rules)
    raw = snap.tables["opportunities"]
    raw = raw.filter(raw.created_at < snap.hi)
    opp = snap.opportunities
    stale_before = day_start(snap.as_of) - dt.timedelta(days=stale_days)
    counts = raw.agg(
        n=raw.count(),
        close_before_create=(raw.closed_at < raw.created_at).fill_null(False).sum(),
        closed_without_date=(raw.is_closed.fill_null(False) & raw.closed_at.isnull()).sum(),
        missing_amount=raw.amount.isnull().sum(),
        negative_amount=(raw.amount.cast("float64") < 0).fill_null(False).sum(),
    )
    c = rows(counts)[0]
    in_known_stage, unknown_stages = _stage_counts(raw, known_stages, MAX_STAGES)
    leads = snap.leads
    # Few-row queries cost more in compiling and round trips than in scanning: the
    # plain counts go in one query, the currency mixes in another.
    counted = _row_counts(
        {
            "stale": opp.filter(~opp.is_closed & (opp.created_at < stale_before)),
            "late": snap.post_close_involvements,
            "involvements": snap.tables["involvements"],
            "leads": leads,
            "converted_early": leads.filter(leads.converted_at < leads.created_at),
        }
    )
    stale, n_inv = counted["stale"], counted["involvements"]
    n_leads, converted_early = counted["leads"], counted["converted_early"]
    currencies = _currency_mixes(
        {"opportunities": raw, "revenue_months": snap.revenue, "costs": snap.costs}
    )
    all_currencies = sorted({k for mix in currencies.values() for k in mix})
    n = int(c["n"] or 0)
    # Deals without a stage are unknown too: everything not in a known stage.
    unknown_stage = n - in_known_stage

    def count(key: str) -> int:
        return int(c[key] or 0)

    return {
        "stale_open_deals": _item(
            int(stale), n, f"open deals created over {stale_days} days before as-of"
        ),
        "close_before_create": _item(
            count("close_before_create"), n, "closed_at earlier than created_at"
        ),
        "closed_without_date": _item(count("closed_without_date"), n, "is_closed but no closed_at"),
        "missing_amount": _item(count("missing_amount"), n, "amount is empty"),
        "negative_amount": _item(count("negative_amount"), n, "amount below zero"),
        "unknown_stage": {
            **_item(unknown_stage, n, "stage outside the known stage list"),
            "stages": unknown_stages,
        },
        "post_close_involvements": _item(
            counted["late"],
            n_inv,
            "partner attached after the deal closed (not credited)",
        ),
        "converted_before_created": _item(
            converted_early, n_leads, "lead converted_at earlier than created_at (not a duration)"
        ),
        "currency_mix": {
            "currencies": all_currencies,
            "mixed": len(all_currencies) > 1,
            "by_table": currencies,
        },
    }
