"""Sales-cycle length: days from creation to close for the deals *created* in the period.

Open deals are right-censored at the as-of date instead of dropped (dropping them biases
cycle times short). "Time to any close" is a Kaplan-Meier curve; "time to a win" treats a
loss as a competing event (Aalen-Johansen cumulative incidence), because 1 - KM with
losses censored would overstate the chance of winning.

Partner vs unattributed: hazard ratios of closing from Cox models (statsmodels PHReg),
unadjusted and stratified by size band and industry. Partners attach to large deals, which
close slowly, so the naive ratio can hide (or reverse) a within-segment speed-up; a
Simpson warning says so. Both are observational.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import ibis
import ibis.expr.types as ir

from .attribution import UNATTRIBUTED, AttributionRules
from .estimate import OBSERVATIONAL, Estimate
from .groups import GROUPS, with_partner_group
from .period import DateLike, Period
from .schema import Tables
from .snapshot import Snapshot, as_snapshot, in_range, rows
from .stats import simpson_warning
from .survival import (
    CENSORED,
    COMPETING,
    EVENT,
    CellArrays,
    EventCounts,
    SurvivalCell,
    aalen_johansen,
    cox_hazard_ratio,
    kaplan_meier,
    km_median,
    value_at,
)

HORIZONS = (90, 180, 365)
OUTCOMES = ("open", "won", "lost")
# The Cox model compares deals within these account attributes (each combination its own
# baseline hazard); deals whose account lacks one fall in an "unknown" level.
STRATA = ("size_band", "industry")
UNKNOWN = "unknown"


def _timed(snap: Snapshot, period: Period) -> ir.Table:
    """Deals created in the period with ``days`` to close (or to as-of) and ``outcome``."""
    opp = snap.opportunities
    cohort = opp.filter(in_range(opp.created_at, period.lo, period.hi))
    end = ibis.ifelse(cohort.is_closed, cohort.closed_at.date(), ibis.literal(snap.as_of))
    outcome = ibis.cases((cohort.is_won, "won"), (cohort.is_closed, "lost"), else_="open")
    return cohort.mutate(days=end.delta(cohort.created_at.date(), unit="day"), outcome=outcome)


def outcome_counts(snap: Snapshot, period: Period) -> tuple[dict[str, list[Any]], int]:
    """Per group: (days, outcome, count) rows; plus deals with close before create."""
    timed = with_partner_group(_timed(snap, period))
    agg = timed.group_by(["grp", "days", "outcome"]).agg(count=timed.count())
    out: dict[str, list[Any]] = defaultdict(list)
    negative = 0
    for r in rows(agg):
        if r["days"] is None or r["days"] < 0:
            negative += int(r["count"]) if r["grp"] != "partner" else 0
            continue
        out[r["grp"]].append((float(r["days"]), r["outcome"], int(r["count"])))
    return out, negative


def _km_counts(rows_: list[Any]) -> EventCounts:
    return EventCounts.from_rows((d, CENSORED if o == "open" else EVENT, c) for d, o, c in rows_)


def _aj_counts(rows_: list[Any]) -> EventCounts:
    kind = {"open": CENSORED, "won": EVENT, "lost": COMPETING}
    return EventCounts.from_rows((d, kind[o], c) for d, o, c in rows_)


def _group(rows_: list[Any]) -> dict[str, Any]:
    km = _km_counts(rows_)
    aj_counts = _aj_counts(rows_)
    aj = aalen_johansen(aj_counts)
    method = "Aalen-Johansen cumulative incidence (loss competing)"
    return {
        "median": km_median(km),
        "open": int(km.censored.sum()),
        "won_within_days": {str(h): value_at(aj, aj_counts, h, method) for h in HORIZONS},
        "still_open_curve": kaplan_meier(km).points() if km.n else [],
    }


def survival_cells(snap: Snapshot, period: Period) -> CellArrays:
    """(partner?, stratum, days, closed?) counts of partner and unattributed deals; a
    deal closing before it was created has no duration and is left out (as above)."""
    timed = snap.with_accounts(_timed(snap, period))
    keyed = timed.mutate(
        is_partner=timed.bucket != UNATTRIBUTED,
        closed=timed.outcome != "open",
        **{c: timed[c].fill_null(UNKNOWN) for c in STRATA},
    )
    agg = keyed.group_by(["is_partner", *STRATA, "days", "closed"]).agg(count=keyed.count())
    # The stratum label is built on the cells, not on every deal: a string per deal costs
    # more than the grouping. (Two cells with one label act as one in the Cox fit.)
    agg = agg.mutate(stratum=ibis.literal("|").join([agg[c] for c in STRATA]))
    # Columns, not one object per cell: there are tens of thousands of cells at scale.
    cols = agg.to_pyarrow().to_pydict()
    days = [-1 if d is None else d for d in cols["days"]]
    cells = CellArrays.from_columns(
        cols["is_partner"], cols["stratum"], days, cols["closed"], cols["count"]
    )
    return cells.take(cells.time >= 0)


def partner_comparison(cells: Sequence[SurvivalCell] | CellArrays) -> dict[str, Estimate]:
    """Hazard ratios of closing, partner / unattributed (> 1: partner deals close sooner)."""
    labels = ("partner", "unattributed")
    naive = cox_hazard_ratio(cells, stratified=False, labels=labels)
    adjusted = cox_hazard_ratio(
        cells, stratified=True, labels=labels, adjusted_for=" x ".join(STRATA)
    )
    warning = simpson_warning(
        naive, adjusted, "size-band and industry-adjusted", null=1.0, what="hazard ratios"
    )
    return {
        "hazard_ratio": naive.with_note(OBSERVATIONAL).with_warning(warning),
        "adjusted_hazard_ratio": adjusted.with_note(OBSERVATIONAL).with_warning(warning),
    }


def cycle_days(
    tables: Tables | Snapshot,
    period: Period,
    as_of: DateLike,
    rules: AttributionRules | None = None,
) -> dict[str, Any]:
    snap = as_snapshot(tables, as_of, rules)
    counts, negative = outcome_counts(snap, period)
    out: dict[str, Any] = {g: _group(counts.get(g, [])) for g in GROUPS}
    out["partner_vs_unattributed"] = partner_comparison(survival_cells(snap, period))
    out["stratified_by"] = list(STRATA)
    out["definition"] = (
        "calendar days created -> closed for deals created in the period; open deals "
        "censored at the as-of date"
    )
    if negative:
        out["warning"] = f"{negative} deals close before they were created: left out"
    return out
