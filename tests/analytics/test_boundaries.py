"""Edges the board must get right on every engine: a deal closed at midnight after the period
belongs to the next one, and a lead converted before it was created is not a duration."""

from __future__ import annotations

import datetime as dt
from typing import Any

from mutualist import analytics as an
from mutualist.analytics.leads import lead_conversion
from mutualist.analytics.pillars import ecosystem_pillars, partner_scorecard
from mutualist.analytics.quality import data_quality

from .conftest import MakeTables, day, opp

PERIOD = an.Period(dt.date(2026, 1, 1), dt.date(2026, 3, 31))
AS_OF = dt.date(2026, 6, 30)
PARTNER = {
    "partner_id": 7,
    "name": "Tech",
    "types": "isv",
    "status": "active",
    "tier": "gold",
    "region": "NA",
    "industries": "",
    "technologies": "",
    "practices": "",
}


def involvement(oid: int, role: str = "technology") -> dict[str, Any]:
    return {
        "opportunity_id": oid,
        "partner_id": 7,
        "role": role,
        "attached_at": day("2026-01-02"),
        "is_primary": True,
    }


def test_a_deal_closed_at_midnight_after_the_period_is_not_in_it(make_tables: MakeTables) -> None:
    tables = make_tables(
        partners=[PARTNER],
        opportunities=[
            opp(1, "2026-01-01", "2026-03-31T23:59:59", won=True),
            opp(2, "2026-01-01", "2026-04-01T00:00:00", won=True),  # the next period's
            opp(3, "2026-01-01", "2026-02-10", won=False),
        ],
        involvements=[involvement(1), involvement(2), involvement(3)],
    )
    board = an.board(tables, PERIOD, AS_OF)
    build = ecosystem_pillars(tables, board, PERIOD, AS_OF)["build"]
    rate = build["win_rate_with_technology_partner"]
    assert (rate["won"], rate["closed"]) == (1, 2)
    card = partner_scorecard(tables, board, 7, PERIOD, AS_OF)["build"]
    assert (
        card["deals_as_technology_partner"]["won"],
        card["deals_as_technology_partner"]["closed"],
    ) == (1, 2)


def lead(lid: int, created: str, converted: str | None) -> dict[str, Any]:
    return {
        "lead_id": lid,
        "created_at": day(created),
        "converted_at": day(converted) if converted else None,
        "status": "converted" if converted else "open",
        "source": "partner_referral",
        "partner_id": 7,
    }


def test_a_lead_converted_before_it_was_created_is_left_out_of_the_median(
    make_tables: MakeTables,
) -> None:
    leads = [
        lead(1, "2026-01-10", "2026-01-20"),  # 10 days
        lead(2, "2026-01-10", "2026-01-30"),  # 20 days
        lead(3, "2026-01-10", "2026-02-09"),  # 30 days
        lead(4, "2026-01-10", "2025-12-01"),  # converted "before" created: bad data
        lead(5, "2026-01-10", "2025-12-02"),
    ]
    tables = make_tables(partners=[PARTNER], leads=leads)
    tables = make_tables(partners=[PARTNER], leads=leads)
    result = lead_conversion(tables, PERIOD, dt.date(2026, 12, 31))
    median = result["partner_referral"]["median_days_converted"]
    assert (median.value, median.n) == (20.0, 3)
    flagged = data_quality(tables, dt.date(2026, 12, 31))["converted_before_created"]
    assert (flagged["count"], flagged["n"]) == (2, 5)
