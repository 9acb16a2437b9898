"""Partner growth: won revenue in the trailing 12 months to the as-of date vs the 12 before.

Per partner, credit goes to the *primary* creditable involvement on partner-attributed won
deals (one partner per deal, no double counting). The ecosystem line uses every
partner-attributed won deal, with or without an involvement row.

Interval: deals arrive as a Poisson process with independent sizes, so a window's revenue
R = sum(x) has variance about sum(x^2); the delta method on log(R1 / R0) gives
exp(log(R1/R0) +- z sqrt(sum x1^2 / R1^2 + sum x0^2 / R0^2)) - 1, all from sums the
database computes. A minimum number of won deals in each year guards against percentages
on tiny bases.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from typing import Any

import ibis
import ibis.expr.types as ir

from .attribution import PARTNER_BUCKETS, AttributionRules
from .estimate import NOT_ENOUGH_DATA, Estimate
from .period import DateLike, day_end
from .schema import Tables
from .snapshot import Snapshot, as_snapshot, rows
from .stats import z_value

MIN_DEALS = 5


def shift_months(moment: dt.datetime, months: int) -> dt.datetime:
    """Same day-of-month ``months`` later, clamped to the month's last day."""
    index = moment.year * 12 + moment.month - 1 + months
    year, month = index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def windows(as_of: dt.date) -> tuple[dt.datetime, dt.datetime, dt.datetime]:
    """(prior start, recent start, recent end): recent = the 12 months up to as-of."""
    hi = day_end(as_of)
    return shift_months(hi, -24), shift_months(hi, -12), hi


def _window_sums(won: ir.Table, keys: list[str], as_of: dt.date) -> ir.Table:
    prior_lo, recent_lo, hi = windows(as_of)
    recent = (won.closed_at >= recent_lo) & (won.closed_at < hi)
    prior = (won.closed_at >= prior_lo) & (won.closed_at < recent_lo)
    t = won.filter(recent | prior).mutate(recent=recent)
    amount = t.amount.fill_null(0.0)
    return t.group_by([*keys, "recent"]).agg(
        n=t.count(), s=amount.sum(), ss=(amount * amount).sum()
    )


def yoy(recent: dict[str, float], prior: dict[str, float], min_deals: int = MIN_DEALS) -> Estimate:
    method = "log revenue ratio, compound-Poisson delta method"
    n1, n0 = int(recent.get("n", 0)), int(prior.get("n", 0))
    s1, s0 = float(recent.get("s", 0.0)), float(prior.get("s", 0.0))
    if n1 < min_deals or n0 < min_deals or s1 <= 0 or s0 <= 0:
        return Estimate.missing(n=n1 + n0, method=method).with_note(
            f"needs at least {min_deals} won deals in each year"
        )
    log_ratio = math.log(s1 / s0)
    half = z_value() * math.sqrt(recent["ss"] / s1**2 + prior["ss"] / s0**2)
    return Estimate(
        s1 / s0 - 1,
        math.exp(log_ratio - half) - 1,
        math.exp(log_ratio + half) - 1,
        n=n1 + n0,
        method=method,
    )


def _line(cells: dict[bool, dict[str, Any]], min_deals: int) -> dict[str, Any]:
    recent, prior = cells.get(True, {}), cells.get(False, {})
    return {
        "recent_revenue": float(recent.get("s", 0.0) or 0.0),
        "prior_revenue": float(prior.get("s", 0.0) or 0.0),
        "won_deals_recent": int(recent.get("n", 0) or 0),
        "won_deals_prior": int(prior.get("n", 0) or 0),
        "growth": yoy(recent, prior, min_deals),
    }


def partner_growth(
    tables: Tables | Snapshot,
    as_of: DateLike,
    rules: AttributionRules | None = None,
    min_deals: int = MIN_DEALS,
) -> dict[str, Any]:
    snap = as_snapshot(tables, as_of, rules)
    opp = snap.opportunities
    won = opp.filter(opp.is_won & opp.bucket.isin(list(PARTNER_BUCKETS)))
    credit = snap.credited
    prior_lo, recent_lo, hi = windows(snap.as_of)
    # Only the two years' deals: the ranking below would otherwise sort every won deal's
    # involvements since the data began. A deal keeps or loses all its rows together.
    primary = credit.filter(
        credit.is_primary
        & credit.is_won
        & credit.bucket.isin(list(PARTNER_BUCKETS))
        & (credit.closed_at >= prior_lo)
        & (credit.closed_at < hi)
    )
    # One primary partner per deal: if the CRM has several, the earliest attached wins.
    order = [primary.attached_at, primary.partner_id]
    primary = primary.mutate(
        rank=ibis.row_number().over(group_by=primary.opportunity_id, order_by=order)
    )
    primary = primary.filter(primary["rank"] == 0)
    # The ecosystem line and the partner lines in one query (a union of both sums).
    per_partner = _window_sums(primary, ["partner_id"], snap.as_of).mutate(
        line=ibis.literal("partner")
    )
    ecosystem = _window_sums(won, [], snap.as_of).mutate(
        partner_id=ibis.null("int64"), line=ibis.literal("ecosystem")
    )
    both = per_partner.union(ecosystem.select(*per_partner.columns), distinct=False)
    eco: dict[bool, dict[str, Any]] = {}
    per: dict[int, dict[bool, dict[str, Any]]] = {}
    for r in rows(both):
        if r["line"] == "ecosystem":
            eco[bool(r["recent"])] = r
        else:
            per.setdefault(int(r["partner_id"]), {})[bool(r["recent"])] = r
    names = _partner_names(snap, list(per))
    partners = [
        {"partner_id": pid, "name": names.get(pid), **_line(cells, min_deals)}
        for pid, cells in per.items()
    ]
    partners.sort(key=lambda p: (-p["recent_revenue"], p["partner_id"]))
    out: dict[str, Any] = {
        "ecosystem": _line(eco, min_deals),
        "partners": partners,
        "window": {
            "prior_start": prior_lo.date().isoformat(),
            "recent_start": recent_lo.date().isoformat(),
            "recent_end_exclusive": hi.date().isoformat(),
        },
        "credit": "primary creditable involvement on partner-attributed won deals",
    }
    if not partners and not eco:
        out["note"] = NOT_ENOUGH_DATA
    return out


def _partner_names(snap: Snapshot, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    # Filtered here, not with ``isin(ids)`` in the query: a literal list of every credited
    # partner makes the query slow to compile, and the partner table is small.
    wanted = set(ids)
    p = snap.tables["partners"]
    return {
        int(r["partner_id"]): r["name"]
        for r in rows(p.select("partner_id", "name"))
        if r["partner_id"] is not None and int(r["partner_id"]) in wanted
    }


__all__ = ["partner_growth", "windows", "yoy"]
