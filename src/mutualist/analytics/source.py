"""Where the tables come from: the synthetic generator, Arrow, a DuckDB file or Parquet,
and which engine runs the metrics: DuckDB (default), PostgreSQL or a (local) Spark session.

Everything funnels through :func:`load_tables` (:func:`tables_from_arrow` for DuckDB), which
normalises types once (ids to int64, money to float64, timestamps to naive UTC) so the
metric code never has to care which system produced the rows. The Django side can build
Arrow tables from the app database and call the same function. Every engine-specific line
of the analytics package lives in this module; the metrics are plain Ibis expressions.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .schema import TABLES, SchemaError, arrow_schema

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from mutualist.synth import Ecosystem

# The generator names every primary key ``id``; the analytics schema names it after the table.
_ID_NAMES = {
    "partners": "partner_id",
    "accounts": "account_id",
    "opportunities": "opportunity_id",
    "leads": "lead_id",
}
# The generator writes -1 for "no partner"; the schema says null.
_NULLABLE_IDS = {("leads", "partner_id"), ("costs", "partner_id")}


def _normalise_column(
    col: pa.ChunkedArray | pa.Array, kind: str, target: pa.DataType
) -> pa.ChunkedArray | pa.Array:
    """Cast one column to the schema type; aware timestamps become naive UTC."""
    if kind == "timestamp" and pa.types.is_timestamp(col.type) and col.type.tz is not None:
        col = col.cast(pa.timestamp(col.type.unit, tz="UTC")).cast(pa.timestamp(col.type.unit))
    if kind == "timestamp" and pa.types.is_date(col.type):
        col = col.cast(pa.timestamp("s"))
    return col.cast(target)


def normalise_arrow(name: str, table: pa.Table) -> pa.Table:
    """The schema's columns of ``table`` (extra columns dropped), with the schema's types."""
    columns = TABLES[name]
    lacking = [c for c in columns if c not in table.column_names]
    if lacking:
        raise SchemaError(f"table {name!r} lacks columns {lacking}")
    schema = arrow_schema(name)
    arrays = [
        _normalise_column(table[c], kind, schema.field(c).type) for c, kind in columns.items()
    ]
    return pa.table(arrays, schema=schema)


def tables_from_arrow(
    tables: Mapping[str, pa.Table], con: ibis.BaseBackend | None = None
) -> dict[str, ir.Table]:
    """Register Arrow tables (one per schema table) in a DuckDB connection (new if None),
    or load them into the given PostgreSQL or PySpark backend (see :func:`load_tables`)."""
    return load_tables(tables, con if con is not None else ibis.duckdb.connect())


# Spark settings for a small local session (``pyspark:local[N]``): the analytics queries
# are many small aggregations, so per-query overhead matters more than throughput; two
# shuffle partitions beat the default 200, and skipping whole-stage code generation saves
# a Java compile per query (about a third of the wall time of a board on small data).
SPARK_CONF: dict[str, str] = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.sql.codegen.wholeStage": "false",
    "spark.driver.memory": "2g",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.sql.session.timeZone": "UTC",  # the schema's timestamps are naive UTC
}


def spark_session(master: str = "local[2]", conf: Mapping[str, str] | None = None) -> SparkSession:
    """A Spark session (the running one if there is one) with :data:`SPARK_CONF` settings.

    JVM-level settings such as ``spark.driver.memory`` only take effect for the first
    session of a process. Needs the ``pyspark`` package and Java 17+. Tables are loaded as
    temporary views, so the warehouse directory (a temp folder unless ``conf`` names one)
    stays empty and nothing is written to the working directory.
    """
    from pyspark.sql import SparkSession

    if master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    settings = {
        **SPARK_CONF,
        "spark.sql.warehouse.dir": str(Path(tempfile.gettempdir()) / "mutualist-spark-warehouse"),
        **(conf or {}),
    }
    builder = SparkSession.builder.master(master).appName("mutualist-analytics")
    for key, value in settings.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def open_backend(url: str) -> ibis.BaseBackend:
    """An Ibis backend for ``url``: ``duckdb:`` (in memory) or ``duckdb:///path.duckdb``,
    ``postgresql://user@host:port/db``, ``pyspark:`` or ``pyspark:MASTER`` (default
    ``local[2]``); anything else goes to ``ibis.connect``."""
    if url.startswith("pyspark:"):
        master = url.removeprefix("pyspark:").removeprefix("//") or "local[2]"
        return ibis.pyspark.connect(spark_session(master))
    if url in ("duckdb:", "duckdb://"):
        return ibis.duckdb.connect()
    return ibis.connect(url)


def load_tables(
    tables: Mapping[str, pa.Table | ir.Table],
    backend: ibis.BaseBackend | str,
    namespace: str | None = None,
) -> dict[str, ir.Table]:
    """Create the schema's tables on ``backend`` (a backend or a URL for
    :func:`open_backend`) from Arrow (or Ibis) tables; return Ibis tables bound to it.

    Existing tables of the same names are replaced. ``namespace`` keeps several loads
    apart: a schema on DuckDB and PostgreSQL (created if missing), a view-name prefix
    (``<namespace>_<table>``) on Spark, where the tables are cached temporary views of the
    session and nothing is written to disk.
    """
    con = open_backend(backend) if isinstance(backend, str) else backend
    if namespace and con.name != "pyspark":
        _create_schema(con, namespace)
    out: dict[str, ir.Table] = {}
    for name in TABLES:
        if name not in tables:
            raise SchemaError(f"missing table {name!r}")
        given = tables[name]
        arrow = normalise_arrow(name, given.to_pyarrow() if isinstance(given, ir.Table) else given)
        if con.name == "postgres":
            out[name] = _load_postgres(con, name, arrow, namespace)
        elif con.name == "pyspark":
            out[name] = _load_spark(con, name, arrow, namespace)
        else:
            out[name] = con.create_table(name, arrow, database=namespace, overwrite=True)
    return out


def _create_schema(con: Any, schema: str) -> None:
    """``CREATE SCHEMA IF NOT EXISTS`` (Ibis' ``create_database(force=True)`` means "or
    replace" on DuckDB, which fails once the schema holds tables)."""
    import sqlglot as sg
    import sqlglot.expressions as sge

    ddl = sge.Create(kind="SCHEMA", this=sg.to_identifier(schema, quoted=True), exists=True)
    result = con.raw_sql(ddl.sql(con.dialect))
    if con.name == "postgres":
        result.close()  # a psycopg cursor (DuckDB hands back the connection itself)


def _load_postgres(con: Any, name: str, arrow: pa.Table, schema: str | None) -> ir.Table:
    """CREATE TABLE with the schema's types, then COPY the rows (Ibis would INSERT them one
    by one), then ANALYZE so the planner knows the sizes."""
    import sqlglot as sg

    con.create_table(
        name, schema=ibis.Schema.from_pyarrow(arrow.schema), database=schema, overwrite=True
    )
    target = sg.table(name, db=schema, quoted=True).sql("postgres")
    columns = ", ".join(
        sg.to_identifier(c, quoted=True).sql("postgres") for c in arrow.column_names
    )
    with con.con.cursor() as cur:
        with cur.copy(f"COPY {target} ({columns}) FROM STDIN") as copy:
            for row in zip(*(col.to_pylist() for col in arrow.columns), strict=True):
                copy.write_row(row)
        cur.execute(f"ANALYZE {target}")
    return con.table(name, database=schema)


def _load_spark(con: Any, name: str, arrow: pa.Table, prefix: str | None) -> ir.Table:
    """A cached temporary view of the session, built straight from Arrow."""
    from pyspark.sql import types as st

    kinds: dict[str, st.DataType] = {
        "int64": st.LongType(),
        "float64": st.DoubleType(),
        "string": st.StringType(),
        "boolean": st.BooleanType(),
        "timestamp": st.TimestampType(),  # read in the session time zone, which is UTC
    }
    spark_schema = st.StructType(
        [st.StructField(c, kinds[kind], True) for c, kind in TABLES[name].items()]
    )
    frame = con._session.createDataFrame(arrow, schema=spark_schema).cache()
    view = _spark_view(name, prefix)
    frame.createOrReplaceTempView(view)
    return con.table(view)


def _spark_view(name: str, prefix: str | None) -> str:
    return f"{prefix}_{name}" if prefix else name


def _synth_column(table: str, column: str, values: Any) -> pa.Array:
    arr = np.asarray(values)
    if (table, column) in _NULLABLE_IDS:
        return pa.array(arr, mask=arr < 0)
    if arr.dtype == object:
        return pa.array(arr.tolist(), type=pa.string())
    return pa.array(arr)  # datetime64 NaT becomes null


def arrow_from_synth(eco: Ecosystem) -> dict[str, pa.Table]:
    """The generator's numpy columns as Arrow tables named and typed like the schema."""
    out: dict[str, pa.Table] = {}
    for name in TABLES:
        cols = eco.tables[name]
        renamed = {_ID_NAMES.get(name, "id") if c == "id" else c: v for c, v in cols.items()}
        wanted = {c: renamed[c] for c in TABLES[name] if c in renamed}
        arrays = {c: _synth_column(name, c, v) for c, v in wanted.items()}
        out[name] = normalise_arrow(name, pa.table(arrays))
    return out


def tables_from_synth(eco: Ecosystem, con: ibis.BaseBackend | None = None) -> dict[str, ir.Table]:
    """A generated ecosystem as Ibis tables in an in-memory DuckDB (or the given backend)."""
    return tables_from_arrow(arrow_from_synth(eco), con)


def connect(
    url: str,
    tables: Mapping[str, pa.Table | ir.Table] | None = None,
    namespace: str | None = None,
) -> dict[str, ir.Table]:
    """Open the schema's tables from ``duckdb:///path.duckdb`` or ``parquet:DIR``.

    Parquet files are read in place (views, no copy): the "warehouse mode" that scales past
    memory. Any other URL (``postgresql://...``, ``pyspark:local[2]``, any Ibis URL) is
    opened with :func:`open_backend` and tables are looked up by name. With ``tables``
    (Arrow or Ibis tables), they are first loaded there (:func:`load_tables`).
    """
    if tables is not None:
        return load_tables(tables, url, namespace)
    if url.startswith("parquet:"):
        folder = Path(url.removeprefix("parquet:").removeprefix("//"))
        con = ibis.duckdb.connect()
        return {
            name: con.read_parquet(folder / f"{name}.parquet", table_name=name) for name in TABLES
        }
    backend = open_backend(url)
    found: dict[str, ir.Table] = {}
    for name in TABLES:
        # Look tables up one by one: Ibis 12's ``list_tables`` calls a DuckDB method that
        # DuckDB 2.0 removed from connections, and one lookup per table is portable anyway.
        try:
            if backend.name == "pyspark":
                found[name] = backend.table(_spark_view(name, namespace))
            else:
                found[name] = backend.table(name, database=namespace)
        except Exception as exc:  # backends raise different "no such table" errors
            raise SchemaError(f"{url}: missing table {name!r}") from exc
    return found


def write_parquet(tables: Mapping[str, ir.Table | pa.Table], folder: Path | str) -> None:
    """One ``<table>.parquet`` per schema table (Ibis or Arrow tables)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name in TABLES:
        table = tables[name]
        if isinstance(table, ir.Table):
            table.to_parquet(folder / f"{name}.parquet")
        else:
            pq.write_table(normalise_arrow(name, table), folder / f"{name}.parquet")


__all__ = [
    "SPARK_CONF",
    "arrow_from_synth",
    "connect",
    "load_tables",
    "normalise_arrow",
    "open_backend",
    "spark_session",
    "tables_from_arrow",
    "tables_from_synth",
    "write_parquet",
]
