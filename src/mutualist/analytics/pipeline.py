"""Partner-sourced and -influenced pipeline and revenue (company view, one bucket a deal).

Pipeline counts deals *created* in the period; revenue counts deals *won* with a close in
the period. These are census totals of the CRM, not samples, so they carry no sampling
interval; the deal share carries a Wilson interval because boards read it as a rate.
"""

from __future__ import annotations

from typing import Any

from .attribution import BUCKETS, PARTNER, PARTNER_BUCKETS, AttributionRules
from .estimate import NOT_ENOUGH_DATA
from .period import DateLike, Period
from .schema import Tables
from .snapshot import Snapshot, as_snapshot, in_range, rows
from .stats import proportion


def _totals(snap: Snapshot, period: Period) -> dict[str, dict[str, float]]:
    opp = snap.opportunities
    created = in_range(opp.created_at, period.lo, period.hi)
    won = opp.is_won & in_range(opp.closed_at, period.lo, period.hi)
    agg = opp.group_by("bucket").agg(
        deals=created.sum(),
        pipeline=created.ifelse(opp.amount, 0.0).sum(),
        won_deals=won.sum(),
        won_revenue=won.ifelse(opp.amount, 0.0).sum(),
    )
    out = {
        b: {"deals": 0.0, "pipeline": 0.0, "won_deals": 0.0, "won_revenue": 0.0} for b in BUCKETS
    }
    for row in rows(agg):
        out[row["bucket"]] = {k: float(row[k] or 0.0) for k in out[row["bucket"]]}
    return out


def _share(part: float, whole: float) -> float | None:
    return part / whole if whole > 0 else None


def _group(values: dict[str, float], total: dict[str, float]) -> dict[str, Any]:
    return {
        "deals": int(values["deals"]),
        "pipeline": values["pipeline"],
        "won_deals": int(values["won_deals"]),
        "won_revenue": values["won_revenue"],
        "deal_share": proportion(int(values["deals"]), int(total["deals"])),
        "pipeline_share": _share(values["pipeline"], total["pipeline"]),
        "won_deal_share": proportion(int(values["won_deals"]), int(total["won_deals"])),
        "revenue_share": _share(values["won_revenue"], total["won_revenue"]),
    }


def currencies(snap: Snapshot, period: Period) -> list[str]:
    # Not from the materialised deals: a string column in every one of them cost more to
    # write than this one query costs to read from the source.
    opp = snap.opportunities_as_of
    touched = in_range(opp.created_at, period.lo, period.hi) | in_range(
        opp.closed_at, period.lo, period.hi
    )
    expr = opp.filter(touched).select(currency=opp.currency.fill_null("?")).distinct()
    return sorted(r["currency"] for r in rows(expr))


def mixed_currency_warning(found: list[str]) -> str | None:
    if len(found) > 1:
        return f"amounts in several currencies {found} are summed without conversion"
    return None


def attribution_summary(
    tables: Tables | Snapshot,
    period: Period,
    as_of: DateLike,
    rules: AttributionRules | None = None,
) -> dict[str, Any]:
    snap = as_snapshot(tables, as_of, rules)
    totals = _totals(snap, period)
    total = {k: sum(totals[b][k] for b in BUCKETS) for k in totals[BUCKETS[0]]}
    totals[PARTNER] = {k: sum(totals[b][k] for b in PARTNER_BUCKETS) for k in total}
    out: dict[str, Any] = {g: _group(v, total) for g, v in totals.items()}
    out["total"] = {
        "deals": int(total["deals"]),
        "pipeline": total["pipeline"],
        "won_deals": int(total["won_deals"]),
        "won_revenue": total["won_revenue"],
    }
    out["rule"] = {
        "window_days": snap.rules.window_days,
        "sourcing_roles": list(snap.rules.sourcing_roles),
        "partner_lead_sources": list(snap.rules.partner_lead_sources),
        "view": "company view: each opportunity in exactly one bucket",
    }
    warning = mixed_currency_warning(currencies(snap, period))
    if warning:
        out["warning"] = warning
    if total["deals"] == 0 and total["won_deals"] == 0:
        out["note"] = NOT_ENOUGH_DATA
    return out


__all__ = ["attribution_summary"]
