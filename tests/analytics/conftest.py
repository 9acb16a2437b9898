"""Fixtures: generated ecosystems as Ibis tables, and a builder for tiny hand-made tables.

Nothing here touches the Django database: the analytics engine never imports Django.

Every table fixture (``small``, ``moderate``, ``seeded``, ``make_tables``) is loaded into the
engine of the ``engine`` fixture, so the tests that use them run once per engine:
``duckdb`` always, ``postgres`` when ``MUTUALIST_TEST_PG_URL`` names a server (a database
of its own is created and dropped per test session, so xdist workers never collide), and
``pyspark`` when ``MUTUALIST_TEST_SPARK=1`` (one local[2] session per test process). An
engine that was asked for but cannot be reached fails its tests; it is never skipped.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import os
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pytest

from mutualist.analytics.schema import TABLES
from mutualist.analytics.source import (
    arrow_from_synth,
    load_tables,
    open_backend,
    spark_session,
    tables_from_arrow,
)
from mutualist.synth import Ecosystem, SynthConfig, generate

SMALL = SynthConfig(partners=40, accounts=800, opportunities=3_000, seed=11)
# Big enough for the planted effects to show through sampling noise, small enough to keep
# the whole folder well under a minute.
MODERATE = SynthConfig(partners=120, accounts=12_000, opportunities=60_000, seed=3)
SEEDS = (5, 21, 42)

Tables = dict[str, ir.Table]


PG_ENV = "MUTUALIST_TEST_PG_URL"
SPARK_ENV = "MUTUALIST_TEST_SPARK"


def requested_engines() -> tuple[str, ...]:
    engines = ["duckdb"]
    if os.environ.get(PG_ENV):
        engines.append("postgres")
    if os.environ.get(SPARK_ENV, "").strip() not in ("", "0"):
        engines.append("pyspark")
    return tuple(engines)


ENGINES = requested_engines()


@dataclass
class Engine:
    """Where a test's tables live. DuckDB: a new in-memory database per load (as the
    library does by default); PostgreSQL and Spark: one shared backend, a namespace
    (schema or view prefix) per load so loads never overwrite each other."""

    name: str
    backend: ibis.BaseBackend | None = None
    url: str | None = None  # for ``connect``; None on DuckDB (in memory, one per load)
    _loads: Iterator[int] = field(default_factory=itertools.count)

    def namespace(self) -> str:
        return f"t{next(self._loads)}"

    def load(self, arrow: Mapping[str, pa.Table]) -> Tables:
        if self.backend is None:
            return tables_from_arrow(arrow)
        return load_tables(arrow, self.backend, namespace=self.namespace())


@contextlib.contextmanager
def postgres_engine(url: str) -> Iterator[Engine]:
    """A uniquely named database on the server at ``url``, dropped afterwards."""
    import psycopg

    name = f"mutualist_analytics_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        admin = psycopg.connect(url, autocommit=True, connect_timeout=10)
        admin.execute(f'CREATE DATABASE "{name}"')
    except Exception as exc:
        pytest.fail(f"{PG_ENV}={url} is set but PostgreSQL cannot be used: {exc}", pytrace=False)
    try:
        own_url = urlunsplit(urlsplit(url)._replace(path=f"/{name}"))
        backend = open_backend(own_url)
        try:
            yield Engine("postgres", backend, own_url)
        finally:
            backend.disconnect()
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@contextlib.contextmanager
def spark_engine() -> Iterator[Engine]:
    """One local[2] Spark session for the whole test session (starting one costs ~10 s)."""
    try:
        session = spark_session("local[2]")
        backend = ibis.pyspark.connect(session)
    except Exception as exc:
        pytest.fail(
            f"{SPARK_ENV}=1 is set but Spark cannot start: {type(exc).__name__}: {exc}",
            pytrace=False,
        )
    try:
        yield Engine("pyspark", backend, "pyspark:local[2]")
    finally:
        session.stop()


@pytest.fixture(scope="session", params=ENGINES)
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    if request.param == "postgres":
        with postgres_engine(os.environ[PG_ENV]) as pg:
            yield pg
    elif request.param == "pyspark":
        with spark_engine() as spark:
            yield spark
    else:
        yield Engine("duckdb")


@pytest.fixture(scope="session")
def small_eco() -> Ecosystem:
    return generate(SMALL)


@pytest.fixture(scope="session")
def small(small_eco: Ecosystem, engine: Engine) -> Tables:
    return engine.load(arrow_from_synth(small_eco))


@pytest.fixture(scope="session")
def moderate_eco() -> Ecosystem:
    return generate(MODERATE)


@pytest.fixture(scope="session")
def moderate(moderate_eco: Ecosystem, engine: Engine) -> Tables:
    return engine.load(arrow_from_synth(moderate_eco))


@pytest.fixture(scope="session")
def seeded(engine: Engine) -> list[tuple[Ecosystem, Tables]]:
    out = []
    for seed in SEEDS:
        eco = generate(SynthConfig(partners=80, accounts=6_000, opportunities=30_000, seed=seed))
        out.append((eco, engine.load(arrow_from_synth(eco))))
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
def make_tables(engine: Engine) -> MakeTables:
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
        return engine.load({name: _arrow(name, rows) for name, rows in data.items()})

    return build


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Ibis 12 calls DuckDB 2.0's deprecated fetch_arrow_table(); not ours to fix, so keep
    # the noise out of this folder's report (other folders are left alone).
    mark = pytest.mark.filterwarnings("ignore:fetch_arrow_table:DeprecationWarning")
    for item in items:
        if "tests/analytics/" in str(item.path):
            item.add_marker(mark)
