"""Blended and partner customer-acquisition cost (CAC) for the period.

Blended CAC = all go-to-market cost in the period / new customers won in the period.
Partner CAC = partner-program cost (partner team, MDF, commissions paid to partners) /
new customers whose first won deal is partner-attributed (sourced or influenced).
A "new customer" is an account whose first-ever won deal (as of the as-of date) closed in
the period. Costs are booked per month; a month counts when it starts inside the period.

The interval treats the cost as known and the customer count as Poisson (exact Garwood
bounds): small monthly customer counts are the main source of noise in a CAC.
"""

from __future__ import annotations

from typing import Any

import ibis

from .attribution import PARTNER_BUCKETS, AttributionRules
from .estimate import NOT_ENOUGH_DATA, Estimate
from .period import DateLike, Period
from .schema import COST_CATEGORIES, Tables
from .snapshot import Snapshot, as_snapshot, in_range, rows
from .stats import poisson_interval

PARTNER_COSTS = ("partner_team", "mdf", "commissions")


def _costs(snap: Snapshot, period: Period) -> tuple[dict[str, float], list[str]]:
    """Cost per category ('commissions' split into partner and direct) and currencies."""
    costs = snap.costs.filter(in_range(snap.costs.month, period.lo, period.hi))
    category = ibis.ifelse(
        (costs.category == "commissions") & costs.partner_id.isnull(),
        "direct_commissions",
        costs.category,
    )
    keyed = costs.mutate(cat=category, cur=costs.currency.fill_null("?"))
    agg = keyed.group_by(["cat", "cur"]).agg(amount=keyed.amount.sum())
    totals: dict[str, float] = {}
    currencies: set[str] = set()
    for r in rows(agg):
        totals[r["cat"]] = totals.get(r["cat"], 0.0) + float(r["amount"] or 0.0)
        currencies.add(r["cur"])
    return totals, sorted(currencies)


def _new_customers(snap: Snapshot, period: Period) -> tuple[int, int]:
    """(all, partner-attributed) accounts whose first won deal closed in the period.

    An account's first win falls in the period when it won a deal in the period and none
    before it; only those accounts' wins in the period are ranked to find the first one.
    A window over every won deal of every account ranked millions of rows to keep a few
    thousand (the largest cost of the CAC section at 10M deals). A won deal without an
    account names no customer."""
    opp = snap.opportunities
    won = opp.filter(opp.is_won & opp.account_id.notnull())
    earlier = won.filter(won.closed_at < period.lo).account_id
    current = won.filter(
        in_range(won.closed_at, period.lo, period.hi) & ~won.account_id.isin(earlier)
    )
    first = current.mutate(
        rank=ibis.row_number().over(
            group_by=current.account_id, order_by=[current.closed_at, current.opportunity_id]
        )
    )
    first = first.filter(first["rank"] == 0)
    agg = first.agg(n=first.count(), partner=first.bucket.isin(list(PARTNER_BUCKETS)).sum())
    r = rows(agg)[0]
    return int(r["n"] or 0), int(r["partner"] or 0)


def _cac(cost: float, customers: int, what: str) -> Estimate:
    method = "cost / new customers; exact Poisson interval on the count"
    if cost <= 0:
        return Estimate.missing(n=customers, method=method, count=customers).with_note(
            f"no {what} costs recorded in the period"
        )
    if customers == 0:
        return Estimate.missing(n=0, method=method, count=0, note=NOT_ENOUGH_DATA).with_note(
            "no new customers in the period"
        )
    lo, hi = poisson_interval(customers)
    return Estimate(
        cost / customers,
        cost / hi,
        cost / lo if lo > 0 else None,
        n=customers,
        method=method,
        count=customers,
    )


def cac(
    tables: Tables | Snapshot,
    period: Period,
    as_of: DateLike,
    rules: AttributionRules | None = None,
) -> dict[str, Any]:
    snap = as_snapshot(tables, as_of, rules)
    totals, currencies = _costs(snap, period)
    new_all, new_partner = _new_customers(snap, period)
    blended_cost = sum(
        v for k, v in totals.items() if k in (*COST_CATEGORIES, "direct_commissions")
    )
    partner_cost = sum(totals.get(k, 0.0) for k in PARTNER_COSTS)
    blended, partner = (
        _cac(blended_cost, new_all, "go-to-market"),
        _cac(partner_cost, new_partner, "partner-program"),
    )
    if len(currencies) > 1:
        warning = f"costs in several currencies {currencies} are summed without conversion"
        blended, partner = blended.with_warning(warning), partner.with_warning(warning)
    return {
        "blended": blended,
        "partner": partner,
        "costs": {**totals, "blended_total": blended_cost, "partner_total": partner_cost},
        "new_customers": {"all": new_all, "partner": new_partner},
        "currencies": currencies,
        "definition": (
            "blended = all GTM cost / new customers; partner = (partner_team + mdf + "
            "commissions paid to partners) / new customers whose first win is partner-attributed"
        ),
    }
