"""NRR, GRR and logo churn of partner-attached vs unattached accounts over 12 months.

Cohort: accounts with MRR in the start month (12 months before the end month). Attach
status is fixed at cohort start: an account is partner-attached if, on or before the start
month, any of its deals had a creditable partner involvement or a partner lead source.
Classifying by "ever had a partner" would count pre-attach months as partner months
(immortal-time bias). Ratios of sums get delta-method intervals over accounts, computed
from sums in the database, so this scales to any number of accounts.

Partners pick larger, better-fit accounts, and NRR rises with account size, so next to
each naive comparison there is one made within strata of the account's size band and its
starting-MRR tertile (standardised to the attached accounts' mix), plus a logistic
regression for logo churn; a Simpson warning flags naive and adjusted disagreeing in sign.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import ibis.expr.types as ir

from .attribution import AttributionRules
from .estimate import NOT_ENOUGH_DATA, OBSERVATIONAL, Estimate
from .period import DateLike, Period, add_months, day_start, month_start
from .schema import Tables
from .snapshot import Snapshot, as_snapshot, rows
from .stats import (
    EMPTY_SUMS,
    BinomialCell,
    RatioStratum,
    RatioSums,
    Stratum,
    difference,
    difference_of_estimates,
    logistic_odds_ratio,
    proportion,
    ratio_of_sums,
    simpson_warning,
    standardized_difference,
    standardized_ratio_difference,
)

ATTACHED, UNATTACHED = "partner_attached", "unattached"
# Strata of the adjusted comparisons: the account's size band (its segment) and the
# tertile of its starting MRR within that band (retention rises with account size).
STRATA = ("size_band", "start_mrr_tertile")
ADJUSTMENT = "size-band and starting-MRR-adjusted"
UNKNOWN = "unknown"
# Comparable strata must hold at least half of the attached accounts (MRR for NRR/GRR),
# or the "adjusted" figure would speak for a sliver of them.
MIN_COVERAGE = 0.5
Cells = dict[tuple[str, str], dict[str, Any]]  # (group, stratum key) -> sums


def window(period: Period, as_of: dt.date) -> tuple[dt.date, dt.date]:
    """(start month, end month): the end month holds the period end (capped at as-of)."""
    end = month_start(min(period.end, as_of))
    return add_months(end, -12), end


def _in_month(rev: ir.Table, month: dt.date) -> ir.BooleanValue:
    return (rev.month >= day_start(month)) & (rev.month < day_start(add_months(month, 1)))


def _start_end_mrr(rev: ir.Table, start: dt.date, end: dt.date) -> ir.Table:
    """Per account with MRR in either month: ``s`` and ``e``, the start and end month's MRR
    (null without rows that month). One scan of the revenue table for both months: it is
    the largest table after the deals, and it is not sorted by month."""
    in_start, in_end = _in_month(rev, start), _in_month(rev, end)
    both = rev.filter(in_start | in_end)
    return both.group_by("account_id").agg(
        s=both.mrr.sum(where=_in_month(both, start)), e=both.mrr.sum(where=_in_month(both, end))
    )


def attached_accounts(snap: Snapshot, at: dt.datetime) -> ir.Table:
    """Accounts with a partner touch on or before ``at`` (creditable involvements only).
    The involvements carry their deal's account: no join with the deals needed."""
    inv = snap.involvements
    by_involvement = inv.filter(inv.attached_at <= at).select("account_id")
    opp = snap.opportunities
    by_lead = opp.filter(opp.partner_lead & (opp.created_at <= at)).select("account_id")
    return by_involvement.union(by_lead).distinct().mutate(attached=ibis.literal(True))


def _cohort(snap: Snapshot, start: dt.date, end: dt.date) -> ir.Table:
    """One row per cohort account: start MRR ``s``, end MRR ``e`` (0 if churned), its
    group and strata."""
    joined = _start_end_mrr(snap.revenue, start, end).filter(ibis._.s > 0)
    joined = joined.left_join(attached_accounts(snap, day_start(start)), "account_id")
    accounts = snap.tables["accounts"].select("account_id", "size_band")
    joined = joined.drop("account_id_right").left_join(accounts, "account_id")
    joined = joined.mutate(
        e=joined.e.fill_null(0.0),
        grp=joined.attached.fill_null(False).ifelse(ATTACHED, UNATTACHED),
        size_band=joined.size_band.fill_null(UNKNOWN),
    )
    # Tertiles within each size band, cut over both groups together: global tertiles would
    # mostly repeat the band (an smb account is rarely in the top MRR third) and leave
    # empty strata. Ordering by id as well makes ties fall the same way on every engine.
    tertile = (
        ibis.ntile(3).over(group_by=joined.size_band, order_by=[joined.s, joined.account_id]) + 1
    )
    return joined.mutate(
        start_mrr_tertile=ibis.literal("start_mrr_tertile_").concat(tertile.cast("string"))
    )


def cohort_sums(snap: Snapshot, start: dt.date, end: dt.date) -> Cells:
    """Sums per (group, stratum): every field adds up, so group totals are their sums."""
    t = _cohort(snap, start, end)
    t = t.mutate(g=ibis.least(t.e, t.s), stratum=t.size_band.concat("|", t.start_mrr_tertile))
    agg = t.group_by(["grp", "stratum", *STRATA]).agg(
        n=t.count(),
        sx=t.s.sum(),
        sxx=(t.s * t.s).sum(),
        sy=t.e.sum(),
        syy=(t.e * t.e).sum(),
        sxy=(t.s * t.e).sum(),
        gy=t.g.sum(),
        gyy=(t.g * t.g).sum(),
        gxy=(t.s * t.g).sum(),
        churned=(t.e <= 0).sum(),
    )
    return {(r["grp"], r["stratum"]): r for r in rows(agg)}


def _sums(r: dict[str, Any] | None, metric: str) -> RatioSums:
    if not r:
        return EMPTY_SUMS
    # Field prefixes of cohort_sums: s* = sums with the end MRR (NRR), g* = with the end
    # MRR capped at the start MRR (GRR); sx and sxx (start MRR) are shared.
    y = "s" if metric == "nrr" else "g"
    return RatioSums(int(r["n"]), r[f"{y}y"], r["sx"], r[f"{y}yy"], r["sxx"], r[f"{y}xy"])


def _group_total(cells: Cells, group: str, metric: str) -> RatioSums:
    # Sorted so the float sums add in the same order on every engine.
    total = EMPTY_SUMS
    for key in sorted(k for k in cells if k[0] == group):
        total = total + _sums(cells[key], metric)
    return total


def _estimates(cells: Cells, group: str) -> dict[str, Estimate]:
    n = sum(int(r["n"]) for (g, _), r in cells.items() if g == group)
    if n == 0:
        missing = Estimate.missing(note=NOT_ENOUGH_DATA)
        return {"nrr": missing, "grr": missing, "logo_churn": proportion(0, 0)}
    churned = sum(int(r["churned"]) for (g, _), r in cells.items() if g == group)
    return {
        "nrr": ratio_of_sums(_group_total(cells, group, "nrr")),
        "grr": ratio_of_sums(_group_total(cells, group, "grr")),
        "logo_churn": proportion(churned, n),
    }


def _strata(cells: Cells) -> list[str]:
    return sorted({k for _, k in cells})


def adjusted_ratio_difference(cells: Cells, metric: str) -> Estimate:
    """NRR or GRR difference attached - unattached within strata, attached MRR weights."""
    strata = [
        RatioStratum(
            k, _sums(cells.get((ATTACHED, k)), metric), _sums(cells.get((UNATTACHED, k)), metric)
        )
        for k in _strata(cells)
    ]
    return standardized_ratio_difference(strata, unit="accounts", min_coverage=MIN_COVERAGE)


def _count(cells: Cells, group: str, key: str, field: str) -> int:
    r = cells.get((group, key))
    return int(r[field]) if r else 0


def adjusted_churn_difference(cells: Cells) -> Estimate:
    strata = [
        Stratum(
            k,
            _count(cells, ATTACHED, k, "churned"),
            _count(cells, ATTACHED, k, "n"),
            _count(cells, UNATTACHED, k, "churned"),
            _count(cells, UNATTACHED, k, "n"),
        )
        for k in _strata(cells)
    ]
    method = "risk difference standardized to partner-attached accounts (Wald)"
    return standardized_difference(strata, method=method, min_coverage=MIN_COVERAGE)


def churn_odds_ratio(cells: Cells) -> Estimate:
    """churned ~ attached + C(size_band) + C(start_mrr_tertile), on the stratum cells."""
    binomial = [
        BinomialCell(
            g == ATTACHED, tuple(str(r[c]) for c in STRATA), int(r["churned"]), int(r["n"])
        )
        for (g, _), r in cells.items()
    ]
    return logistic_odds_ratio(binomial, STRATA, labels=(ATTACHED, UNATTACHED))


def _comparison(
    cells: Cells, groups: dict[str, dict[str, Estimate]], metric: str
) -> dict[str, Estimate]:
    a, u = groups[ATTACHED][metric], groups[UNATTACHED][metric]
    if metric == "logo_churn":
        naive = difference(a.count or 0, a.n, u.count or 0, u.n)
        adjusted = adjusted_churn_difference(cells)
    else:
        naive = difference_of_estimates(a, u)
        adjusted = adjusted_ratio_difference(cells, metric)
    warning = simpson_warning(naive, adjusted, ADJUSTMENT, mix="the account mix")
    out = {
        "difference": naive.with_note(OBSERVATIONAL).with_warning(warning),
        "adjusted": adjusted.with_note(OBSERVATIONAL).with_warning(warning),
    }
    if metric == "logo_churn":
        out["adjusted_odds_ratio"] = churn_odds_ratio(cells).with_note(OBSERVATIONAL)
    return out


def _has_revenue(snap: Snapshot, month: dt.date) -> bool:
    """No MRR rows at all in the end month means "no data yet", not "everyone churned"."""
    rev = snap.revenue
    # One row is enough: an engine stops scanning at the first (a count read every row).
    return rev.filter(_in_month(rev, month)).select("month").limit(1).to_pyarrow().num_rows > 0


def retention(
    tables: Tables | Snapshot,
    period: Period,
    as_of: DateLike,
    rules: AttributionRules | None = None,
) -> dict[str, Any]:
    """{"nrr": ..., "grr": ..., "logo_churn": ...}, each with both groups and a comparison."""
    snap = as_snapshot(tables, as_of, rules)
    start, end = window(period, snap.as_of)
    cells = cohort_sums(snap, start, end) if _has_revenue(snap, end) else {}
    groups = {g: _estimates(cells, g) for g in (ATTACHED, UNATTACHED)}
    out: dict[str, Any] = {}
    for metric in ("nrr", "grr", "logo_churn"):
        out[metric] = {
            ATTACHED: groups[ATTACHED][metric],
            UNATTACHED: groups[UNATTACHED][metric],
            f"{ATTACHED}_vs_{UNATTACHED}": _comparison(cells, groups, metric),
            "stratified_by": list(STRATA),
            "window": {"start_month": start.isoformat(), "end_month": end.isoformat()},
        }
    return out
