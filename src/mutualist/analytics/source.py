"""Where the tables come from: the synthetic generator, Arrow, a DuckDB file or Parquet.

Everything funnels through :func:`tables_from_arrow`, which normalises types once (ids to
int64, money to float64, timestamps to naive UTC) so the metric code never has to care
which system produced the rows. The Django side can build Arrow tables from the app
database and call the same function.
"""

from __future__ import annotations

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
    """Register Arrow tables (one per schema table) in a DuckDB connection (new if None)."""
    con = con if con is not None else ibis.duckdb.connect()
    out: dict[str, ir.Table] = {}
    for name in TABLES:
        if name not in tables:
            raise SchemaError(f"missing table {name!r}")
        out[name] = con.create_table(name, normalise_arrow(name, tables[name]), overwrite=True)
    return out


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


def connect(url: str) -> dict[str, ir.Table]:
    """Open the schema's tables from ``duckdb:///path.duckdb`` or ``parquet:DIR``.

    Parquet files are read in place (views, no copy): the "warehouse mode" that scales past
    memory. Any other Ibis URL is passed to ``ibis.connect`` and tables are looked up by name.
    """
    if url.startswith("parquet:"):
        folder = Path(url.removeprefix("parquet:").removeprefix("//"))
        con = ibis.duckdb.connect()
        return {
            name: con.read_parquet(folder / f"{name}.parquet", table_name=name) for name in TABLES
        }
    backend = ibis.connect(url)
    found: dict[str, ir.Table] = {}
    for name in TABLES:
        # Look tables up one by one: Ibis 12's ``list_tables`` calls a DuckDB method that
        # DuckDB 2.0 removed from connections, and one lookup per table is portable anyway.
        try:
            found[name] = backend.table(name)
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
    "arrow_from_synth",
    "connect",
    "normalise_arrow",
    "tables_from_arrow",
    "tables_from_synth",
    "write_parquet",
]
