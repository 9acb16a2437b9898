"""Lead conversion speed: partner referrals vs cold outbound, leads created in the period.

Unconverted leads are right-censored at the as-of date (a Kaplan-Meier curve of "not yet
converted"). Because most leads never convert, the KM median is often "not reached"; the
curve still answers "what share converts within 30/60/90 days". The median days among
leads that did convert is reported for leads old enough (``mature_days``) that their
conversions are in, since young cohorts only show their fastest conversions.

Partner referral vs cold outbound: a Cox hazard ratio of converting (statsmodels PHReg).
Leads carry no segment, size band, country or industry in the schema (no account either),
so no adjusted version can be made: ``adjusted_hazard_ratio`` says so instead of inventing
one. Both are observational.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import replace
from typing import Any

import ibis
import ibis.expr.types as ir

from .estimate import NOT_ENOUGH_DATA, OBSERVATIONAL, Estimate
from .period import DateLike, Period, day_start
from .schema import Tables
from .snapshot import Snapshot, as_snapshot, in_range, rows
from .stats import difference, median_from_ranks, proportion, ranks_needed
from .survival import (
    CENSORED,
    EVENT,
    EventCounts,
    SurvivalCell,
    cox_hazard_ratio,
    kaplan_meier,
    km_median,
    value_at,
)

SOURCES = ("partner_referral", "cold_outbound")
HORIZONS = (30, 60, 90)
NO_ADJUSTMENT = (
    f"{NOT_ENOUGH_DATA}: no adjustment possible; leads carry no segment, size band, "
    "country, industry or account in the schema, so the lead mix cannot be adjusted for"
)


def _timed(snap: Snapshot, period: Period) -> ir.Table:
    leads = snap.leads
    cohort = leads.filter(
        in_range(leads.created_at, period.lo, period.hi) & leads.source.isin(list(SOURCES))
    )
    converted = cohort.converted_at.notnull()
    end = converted.ifelse(cohort.converted_at.date(), ibis.literal(snap.as_of))
    return cohort.mutate(days=end.delta(cohort.created_at.date(), unit="day"), converted=converted)


def _event_rows(timed: ir.Table) -> dict[str, list[tuple[float, int, int]]]:
    agg = timed.group_by(["source", "days", "converted"]).agg(count=timed.count())
    out: dict[str, list[tuple[float, int, int]]] = defaultdict(list)
    for r in rows(agg):
        if r["days"] is None or r["days"] < 0:
            continue  # converted before created: a data-quality problem, not a duration
        kind = EVENT if r["converted"] else CENSORED
        out[r["source"]].append((float(r["days"]), kind, int(r["count"])))
    return out


def _converted_medians(timed: ir.Table, mature_before: dt.datetime) -> dict[str, Estimate]:
    """Per source, the median days of mature converted leads, from two queries for all
    sources (their counts, then the few ranked values the interval needs)."""
    # Converted before created is a data-quality problem, not a duration (as in the curves).
    done = timed.filter(timed.converted & (timed.created_at < mature_before) & (timed.days >= 0))
    counted = done.group_by("source").agg(n=done.count())
    sizes = {r["source"]: int(r["n"]) for r in rows(counted)}
    wanted = {s: ranks_needed(sizes.get(s, 0)) for s in SOURCES}
    wanted = {s: r for s, r in wanted.items() if r}
    values: dict[str, dict[int, float]] = {s: {} for s in SOURCES}
    if wanted:
        rank = ibis.row_number().over(group_by=done.source, order_by=[done.days, done.lead_id])
        ranked = done.mutate(rank=rank)
        cond = ibis.or_(*((ranked.source == s) & ranked["rank"].isin(r) for s, r in wanted.items()))
        for r in rows(ranked.filter(cond).select("source", "rank", "days")):
            values[r["source"]][int(r["rank"])] = float(r["days"])
    return {s: median_from_ranks(values[s], sizes.get(s, 0)) for s in SOURCES}


def _group(events: list[tuple[float, int, int]]) -> dict[str, Any]:
    counts = EventCounts.from_rows(events)
    converted, n = int(counts.events.sum()), counts.n
    method = "1 - Kaplan-Meier, log-log Greenwood interval"
    within: dict[str, Estimate] = {}
    curve = kaplan_meier(counts)
    for h in HORIZONS:
        still = value_at(curve, counts, h, method, start=1.0)
        within[str(h)] = (
            replace(still, value=1 - still.value, low=1 - still.high, high=1 - still.low)  # type: ignore[operator]
            if still.ok
            else still
        )
    return {
        "median_days": km_median(counts),
        "converted_within_days": within,
        "conversion_rate": proportion(converted, n).with_note(
            "converted by the as-of date; young leads may still convert"
        ),
    }


def hazard_ratios(events: dict[str, list[tuple[float, int, int]]]) -> dict[str, Estimate]:
    """Conversion hazard ratio partner referral / cold outbound (> 1: partner leads
    convert sooner), and the adjusted slot, which the schema cannot fill."""
    cells = [
        SurvivalCell(source == SOURCES[0], "", days, kind == EVENT, count)
        for source in SOURCES
        for days, kind, count in events.get(source, [])
    ]
    naive = cox_hazard_ratio(cells, stratified=False, labels=SOURCES)
    n = sum(c.count for c in cells)
    return {
        "hazard_ratio": naive.with_note(OBSERVATIONAL),
        "adjusted_hazard_ratio": Estimate.missing(n=n, method="none", note=NO_ADJUSTMENT),
    }


def lead_conversion(
    tables: Tables | Snapshot,
    period: Period,
    as_of: DateLike,
    mature_days: int = 180,
) -> dict[str, Any]:
    snap = as_snapshot(tables, as_of)
    timed = _timed(snap, period)
    events = _event_rows(timed)
    mature_before = day_start(snap.as_of) - dt.timedelta(days=mature_days)
    medians = _converted_medians(timed, mature_before)
    out: dict[str, Any] = {}
    for source in SOURCES:
        group = _group(events.get(source, []))
        group["median_days_converted"] = medians[source].with_note(
            f"leads created at least {mature_days} days before the as-of date that converted"
        )
        out[source] = group
    a, b = out[SOURCES[0]]["conversion_rate"], out[SOURCES[1]]["conversion_rate"]
    out["partner_referral_vs_cold_outbound"] = {
        "conversion_rate_difference": difference(a.count or 0, a.n, b.count or 0, b.n).with_note(
            OBSERVATIONAL
        ),
        **hazard_ratios(events),
    }
    out["definition"] = (
        "calendar days created -> converted; unconverted leads censored at the as-of date"
    )
    return out
