"""One metric code, three engines: tables load and read back unchanged on each engine, and
whole boards, on clean and on dirty data, equal DuckDB's.

The other test files already run per engine through the ``engine`` fixture (conftest);
these tests check what those cannot see: that the tables really live on the requested
engine, that ``connect`` finds them there, and that the engines agree with each other.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mutualist import analytics as an
from mutualist.analytics.breakdown import by_dimension
from mutualist.analytics.pillars import ecosystem_pillars, partner_scorecard
from mutualist.analytics.schema import TABLES, arrow_schema
from mutualist.analytics.source import arrow_from_synth, normalise_arrow
from mutualist.synth import Ecosystem

from .conftest import Engine, _arrow, day, opp
from .test_source_and_board import assert_close


def _odd_rows() -> dict[str, pa.Table]:
    """A few rows with what engines like to mangle: nulls in every kind of column,
    microseconds, non-ASCII text, a null boolean, a null-partner lead."""
    opps = [
        opp(1, "2025-01-02 03:04:05.123456", "2025-02-01", won=True, amount=10.5),
        opp(2, "2025-01-03", amount=-1.25, currency="EUR", stage="Négociation"),
        {**opp(3, "2025-01-04", "2025-01-05"), "is_won": None, "amount": None, "acv": None},
    ]
    records: dict[str, list[dict[str, Any]]] = {
        "partners": [
            {"partner_id": 7, "name": "Zürich Ågency", "types": "reseller,msp", "status": None}
        ],
        "accounts": [{"account_id": 1, "name": "Ünïcode", "size_band": None}],
        "opportunities": opps,
        "involvements": [
            {
                "opportunity_id": 1,
                "partner_id": 7,
                "role": "sourced",
                "attached_at": day("2025-01-02 03:04:05.000001"),
                "is_primary": None,
            }
        ],
        "leads": [
            {"lead_id": 1, "created_at": day("2025-01-01"), "source": "inbound"},
            {"lead_id": 2, "created_at": day("2025-01-01"), "converted_at": day("2025-03-01")},
        ],
        "revenue_months": [{"account_id": 1, "month": day("2025-01-01"), "mrr": 99.99}],
        "costs": [{"month": day("2025-01-01"), "category": "mdf", "amount": 5.0}],
    }
    return {
        name: _arrow(name, [{c: r.get(c) for c in TABLES[name]} for r in rows])
        for name, rows in records.items()
    }


def _sorted(table: pa.Table) -> pa.Table:
    return table.sort_by([(c, "ascending") for c in table.column_names])


def test_tables_live_on_the_engine_and_read_back_unchanged(engine: Engine) -> None:
    given = _odd_rows()
    tables = engine.load(given)
    for name, table in tables.items():
        assert table._find_backend().name == engine.name, name  # engine names are Ibis'
        got = table.to_pyarrow()
        assert got.schema == arrow_schema(name), name
        assert _sorted(got).to_pylist() == _sorted(normalise_arrow(name, given[name])).to_pylist()


def test_connect_loads_then_finds_the_tables(engine: Engine, tmp_path: Path) -> None:
    given = _odd_rows()
    if engine.url is None:  # DuckDB: a file, since a second in-memory database is empty
        url, namespace = f"duckdb:///{tmp_path / 'eco.duckdb'}", "analytics"
    else:
        url, namespace = engine.url, engine.namespace()
    loaded = an.connect(url, tables=given, namespace=namespace)
    if engine.url is None:
        loaded["partners"]._find_backend().disconnect()
    found = an.connect(url, namespace=namespace)
    assert set(found) == set(TABLES)
    for name, table in found.items():
        assert table._find_backend().name == engine.name
        assert int(table.count().execute()) == given[name].num_rows, name


# --- dirty data: every kind of null, sign, date and label problem at a few percent ---


def _set(table: pa.Table, column: str, values: Any) -> pa.Table:
    return table.set_column(table.schema.get_field_index(column), column, values)


class _Dirt:
    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def mask(self, table: pa.Table, share: float) -> pa.Array:
        return pa.array(self.rng.random(table.num_rows) < share)

    def null(self, table: pa.Table, share: float, *columns: str) -> pa.Table:
        for c in columns:
            none = pa.scalar(None, table[c].type)
            table = _set(table, c, pc.if_else(self.mask(table, share), none, table[c]))
        return table

    def replace(self, table: pa.Table, column: str, share: float, value: Any) -> pa.Table:
        return _set(table, column, pc.if_else(self.mask(table, share), value, table[column]))

    def before(self, table: pa.Table, column: str, share: float, days: int) -> pa.Table:
        """``column`` moved to ``days`` before ``created_at`` on a share of its set rows."""
        early = pc.subtract(table["created_at"], pa.scalar(dt.timedelta(days=days)))
        pick = pc.and_(self.mask(table, share), pc.is_valid(table[column]))
        return _set(table, column, pc.if_else(pick, early, table[column]))


def dirty(arrow: dict[str, pa.Table], seed: int = 7) -> dict[str, pa.Table]:
    d = _Dirt(seed)
    out = dict(arrow)
    o = d.null(arrow["opportunities"], 0.02, "amount", "acv", "lead_source", "is_won")
    o = d.null(o, 0.01, "closed_at", "currency")
    o = _set(o, "amount", pc.if_else(d.mask(o, 0.01), pc.negate(o["amount"]), o["amount"]))
    o = d.replace(o, "currency", 0.03, pa.scalar("EUR"))
    # More than 20 distinct unknown stages, so the panel's top-20 cut is exercised.
    custom = pa.array([f"Custom {i % 25}" for i in range(o.num_rows)])
    o = d.before(
        _set(o, "stage", pc.if_else(d.mask(o, 0.03), custom, o["stage"])), "closed_at", 0.01, 5
    )
    out["opportunities"] = o
    inv = d.null(arrow["involvements"], 0.02, "attached_at", "is_primary")
    out["involvements"] = d.replace(inv, "role", 0.01, pa.scalar("reseller"))
    out["leads"] = d.null(d.before(arrow["leads"], "converted_at", 0.02, 3), 0.01, "source")
    out["accounts"] = d.null(arrow["accounts"], 0.03, "size_band", "industry")
    out["revenue_months"] = d.null(arrow["revenue_months"], 0.01, "mrr", "currency")
    costs = d.null(arrow["costs"], 0.02, "amount")
    out["costs"] = d.replace(costs, "category", 0.01, pa.scalar("other"))
    return out


def test_board_on_dirty_data_equals_duckdbs(engine: Engine, small_eco: Ecosystem) -> None:
    data = dirty(arrow_from_synth(small_eco))
    period, as_of = an.Period.trailing_year(small_eco.config.end), small_eco.config.end
    tables = engine.load(data)
    got = an.board(tables, period, as_of)
    json.dumps(got, allow_nan=False)
    assert tuple(got) == an.KEYS
    dq = got["data_quality"]
    assert dq["close_before_create"]["count"] > 0 and dq["missing_amount"]["count"] > 0
    stages = dq["unknown_stage"]["stages"]
    assert len(stages) == 20
    assert list(stages.values()) == sorted(stages.values(), reverse=True)
    assert dq["currency_mix"]["mixed"] is True
    # The reference: the same rows in a fresh in-memory DuckDB.
    reference = an.tables_from_arrow(data)
    want = an.board(reference, period, as_of)
    assert_close(got, want)
    # The views built on the board (pillars, a scorecard, a breakdown) agree as well.
    top = want["leaderboard"]["partners"][0]["partner_id"]
    for view in (
        lambda t, b: ecosystem_pillars(t, b, period, as_of),
        lambda t, b: partner_scorecard(t, b, top, period, as_of),
        lambda t, b: by_dimension(t, b, "type"),
    ):
        assert_close(view(tables, got), view(reference, want))
