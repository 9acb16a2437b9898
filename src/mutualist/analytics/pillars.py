"""The four pillars of the customer lifecycle — Build, Market, Sell, Serve — as views of the
board, for the whole ecosystem and per partner. The mapping (documented in docs/metrics.md):

- Build: technology/ISV partners and the deals an integration partner took part in;
- Market: MDF spend, partner-sourced pipeline, partner-referred leads and their conversion;
- Sell: partner share of won revenue, co-sold vs standalone win rate, ACV, cycle time;
- Serve: delivery partners on deals, NRR, GRR and logo churn of partner-attached accounts.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis.expr.types as ir

from .estimate import to_json
from .period import Period, day_end, day_start
from .snapshot import in_range
from .stats import proportion


def _count(expr: ir.Table) -> int:
    return int(expr.count().to_pyarrow().as_py())


def _closed_in(opps: ir.Table, period: Period, as_of: dt.date) -> ir.Table:
    # day_end is the next midnight, exclusive: a deal closed at 00:00 the day after the period
    # belongs to the next one.
    end = min(day_end(period.end), day_end(as_of))
    return opps.filter(opps.is_closed & in_range(opps.closed_at, day_start(period.start), end))


def _role_deals(
    tables: dict[str, ir.Table],
    period: Period,
    as_of: dt.date,
    role: str,
    partner_id: int | None = None,
) -> tuple[int, int]:
    """(won, closed) deals closed in the period with a partner in `role` attached before close."""
    inv = tables["involvements"]
    inv = inv.filter(inv.role == role)
    if partner_id is not None:
        inv = inv.filter(inv.partner_id == partner_id)
    opps = _closed_in(tables["opportunities"], period, as_of)
    joined = opps.join(inv, opps.opportunity_id == inv.opportunity_id).filter(
        lambda t: t.attached_at <= t.closed_at
    )
    deals = joined.select("opportunity_id", "is_won").distinct()
    # Sum the boolean itself: Ibis compiles that for every engine, while a cast to int64
    # fails on PostgreSQL (no boolean -> bigint cast there).
    row = deals.aggregate(closed=deals.count(), won=deals.is_won.sum()).to_pyarrow()
    closed = int(row["closed"][0].as_py() or 0)
    return int(row["won"][0].as_py() or 0), closed


def ecosystem_pillars(
    tables: dict[str, ir.Table], board: dict[str, Any], period: Period, as_of: dt.date
) -> dict[str, Any]:
    partners = tables["partners"]
    tech_partners = _count(
        partners.filter(
            partners.types.contains("isv") & partners.status.isin(["active", "onboarding"])
        )
    )
    tech_won, tech_closed = _role_deals(tables, period, as_of, "technology")
    delivery_won, delivery_closed = _role_deals(tables, period, as_of, "delivery")
    attribution, wins, leads = (
        board["attribution"],
        board["win_rate"],
        board["lead_conversion_days"],
    )
    return to_json(
        {
            "build": {
                "active_technology_partners": tech_partners,
                "win_rate_with_technology_partner": proportion(tech_won, tech_closed, win=True),
            },
            "market": {
                "mdf_spend": board["cac"].get("costs", {}).get("mdf"),
                "partner_sourced_pipeline": attribution["sourced"]["pipeline"],
                "partner_referred_lead_conversion": leads["partner_referral"]["conversion_rate"],
                "partner_cac": board["cac"]["partner"],
            },
            "sell": {
                "partner_revenue_share": attribution["partner"]["revenue_share"],
                "win_rate_partner": wins["partner"],
                "win_rate_difference": wins["partner_vs_unattributed"]["difference"],
                "win_rate_difference_adjusted": wins["partner_vs_unattributed"]["adjusted"],
                "acv_median_partner": board["acv"]["partner"]["median"],
                "cycle_days_median_partner": board["cycle_days"]["partner"]["median"],
            },
            "serve": {
                "win_rate_with_delivery_partner": proportion(
                    delivery_won, delivery_closed, win=True
                ),
                "nrr_partner_attached": board["nrr"]["partner_attached"],
                "grr_partner_attached": board["grr"]["partner_attached"],
                "logo_churn_partner_attached": board["logo_churn"]["partner_attached"],
            },
        }
    )


def partner_scorecard(
    tables: dict[str, ir.Table],
    board: dict[str, Any],
    partner_id: int,
    period: Period,
    as_of: dt.date,
) -> dict[str, Any]:
    """One partner's pillars; the sell figures come from the board's leaderboard and growth."""
    leads = tables["leads"]
    theirs = leads.filter(
        (leads.partner_id == partner_id) & in_range(leads.created_at, period.lo, period.hi)
    )
    referred = _count(theirs)
    converted = _count(theirs.filter(theirs.converted_at.notnull()))
    costs = tables["costs"]
    mdf = costs.filter(
        (costs.partner_id == partner_id)
        & (costs.category == "mdf")
        & in_range(costs.month, period.lo, period.hi)
    )
    mdf_spend = mdf.aggregate(total=mdf.amount.sum()).to_pyarrow()["total"][0].as_py()
    tech_won, tech_closed = _role_deals(tables, period, as_of, "technology", partner_id)
    delivery_won, delivery_closed = _role_deals(tables, period, as_of, "delivery", partner_id)
    ranked = next(
        (p for p in board["leaderboard"]["partners"] if p["partner_id"] == partner_id), None
    )
    growth = next(
        (p for p in board["partner_growth"]["partners"] if p["partner_id"] == partner_id), None
    )
    return to_json(
        {
            "partner_id": partner_id,
            "build": {"deals_as_technology_partner": proportion(tech_won, tech_closed, win=True)},
            "market": {
                "leads_referred": referred,
                "lead_conversion": proportion(converted, referred),
                "mdf_spend": mdf_spend or 0.0,
            },
            "sell": {
                "won_revenue": ranked["won_revenue"] if ranked else 0.0,
                "won_deals": ranked["won_deals"] if ranked else 0,
                "win_rate": ranked["win_rate"] if ranked else proportion(0, 0, win=True),
                "win_rate_shrunk": ranked["win_rate_shrunk"] if ranked else None,
                "yoy_growth": growth["growth"] if growth else None,
            },
            "serve": {
                "deals_as_delivery_partner": proportion(delivery_won, delivery_closed, win=True)
            },
        }
    )


__all__ = ["ecosystem_pillars", "partner_scorecard"]
