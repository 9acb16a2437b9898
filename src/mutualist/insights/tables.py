"""The app database as the analytics schema: database rows → Arrow tables → Ibis on DuckDB.

This is the only place the Django side meets `mutualist.analytics`: it reads the seven tables,
hands them over as Arrow, and the metrics never see Django. DuckDB cannot attach a SQLite file
offline, hence Arrow.

Reading is what the first board view after a write costs, so it is columnar, not row by row:
per chunk of rows one query has the database render the rows as delimited text in a single
string, pyarrow's CSV reader parses it in C, and timestamps, money and currencies are converted
a whole column at a time. The SQL is built from the models' `_meta` and runs on SQLite and
PostgreSQL alike; the values are the ones the ORM reads (tests/insights/test_tables_extraction.py
keeps the ORM version to prove it), the rows in primary-key order.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Context, Decimal
from typing import Any, Literal, TypeAlias

import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as csv
from django.db import connection, models
from django.db.models import Max
from django.utils.dateparse import parse_date, parse_datetime

from mutualist.analytics import tables_from_arrow
from mutualist.analytics.schema import arrow_schema
from mutualist.audit.models import AuditEntry
from mutualist.crm.models import Account, Cost, Lead, Opportunity, PartnerInvolvement, RevenueMonth
from mutualist.insights.currency import Rates, current_rates
from mutualist.partners.models import Partner

Kind = Literal["int", "bool", "text", "money", "datetime", "date"]
Column: TypeAlias = "pa.Array | pa.ChunkedArray"
DbField: TypeAlias = "models.Field[Any, Any]"

_UTC_MICROS = pa.timestamp("us", tz="UTC")
# Rows per query at most: bounds the single string a query returns (SQLite caps strings at
# 1 GB) and the memory a large install needs, for a few more queries.
_CHUNK_ROWS = 250_000
# Between fields: a control character no name or code contains (a value that does anyway is
# caught, and its chunk read again with quoting: see `_read_chunk`).
_SEPARATOR = "\x1f"
_RAW_MONEY = "~"  # marks an amount not rendered as exact cents (see `_Sqlite.money`)
_PRESENT = "="  # marks a nullable text that is not NULL (NULL renders as an empty field)

# The analytics tables read straight from one model: analytics column → model field.
_SOURCES: dict[str, tuple[type[models.Model], dict[str, str]]] = {
    "accounts": (
        Account,
        {
            "account_id": "id",
            "name": "name",
            "country": "country",
            "industry": "industry",
            "size_band": "size_band",
            "lifecycle": "lifecycle",
        },
    ),
    "opportunities": (
        Opportunity,
        {
            "opportunity_id": "id",
            "account_id": "account_id",
            "amount": "amount",
            "currency": "currency",
            "acv": "acv",
            "stage": "stage",
            "is_closed": "is_closed",
            "is_won": "is_won",
            "created_at": "created_at",
            "closed_at": "closed_at",
            "type": "type",
            "lead_source": "lead_source",
        },
    ),
    "involvements": (
        PartnerInvolvement,
        {
            "opportunity_id": "opportunity_id",
            "partner_id": "partner_id",
            "role": "role",
            "attached_at": "attached_at",
            "is_primary": "is_primary",
        },
    ),
    "leads": (
        Lead,
        {
            "lead_id": "id",
            "created_at": "created_at",
            "converted_at": "converted_at",
            "status": "status",
            "source": "source",
            "partner_id": "partner_id",
        },
    ),
    "revenue_months": (
        RevenueMonth,
        {"account_id": "account_id", "month": "month", "mrr": "mrr", "currency": "currency"},
    ),
    "costs": (
        Cost,
        {
            "month": "month",
            "category": "category",
            "amount": "amount",
            "currency": "currency",
            "partner_id": "partner_id",
            "program": "program",
        },
    ),
}

_KINDS: dict[str, Kind] = {
    "AutoField": "int",
    "BigAutoField": "int",
    "SmallAutoField": "int",
    "IntegerField": "int",
    "BigIntegerField": "int",
    "SmallIntegerField": "int",
    "PositiveIntegerField": "int",
    "PositiveBigIntegerField": "int",
    "PositiveSmallIntegerField": "int",
    "BooleanField": "bool",
    "CharField": "text",
    "SlugField": "text",
    "TextField": "text",
    "DecimalField": "money",
    "DateTimeField": "datetime",
    "DateField": "date",
}
# How the CSV reader takes each kind as SQLite renders it: what still needs checking or
# converting stays text.
_CSV_TYPES: dict[Kind, pa.DataType] = {
    "int": pa.int64(),
    "bool": pa.bool_(),
    "text": pa.string(),
    "money": pa.string(),
    "datetime": pa.string(),
    "date": pa.string(),
}


@dataclass(frozen=True)
class _Field:
    """One column to read: its analytics name, the model field, how it renders."""

    name: str
    field: DbField
    kind: Kind


def _model_field(model: type[models.Model], name: str) -> DbField:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field)
    return field


def _fields(model: type[models.Model], names: Mapping[str, str]) -> list[_Field]:
    """The fields to read, the primary key first: it orders and chunks the rows."""
    pk = model._meta.pk
    assert pk is not None
    wanted = {alias: _model_field(model, name) for alias, name in names.items()}
    pk_alias = next((a for a, f in wanted.items() if f.column == pk.column), "__pk")
    fields = [_Field(pk_alias, pk, "int")]
    fields += [_Field(a, f, _kind(f)) for a, f in wanted.items() if f.column != pk.column]
    return fields


def _kind(field: DbField) -> Kind:
    # a foreign key reads as the key it points to
    target = field.target_field if isinstance(field, models.ForeignKey) else field
    kind = _KINDS.get(target.get_internal_type())
    if kind is None:
        raise TypeError(f"cannot read {field} ({target.get_internal_type()}) as a column")
    return kind


def _quoted_column(field: DbField) -> str:
    assert field.column is not None
    return connection.ops.quote_name(field.column)


def _exact_cents(field: DbField) -> tuple[int, int]:
    """(scale, limit): an amount under `limit` with the field's decimal places is a whole
    number of 1/`scale` units whose double is also the ORM's float (at most 15 significant
    digits: within a double's precision, and all that Django's SQLite converter keeps)."""
    assert isinstance(field, models.DecimalField)
    places = field.decimal_places or 0
    return 10**places, 10 ** (15 - places)


class _Sql:
    """What differs between the databases: how values render as text, how the CSV reader
    takes them (`csv_types`), and the aggregate. Every rendering is exact."""

    row_function = ""  # printf-like (format, value, ...) → text, NULL values rendered as ''
    csv_types = _CSV_TYPES

    def value(self, field: _Field) -> str:
        column = _quoted_column(field.field)
        if field.kind == "money":
            return self.money(column, field.field)
        if field.kind == "text" and field.field.null:
            return f"'{_PRESENT}' || {column}"  # NULL stays NULL, '' becomes '='
        return self.plain(column, field.kind)

    def plain(self, column: str, kind: Kind) -> str:
        return column

    def money(self, column: str, field: DbField) -> str:
        raise NotImplementedError

    def aggregate(self, rows: str) -> str:
        raise NotImplementedError

    def exact_money(self, text: str, field: DbField) -> float:
        """The ORM's float of an amount marked `_RAW_MONEY` (only SQLite marks any)."""
        raise NotImplementedError


class _Sqlite(_Sql):
    """Times as Django stores them (naive UTC text), amounts as whole cents where that is
    exact and otherwise marked `_RAW_MONEY` and converted one at a time (`exact_money`), the
    way the ORM converts them."""

    row_function = "printf"

    def money(self, column: str, field: DbField) -> str:
        # Decimals are stored as REAL (or INTEGER): x is exact cents when it is the double
        # nearest to round(x * 100) / 100, which the (correctly rounded) division checks.
        scale, limit = _exact_cents(field)
        cents = f"round({column} * {scale})"
        return (
            f"CASE WHEN {column} IS NULL THEN NULL "
            f"WHEN abs({column}) < {limit} AND {cents} / {scale}.0 = {column} "
            f"THEN CAST({cents} AS INTEGER) ELSE '{_RAW_MONEY}' || quote({column}) END"
        )

    def aggregate(self, rows: str) -> str:
        return f"CAST(group_concat({rows}, char(10)) AS BLOB)"

    def exact_money(self, text: str, field: DbField) -> float:
        # as Django's SQLite converter: 15 significant digits, then the field's places
        assert isinstance(field, models.DecimalField)
        stored = float(text) if any(c in text for c in ".eE") else int(text)  # REAL, INTEGER
        value = Context(prec=15).create_decimal_from_float(stored)
        places = Decimal(1).scaleb(-(field.decimal_places or 0))
        return float(value.quantize(places, context=field.context))


class _Postgres(_Sql):
    """Times as integers since the epoch (microseconds, days: exact, and much cheaper than
    to_char), amounts as numeric's own decimal text, which the CSV reader rounds to the
    nearest double as float(Decimal) does."""

    row_function = "format"
    csv_types = {**_CSV_TYPES, "money": pa.float64(), "datetime": pa.int64(), "date": pa.int64()}

    def plain(self, column: str, kind: Kind) -> str:
        if kind == "bool":
            return f"{column}::int"
        if kind == "datetime":  # extract gives numeric (PostgreSQL 14+): exact microseconds
            return f"(extract(epoch FROM {column}) * 1000000)::bigint"
        if kind == "date":
            return f"({column} - DATE '1970-01-01')"
        return column

    def money(self, column: str, field: DbField) -> str:
        return column

    def aggregate(self, rows: str) -> str:
        return f"string_agg({rows}, chr(10))"


def _dialect() -> _Sql:
    if connection.vendor == "sqlite":
        return _Sqlite()
    if connection.vendor == "postgresql":
        return _Postgres()
    raise NotImplementedError(f"reading the board's tables from {connection.vendor}")


def _quoted(expression: str) -> str:
    return f"""'"' || replace({expression}, '"', '""') || '"'"""


def _chunk_query(
    model: type[models.Model], fields: list[_Field], sql: _Sql, after: bool, quote: bool
) -> str:
    """SQL for one chunk of rows: (count, last key, the rows as text, one per line)."""
    values = [
        _quoted(sql.value(f)) if quote and sql.csv_types[f.kind] == pa.string() else sql.value(f)
        for f in fields
    ]
    pk = _quoted_column(fields[0].field)
    table = connection.ops.quote_name(model._meta.db_table)
    where = f"WHERE {pk} > %s " if after else ""
    return (
        f"SELECT count(*), max(key_), {sql.aggregate('row_')} FROM ("
        f"SELECT {pk} AS key_, {sql.row_function}(%s, {', '.join(values)}) AS row_ "
        f"FROM {table} {where}ORDER BY {pk} LIMIT %s) AS chunk"
    )


def _read_chunk(
    model: type[models.Model], fields: list[_Field], sql: _Sql, after: int | None, quote: bool
) -> tuple[int, int | None, pa.Table | None]:
    """(rows, last key, the rows as columns of text), without the table when the text does
    not parse back into exactly those rows (a value holding a separator or a line break)."""
    query = _chunk_query(model, fields, sql, after is not None, quote)
    params: list[Any] = [_SEPARATOR.join(["%s"] * len(fields))]
    params += [] if after is None else [after]
    with connection.cursor() as cursor:
        cursor.execute(query, [*params, _CHUNK_ROWS])
        count, last, text = cursor.fetchone()
    if not count:
        return 0, None, _empty(fields, sql)
    data = text if isinstance(text, bytes) else str(text).encode()
    try:
        table = _parse(data, fields, sql, quote)
    except pa.ArrowInvalid:
        return count, last, None
    return count, last, table if table.num_rows == count else None


def _parse(data: bytes, fields: list[_Field], sql: _Sql, quote: bool) -> pa.Table:
    return csv.read_csv(
        # the last row ends with a newline too, or an empty last value would make no row
        io.BytesIO(data + b"\n"),
        read_options=csv.ReadOptions(column_names=[f.name for f in fields]),
        parse_options=csv.ParseOptions(
            delimiter=_SEPARATOR,
            quote_char='"' if quote else False,
            newlines_in_values=quote,
            ignore_empty_lines=False,
        ),
        convert_options=csv.ConvertOptions(
            column_types={f.name: sql.csv_types[f.kind] for f in fields},
            null_values=[""],
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
            true_values=["1"],
            false_values=["0"],
        ),
    )


def _empty(fields: list[_Field], sql: _Sql) -> pa.Table:
    return pa.schema([(f.name, sql.csv_types[f.kind]) for f in fields]).empty_table()


def _read_rows(model: type[models.Model], fields: list[_Field], sql: _Sql) -> pa.Table:
    """All rows as columns of text (numbers and booleans typed), in primary-key order."""
    chunks = []
    after: int | None = None
    while True:
        count, last, table = _read_chunk(model, fields, sql, after, quote=False)
        if table is None:  # rare: read this chunk again, its text quoted
            count, last, table = _read_chunk(model, fields, sql, after, quote=True)
        if table is None:
            raise ValueError(f"{model._meta.db_table}: the rows read do not parse back")
        chunks.append(table)
        if count < _CHUNK_ROWS:
            break
        after = last
    rows = pa.concat_tables(chunks).combine_chunks()
    key = rows.column(0)
    # the query orders the rows it chunks, but SQL does not promise the aggregate keeps that
    if len(key) > 1 and not pc.all(pc.less(key[:-1], key[1:])).as_py():
        rows = rows.take(pc.sort_indices(key))
    return rows


def _read(model: type[models.Model], names: Mapping[str, str], sql: _Sql) -> dict[str, Column]:
    """The model's columns as typed Arrow: int64, bool, string, float64 and UTC timestamps."""
    fields = _fields(model, names)
    rows = _read_rows(model, fields, sql)
    return {
        f.name: _typed(rows.column(f.name).combine_chunks(), f, sql)
        for f in fields
        if f.name in names
    }


def _typed(values: pa.Array, field: _Field, sql: _Sql) -> Column:
    """The final type of a column as read, which depends on the kind and its rendering."""
    text = pa.types.is_string(values.type)
    if field.kind == "text":
        return _present(values) if field.field.null else values
    if field.kind == "money" and text:
        return _money(_blank_to_null(values), field.field, sql)
    if field.kind == "datetime":
        return _timestamps(_blank_to_null(values)) if text else values.cast(_UTC_MICROS)
    if field.kind == "date":
        days = _dates(_blank_to_null(values)) if text else values.cast(pa.int32())
        return pc.cast(pc.cast(days, pa.date32()).cast(pa.timestamp("us")), _UTC_MICROS)
    return values


def _blank_to_null(text: Column) -> Column:
    return pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)


def _present(text: Column) -> Column:
    """Nullable text back from its `_PRESENT` marks (an empty field is NULL)."""
    return pc.utf8_slice_codeunits(_blank_to_null(text), len(_PRESENT))


def _money(text: Column, field: DbField, sql: _Sql) -> Column:
    scale, _ = _exact_cents(field)
    try:
        cents = pc.cast(text, pa.int64())
    except pa.ArrowInvalid:  # some amounts are not exact cents: convert those one by one
        values = [None if t is None else _amount(t, field, sql) for t in text.to_pylist()]
        return pa.array(values, pa.float64())
    # whole cents over 100 is one correctly rounded division: the double nearest the decimal
    return pc.divide(pc.cast(cents, pa.float64()), float(scale))


def _amount(text: str, field: DbField, sql: _Sql) -> float:
    if text.startswith(_RAW_MONEY):
        return sql.exact_money(text[len(_RAW_MONEY) :], field)
    return int(text) / _exact_cents(field)[0]


def _timestamps(text: Column) -> Column:
    """Naive UTC text, as Django stores it in SQLite."""
    try:
        return pc.cast(pc.cast(text, pa.timestamp("us")), _UTC_MICROS)
    except pa.ArrowInvalid:  # not in the usual form (an offset, say): parse each as Django does
        values = [None if t is None else _aware(t) for t in text.to_pylist()]
        return pa.array(values, _UTC_MICROS)


def _aware(text: str) -> dt.datetime:
    value = parse_datetime(text)
    if value is None:
        raise ValueError(f"{text!r} is not a timestamp")
    # a naive stored time is in the database's time zone, UTC (settings.TIME_ZONE)
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _dates(text: Column) -> Column:
    try:
        return pc.cast(text, pa.date32())
    except pa.ArrowInvalid:  # not in the usual form: parse each as Django does
        return pa.array([None if t is None else _date(t) for t in text.to_pylist()], pa.date32())


def _date(text: str) -> dt.date:
    value = parse_date(text)
    if value is None:
        raise ValueError(f"{text!r} is not a date")
    return value


def _convert(
    columns: dict[str, Column], amounts: Sequence[str], when: Column, rates: Rates
) -> None:
    """Amount columns into the reporting currency where a rate exists (see `currency`): at
    the rate of `when`'s month, or the newest where `when` is NULL."""
    if not rates.months:
        return  # no rates imported: amounts stay as recorded (and mixed ones are flagged)
    factor, found = _factors(rates, columns["currency"], when)
    for name in amounts:
        columns[name] = pc.if_else(found, pc.multiply(columns[name], factor), columns[name])
    # no rate: left in its own currency, which the board flags
    columns["currency"] = pc.if_else(found, pa.scalar(rates.base), columns["currency"])


def _factors(rates: Rates, currency: Column, when: Column) -> tuple[pa.Array, pa.Array]:
    """`Rates.factor(currency, when)` of every row, as (factor, whether there is one)."""
    codes = pc.dictionary_encode(_flat(pc.fill_null(currency, "")))
    index = codes.indices.to_numpy(zero_copy_only=False)
    month = _month_starts(when)
    newest = _flat(pc.is_null(when)).to_numpy(zero_copy_only=False)
    factor = np.zeros(len(index))
    found = np.zeros(len(index), dtype=bool)
    for i, code in enumerate(codes.dictionary.to_pylist()):
        rows = index == i
        if code == rates.base:
            factor[rows], found[rows] = 1.0, True
            continue
        months = rates.months.get(code)
        if not months:
            continue
        # `Rates.factor`'s bisect_right over the rate months, for all the rows at once
        at = np.searchsorted(np.array(months, "datetime64[D]"), month[rows], side="right") - 1
        at[newest[rows]] = len(months) - 1
        factor[rows] = np.asarray(rates.rates[code])[np.maximum(at, 0)]
        found[rows] = at >= 0
    return pa.array(factor), pa.array(found)


def _month_starts(when: Column) -> np.ndarray[Any, np.dtype[np.datetime64]]:
    """The first day of each timestamp's UTC month (NaT where NULL)."""
    micros = _flat(pc.cast(when, pa.timestamp("us"))).to_numpy(zero_copy_only=False)
    return micros.astype("datetime64[M]").astype("datetime64[D]")


def _flat(values: Column) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def _arrow(name: str, columns: Mapping[str, Column | Sequence[Any]]) -> pa.Table:
    """One table in the analytics schema, timestamps in UTC."""
    fields = [
        pa.field(f.name, _UTC_MICROS) if pa.types.is_timestamp(f.type) else f
        for f in arrow_schema(name)
    ]
    arrays = [_as_arrow(columns[f.name], f.type) for f in fields]
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields)).combine_chunks()


def _as_arrow(values: Column | Sequence[Any], type_: pa.DataType) -> Column:
    if isinstance(values, pa.Array | pa.ChunkedArray):
        return values.cast(type_)
    return pa.array(values, type=type_)


def _partners() -> pa.Table:
    """Partners with their segments by kind (a few hundred rows: the ORM will do)."""
    segments: dict[int, dict[str, list[str]]] = {}
    links = Partner.segments.through.objects.values_list(
        "partner_id", "segment__kind", "segment__code"
    )
    for partner_id, kind, code in links:
        segments.setdefault(partner_id, {}).setdefault(kind, []).append(code)
    columns: dict[str, list[Any]] = {name: [] for name in arrow_schema("partners").names}
    for pk, name, types, status, tier, region in Partner.objects.values_list(
        "id", "name", "types", "status", "tier", "region"
    ):
        kinds = segments.get(pk, {})
        row = {
            "partner_id": pk,
            "name": name,
            "types": types.strip(","),
            "status": status,
            "tier": tier,
            "region": region,
            "industries": ",".join(sorted(kinds.get("industry", []))),
            "technologies": ",".join(sorted(kinds.get("technology", []))),
            "practices": ",".join(sorted(kinds.get("practice", []))),
        }
        for column, value in row.items():
            columns[column].append(value)
    return _arrow("partners", columns)


def arrow_tables() -> dict[str, pa.Table]:
    """The app's data in the analytics schema, amounts in the reporting currency."""
    rates = current_rates()
    sql = _dialect()
    read = {name: _read(model, names, sql) for name, (model, names) in _SOURCES.items()}
    deals = read["opportunities"]
    # closed deals at their close month's rate, open ones at the newest
    _convert(deals, ("amount", "acv"), deals["closed_at"], rates)
    _convert(read["revenue_months"], ("mrr",), read["revenue_months"]["month"], rates)
    _convert(read["costs"], ("amount",), read["costs"]["month"], rates)
    return {"partners": _partners()} | {name: _arrow(name, read[name]) for name in _SOURCES}


def app_tables() -> dict[str, ir.Table]:
    return tables_from_arrow(arrow_tables())


def data_version() -> int:
    """Changes whenever anything is written: every write records an audit entry."""
    return int(AuditEntry.objects.aggregate(m=Max("id"))["m"] or 0)
