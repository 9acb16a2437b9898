"""Fixtures: generated ecosystems as Ibis tables, and a builder for tiny hand-made tables.

Nothing here touches the Django database: the analytics engine never imports Django.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import ibis.expr.types as ir
import pyarrow as pa
import pytest

from mutualist.analytics.schema import TABLES
from mutualist.analytics.source import tables_from_arrow, tables_from_synth
from mutualist.synth import Ecosystem, SynthConfig, generate

SMALL = SynthConfig(partners=40, accounts=800, opportunities=3_000, seed=11)
# Big enough for the planted effects to show through sampling noise, small enough to keep
# the whole folder well under a minute.
MODERATE = SynthConfig(partners=120, accounts=12_000, opportunities=60_000, seed=3)
SEEDS = (5, 21, 42)

Tables = dict[str, ir.Table]


@pytest.fixture(scope="session")
def small_eco() -> Ecosystem:
    return generate(SMALL)


@pytest.fixture(scope="session")
def small(small_eco: Ecosystem) -> Tables:
    return tables_from_synth(small_eco)


@pytest.fixture(scope="session")
def moderate_eco() -> Ecosystem:
    return generate(MODERATE)


@pytest.fixture(scope="session")
def moderate(moderate_eco: Ecosystem) -> Tables:
    return tables_from_synth(moderate_eco)


@pytest.fixture(scope="session")
def seeded() -> list[tuple[Ecosystem, Tables]]:
    out = []
    for seed in SEEDS:
        eco = generate(SynthConfig(partners=80, accounts=6_000, opportunities=30_000, seed=seed))
        out.append((eco, tables_from_synth(eco)))
    return out


def day(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def opp(
    oid: int,
    created: str,
    closed: str | None = None,
    won: bool = False,
    amount: float = 1000.0,
    account: int = 1,
    **extra: Any,
) -> dict[str, Any]:
    """One opportunity row with sensible defaults (open unless ``closed`` is given)."""
    row = {
        "opportunity_id": oid,
        "account_id": account,
        "amount": amount,
        "currency": "USD",
        "acv": amount,
        "stage": ("Closed Won" if won else "Closed Lost") if closed else "Prospecting",
        "is_closed": closed is not None,
        "is_won": won,
        "created_at": day(created),
        "closed_at": day(closed) if closed else None,
        "type": "new_business",
        "lead_source": "Web",
    }
    row.update(extra)
    return row


def _arrow(name: str, records: list[dict[str, Any]]) -> pa.Table:
    kinds = {
        "int64": pa.int64(),
        "float64": pa.float64(),
        "string": pa.string(),
        "boolean": pa.bool_(),
        "timestamp": pa.timestamp("us"),
    }
    schema = pa.schema([(c, kinds[k]) for c, k in TABLES[name].items()])
    return pa.Table.from_pylist(records, schema=schema)


MakeTables = Callable[..., Tables]


@pytest.fixture
def make_tables() -> MakeTables:
    """Build schema tables from lists of row dicts; missing tables are empty, and every
    account referenced by an opportunity exists (size band smb unless given)."""

    def build(**records: list[dict[str, Any]]) -> Tables:
        data = {name: list(records.get(name, [])) for name in TABLES}
        known = {a["account_id"] for a in data["accounts"]}
        for o in data["opportunities"]:
            if o["account_id"] not in known:
                known.add(o["account_id"])
                data["accounts"].append(
                    {
                        "account_id": o["account_id"],
                        "name": f"acc{o['account_id']}",
                        "country": "US",
                        "industry": "retail",
                        "size_band": "smb",
                        "lifecycle": "customer",
                    }
                )
        return tables_from_arrow({name: _arrow(name, rows) for name, rows in data.items()})

    return build


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Ibis 12 calls DuckDB 2.0's deprecated fetch_arrow_table(); not ours to fix, so keep
    # the noise out of this folder's report (other folders are left alone).
    mark = pytest.mark.filterwarnings("ignore:fetch_arrow_table:DeprecationWarning")
    for item in items:
        if "tests/analytics/" in str(item.path):
            item.add_marker(mark)
