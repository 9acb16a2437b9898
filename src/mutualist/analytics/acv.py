"""Deal size (ACV) of won deals: median with an exact order-statistic interval, mean with
a Student-t interval, per group, and a partner/unattributed ratio within size bands.

Only the handful of order statistics the intervals need leave the database: a window
function ranks the values, Python fetches ranks like n/2 and the binomial bounds.
"""

from __future__ import annotations

import math
from typing import Any

import ibis
import ibis.expr.types as ir

from .attribution import UNATTRIBUTED, AttributionRules
from .estimate import OBSERVATIONAL, Estimate
from .groups import GROUPS, with_partner_group
from .period import DateLike, Period
from .schema import Tables
from .snapshot import Snapshot, as_snapshot, in_range, rows
from .stats import mean_t, median_from_ranks, ranks_needed, z_value


def won_deals(snap: Snapshot, period: Period) -> ir.Table:
    opp = snap.opportunities
    won = opp.is_won & in_range(opp.closed_at, period.lo, period.hi)
    # Non-positive or missing ACV is a data-quality problem, not a deal size.
    return opp.filter(won & opp.acv.notnull() & (opp.acv > 0))


def _moments(deals: ir.Table) -> dict[str, dict[str, Any]]:
    agg = deals.group_by("grp").agg(n=deals.count(), mean=deals.acv.mean(), sd=deals.acv.std())
    return {r["grp"]: r for r in rows(agg)}


def _order_statistics(deals: ir.Table, sizes: dict[str, int]) -> dict[str, dict[int, float]]:
    wanted = {g: ranks_needed(n) for g, n in sizes.items() if n > 0}
    if not wanted:
        return {}
    ranked = deals.mutate(
        rank=ibis.row_number().over(group_by=deals.grp, order_by=[deals.acv, deals.opportunity_id])
    )
    cond = ibis.or_(*((ranked.grp == g) & ranked["rank"].isin(r) for g, r in wanted.items()))
    out: dict[str, dict[int, float]] = {g: {} for g in wanted}
    for r in rows(ranked.filter(cond).select("grp", "rank", "acv")):
        out[r["grp"]][int(r["rank"])] = float(r["acv"])
    return out


def within_band_ratio(deals: ir.Table) -> Estimate:
    """Geometric-mean ACV ratio partner / unattributed within size bands, weighted by the
    partner deals per band (exp of a standardised difference of mean log ACV). ``deals``
    need the account's ``size_band`` (:meth:`Snapshot.with_accounts`)."""
    logs = deals.mutate(is_partner=deals.bucket != UNATTRIBUTED, log_acv=deals.acv.ln())
    agg = logs.group_by(["is_partner", "size_band"]).agg(
        n=logs.count(), mean=logs.log_acv.mean(), var=logs.log_acv.var()
    )
    cells = {(bool(r["is_partner"]), r["size_band"]): r for r in rows(agg)}
    bands = [b for (p, b) in cells if p and (False, b) in cells]
    method = "geometric-mean ratio within size bands (log scale, Wald)"
    usable = [b for b in bands if cells[(True, b)]["n"] > 1 and cells[(False, b)]["n"] > 1]
    n = sum(int(r["n"]) for r in cells.values())
    if not usable:
        return Estimate.missing(n=n, method=method)
    n1 = sum(int(cells[(True, b)]["n"]) for b in usable)
    diff = var = 0.0
    for b in usable:
        p, u = cells[(True, b)], cells[(False, b)]
        w = p["n"] / n1
        diff += w * (p["mean"] - u["mean"])
        var += w * w * (p["var"] / p["n"] + u["var"] / u["n"])
    half = z_value() * math.sqrt(var)
    return Estimate(
        math.exp(diff), math.exp(diff - half), math.exp(diff + half), n=n, method=method
    ).with_note(OBSERVATIONAL)


def acv_summary(
    tables: Tables | Snapshot,
    period: Period,
    as_of: DateLike,
    rules: AttributionRules | None = None,
) -> dict[str, Any]:
    snap = as_snapshot(tables, as_of, rules)
    deals = with_partner_group(won_deals(snap, period))
    moments = _moments(deals)
    sizes = {g: int(moments.get(g, {}).get("n") or 0) for g in GROUPS}
    ranked = _order_statistics(deals, sizes)
    out: dict[str, Any] = {}
    for g in GROUPS:
        m = moments.get(g, {})
        out[g] = {
            "median": median_from_ranks(ranked.get(g, {}), sizes[g]),
            "mean": mean_t(m.get("mean"), m.get("sd"), sizes[g]),
        }
    banded = snap.with_accounts(won_deals(snap, period))
    out["partner_vs_unattributed"] = {"adjusted_ratio": within_band_ratio(banded)}
    out["definition"] = "ACV of deals won (closed) in the period; ACV missing or <= 0 left out"
    return out
