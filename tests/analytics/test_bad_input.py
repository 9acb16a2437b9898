"""Empty, degenerate and dirty inputs give "not enough data" and warnings, never a crash."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from mutualist import analytics as an
from mutualist.analytics.schema import empty_tables

from .conftest import MakeTables, opp

PERIOD = an.Period(dt.date(2025, 1, 1), dt.date(2025, 12, 31))
AS_OF = "2025-12-31"


def _json_ok(result: dict) -> None:
    json.dumps(result, allow_nan=False)


def _check_empty_board(res: dict) -> None:
    _json_ok(res)
    assert tuple(res) == an.KEYS
    assert res["win_rate"]["partner"]["value"] is None
    assert res["win_rate"]["partner"]["note"] == "not enough data"
    assert res["win_rate"]["partner_vs_unattributed"]["difference"]["value"] is None
    assert res["acv"]["sourced"]["median"]["note"] == "not enough data"
    assert res["cycle_days"]["unattributed"]["median"]["value"] is None
    assert res["nrr"]["partner_attached"]["value"] is None
    assert res["cac"]["blended"]["value"] is None
    assert res["attribution"]["note"] == "not enough data"
    assert res["leaderboard"]["partners"] == []


def test_board_on_empty_tables() -> None:
    _check_empty_board(an.board(empty_tables(), PERIOD, AS_OF))


def test_board_on_empty_tables_loaded_into_the_engine(make_tables: MakeTables) -> None:
    _check_empty_board(an.board(make_tables(), PERIOD, AS_OF))


def test_empty_period(make_tables: MakeTables) -> None:
    tables = make_tables(opportunities=[opp(1, "2023-01-05", "2023-02-01", won=True)])
    res = an.board(tables, PERIOD, AS_OF)
    _json_ok(res)
    assert res["win_rate"]["unattributed"]["closed"] == 0
    assert res["win_rate"]["unattributed"]["value"] is None


def test_period_without_partner_deals(make_tables: MakeTables) -> None:
    deals = [opp(i, "2025-02-01", "2025-04-01", won=i % 3 == 0) for i in range(30)]
    res = an.board(make_tables(opportunities=deals), PERIOD, AS_OF)
    _json_ok(res)
    assert res["win_rate"]["unattributed"]["closed"] == 30
    assert res["win_rate"]["partner"]["value"] is None
    cmp = res["win_rate"]["partner_vs_unattributed"]
    assert cmp["difference"]["value"] is None and cmp["adjusted"]["value"] is None
    assert res["acv"]["partner"]["median"]["value"] is None


def test_single_closed_deal(make_tables: MakeTables) -> None:
    tables = make_tables(opportunities=[opp(1, "2025-02-01", "2025-03-01", won=True, amount=500)])
    res = an.board(tables, PERIOD, AS_OF)
    _json_ok(res)
    rate = res["win_rate"]["unattributed"]
    assert (rate["won"], rate["closed"], rate["value"]) == (1, 1, 1.0)
    assert "small sample" in rate["warning"]
    acv = res["acv"]["unattributed"]
    assert acv["median"]["value"] == 500 and acv["median"]["low"] is None
    assert acv["mean"]["low"] is None and acv["mean"]["note"]
    assert res["cycle_days"]["unattributed"]["median"]["value"] == 28


def test_all_deals_open(make_tables: MakeTables) -> None:
    deals = [opp(i, "2025-06-01") for i in range(10)]
    res = an.board(make_tables(opportunities=deals), PERIOD, AS_OF)
    _json_ok(res)
    assert res["win_rate"]["unattributed"]["value"] is None
    cyc = res["cycle_days"]["unattributed"]
    assert cyc["median"]["value"] is None and cyc["open"] == 10


def test_no_costs_means_no_cac(make_tables: MakeTables) -> None:
    deals = [opp(i, "2025-02-01", "2025-03-01", won=True, account=i) for i in range(5)]
    res = an.cac(make_tables(opportunities=deals), PERIOD, AS_OF)
    assert res["new_customers"]["all"] == 5
    assert res["blended"].value is None and "no go-to-market costs" in (res["blended"].note or "")


def test_costs_but_no_new_customers(make_tables: MakeTables) -> None:
    cost = {
        "month": an.period.day_start(PERIOD.start),
        "category": "sales",
        "amount": 100.0,
        "currency": "USD",
        "partner_id": None,
        "program": "",
    }
    res = an.cac(make_tables(costs=[cost]), PERIOD, AS_OF)
    assert (
        res["blended"].value is None
        and res["blended"].note == "not enough data; no new customers in the period"
    )


def test_mixed_currencies_warn(make_tables: MakeTables) -> None:
    deals = [
        opp(1, "2025-02-01", "2025-03-01", won=True),
        opp(2, "2025-02-01", "2025-03-01", won=True, currency="EUR", account=2),
    ]
    tables = make_tables(opportunities=deals)
    assert "several currencies" in an.attribution_summary(tables, PERIOD, AS_OF)["warning"]
    assert an.data_quality(tables, AS_OF)["currency_mix"]["mixed"] is True


def test_post_close_involvement_never_counts(make_tables: MakeTables) -> None:
    deals = [opp(1, "2025-02-01", "2025-03-01", won=True)]
    late = {
        "opportunity_id": 1,
        "partner_id": 9,
        "role": "sourced",
        "attached_at": an.period.day_start(PERIOD.start).replace(month=4),
        "is_primary": True,
    }
    tables = make_tables(opportunities=deals, involvements=[late])
    res = an.attribution_summary(tables, PERIOD, AS_OF)
    assert res["unattributed"]["won_deals"] == 1 and res["sourced"]["won_deals"] == 0
    assert an.data_quality(tables, AS_OF)["post_close_involvements"]["count"] == 1


def test_as_of_before_close_sees_an_open_deal(make_tables: MakeTables) -> None:
    tables = make_tables(opportunities=[opp(1, "2025-02-01", "2025-09-01", won=True)])
    res = an.win_rates(tables, PERIOD, "2025-06-30")
    assert res["unattributed"].closed == 0


def test_dirty_rows_are_flagged(make_tables: MakeTables) -> None:
    deals = [
        opp(1, "2025-03-01", "2025-02-01", won=True),  # closes before it was created
        opp(2, "2025-02-01", amount=-5.0),
        opp(3, "2023-01-01", stage="Verbal Yes"),  # stale and an unknown stage
        opp(4, "2025-02-01", stage=None),  # no stage: unknown, but there is no name to list
        opp(5, "2025-02-01", stage="Verbal Yes"),
        opp(6, "2025-02-01", stage="Closed Won (old)"),
    ]
    dq = an.data_quality(make_tables(opportunities=deals), AS_OF)
    assert dq["close_before_create"]["count"] == 1
    assert dq["negative_amount"]["count"] == 1
    assert dq["stale_open_deals"]["count"] == 1
    assert dq["unknown_stage"]["count"] == 4
    assert dq["unknown_stage"]["stages"] == {"Verbal Yes": 2, "Closed Won (old)": 1}
    res = an.cycle_days(make_tables(opportunities=deals), PERIOD, AS_OF)
    assert "close before" in res["warning"]


def test_missing_table_is_a_clear_error() -> None:
    tables = empty_tables()
    del tables["costs"]
    with pytest.raises(an.SchemaError, match="costs"):
        an.board(tables, PERIOD, AS_OF)
