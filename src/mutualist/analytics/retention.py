"""NRR, GRR and logo churn of partner-attached vs unattached accounts over 12 months.

Cohort: accounts with MRR in the start month (12 months before the end month). Attach
status is fixed at cohort start: an account is partner-attached if, on or before the start
month, any of its deals had a creditable partner involvement or a partner lead source.
Classifying by "ever had a partner" would count pre-attach months as partner months
(immortal-time bias). Ratios of sums get delta-method intervals over accounts, computed
from sums in the database, so this scales to any number of accounts.
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
from .stats import RatioSums, difference, difference_of_estimates, proportion, ratio_of_sums

ATTACHED, UNATTACHED = "partner_attached", "unattached"


def window(period: Period, as_of: dt.date) -> tuple[dt.date, dt.date]:
    """(start month, end month): the end month holds the period end (capped at as-of)."""
    end = month_start(min(period.end, as_of))
    return add_months(end, -12), end


def _month_mrr(rev: ir.Table, month: dt.date, name: str) -> ir.Table:
    lo, hi = day_start(month), day_start(add_months(month, 1))
    in_month = rev.filter((rev.month >= lo) & (rev.month < hi))
    return in_month.group_by("account_id").agg(**{name: in_month.mrr.sum()})


def attached_accounts(snap: Snapshot, at: dt.datetime) -> ir.Table:
    """Accounts with a partner touch on or before ``at`` (creditable involvements only)."""
    inv = snap.credited
    by_involvement = inv.filter(inv.attached_at <= at).select("account_id")
    opp = snap.opportunities
    by_lead = opp.filter(
        opp.lead_source.isin(list(snap.rules.partner_lead_sources)) & (opp.created_at <= at)
    ).select("account_id")
    return by_involvement.union(by_lead).distinct().mutate(attached=ibis.literal(True))


def cohort_sums(snap: Snapshot, start: dt.date, end: dt.date) -> dict[str, dict[str, Any]]:
    s = _month_mrr(snap.revenue, start, "s").filter(ibis._.s > 0)
    e = _month_mrr(snap.revenue, end, "e")
    joined = s.left_join(e, "account_id").drop("account_id_right")
    joined = joined.left_join(attached_accounts(snap, day_start(start)), "account_id")
    t = joined.mutate(
        e=joined.e.fill_null(0.0),
        grp=joined.attached.fill_null(False).ifelse(ATTACHED, UNATTACHED),
    )
    t = t.mutate(g=ibis.least(t.e, t.s))
    agg = t.group_by("grp").agg(
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
    return {r["grp"]: r for r in rows(agg)}


def _estimates(r: dict[str, Any] | None) -> dict[str, Estimate]:
    if not r:
        missing = Estimate.missing(note=NOT_ENOUGH_DATA)
        return {"nrr": missing, "grr": missing, "logo_churn": proportion(0, 0)}
    n = int(r["n"])
    nrr = RatioSums(n, r["sy"], r["sx"], r["syy"], r["sxx"], r["sxy"])
    grr = RatioSums(n, r["gy"], r["sx"], r["gyy"], r["sxx"], r["gxy"])
    return {
        "nrr": ratio_of_sums(nrr),
        "grr": ratio_of_sums(grr),
        "logo_churn": proportion(int(r["churned"]), n),
    }


def _has_revenue(snap: Snapshot, month: dt.date) -> bool:
    """No MRR rows at all in the end month means "no data yet", not "everyone churned"."""
    rev = snap.revenue
    lo, hi = day_start(month), day_start(add_months(month, 1))
    return int(rev.filter((rev.month >= lo) & (rev.month < hi)).count().execute()) > 0


def retention(
    tables: Tables | Snapshot,
    period: Period,
    as_of: DateLike,
    rules: AttributionRules | None = None,
) -> dict[str, Any]:
    """{"nrr": ..., "grr": ..., "logo_churn": ...}, each with both groups and a comparison."""
    snap = as_snapshot(tables, as_of, rules)
    start, end = window(period, snap.as_of)
    sums = cohort_sums(snap, start, end) if _has_revenue(snap, end) else {}
    groups = {g: _estimates(sums.get(g)) for g in (ATTACHED, UNATTACHED)}
    out: dict[str, Any] = {}
    for metric in ("nrr", "grr", "logo_churn"):
        a, u = groups[ATTACHED][metric], groups[UNATTACHED][metric]
        if metric == "logo_churn":
            diff = difference(a.count or 0, a.n, u.count or 0, u.n)
        else:
            diff = difference_of_estimates(a, u)
        out[metric] = {
            ATTACHED: a,
            UNATTACHED: u,
            f"{ATTACHED}_vs_{UNATTACHED}": {"difference": diff.with_note(OBSERVATIONAL)},
            "window": {"start_month": start.isoformat(), "end_month": end.isoformat()},
        }
    return out
