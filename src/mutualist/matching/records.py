"""Account lists in: a CSV file (`read_accounts`) or rows from the database (`accounts_from_rows`).

Both give a PyArrow table with exactly ACCOUNT_COLUMNS as strings, values trimmed, empty optional
values as nulls, and the same checks (an id and a name on every row, ids unique). A domain that is
garbage is not an error here: it normalises to null later and is counted.

Encoding decision: a file must be UTF-8 (a BOM is fine). If it is not, and it decodes as
Windows-1252 without undefined bytes, it is read as Windows-1252 and the table says so in its
schema metadata (`NOTE_KEY`, shown by `mutualist map`), because "CSV" saved by Excel on Windows is
exactly that and refusing it would only send people to a converter. Anything else is refused with
the line of the first bad byte.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

ACCOUNT_COLUMNS = ("id", "name", "domain", "country", "registration_id")
REQUIRED = ("id", "name")
NOTE_KEY = b"mutualist.note"
SHOWN = 5  # how many offending rows or ids an error message names

# Header spellings per column, best first; compared after dropping case, spaces and punctuation.
ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "account id", "record id", "company id", "external id", "crm id", "account_id"),
    "name": ("name", "account name", "company name", "company", "organization", "organisation",
             "organization name", "account"),
    "domain": ("domain", "website", "web domain", "company domain name", "domain name", "url",
               "web site", "homepage", "web", "email domain", "email"),
    "country": ("country", "country code", "billing country", "country/region", "hq country",
                "headquarters country", "shipping country"),
    "registration_id": ("registration id", "registration number", "company number",
                        "company registration number", "duns", "duns number", "vat", "vat number",
                        "vat id", "tax id", "ein", "lei", "siren", "siret", "crn"),
}  # fmt: skip


class AccountFileError(ValueError):
    """An account list cannot be used; the message says what, where and how to fix it."""


def _key(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.lstrip("\ufeff").lower())


def map_headers(headers: Sequence[str]) -> dict[str, int]:
    """Column index per ACCOUNT_COLUMNS field found in `headers` (extra columns are ignored)."""
    keys = [_key(h) for h in headers]
    found: dict[str, int] = {}
    for field, aliases in ALIASES.items():
        for alias in aliases:
            index = next(
                (i for i, k in enumerate(keys) if k == _key(alias) and i not in found.values()),
                None,
            )
            if index is not None:
                found[field] = index
                break
    return found


def _require_columns(found: Mapping[str, int], headers: Sequence[str], where: str) -> None:
    if not found:
        shown = ", ".join(repr(h) for h in headers[:6])
        raise AccountFileError(
            f"{where}: no header row (the first row is {shown}); add a first row naming the "
            "columns, at least 'id' and 'name' (optional: domain, country, registration_id)."
        )
    missing = [f for f in REQUIRED if f not in found]
    if missing:
        names = " and ".join(repr(m) for m in missing)
        raise AccountFileError(
            f"{where}: no {names} column (columns found: {', '.join(headers)}); rename the "
            f"column holding it to {names} (also accepted: {', '.join(ALIASES[missing[0]][1:4])})."
        )


def _numbers(mask: pa.ChunkedArray | pa.Array, first: int) -> list[int]:
    indices = pc.indices_nonzero(mask).to_pylist()
    return [int(i) + first for i in indices]


def _listing(numbers: list[int]) -> str:
    shown = ", ".join(str(n) for n in numbers[:SHOWN])
    return shown + (f" and {len(numbers) - SHOWN} more" if len(numbers) > SHOWN else "")


def _validate(table: pa.Table, where: str, unit: str, first: int) -> None:
    """`first` is the number of the first data row (2 in a file whose row 1 is the header)."""
    for field in REQUIRED:
        values = table[field]
        empty = pc.or_kleene(pc.is_null(values), pc.equal(values, "")).fill_null(True)
        numbers = _numbers(empty, first)
        if numbers:
            raise AccountFileError(
                f"{where}: empty {field} on {unit} {_listing(numbers)}; every account needs an "
                f"{field}: fill it in or remove the {unit}."
            )
    counts = table.group_by("id").aggregate([("id", "count")])
    duplicated = counts.filter(pc.greater(counts["id_count"], 1))["id"]
    if len(duplicated):
        details = []
        for value in duplicated.to_pylist()[:SHOWN]:
            rows = _numbers(pc.equal(table["id"], value), first)
            details.append(f"{value!r} on {unit}s {_listing(rows)}")
        more = f" ({len(duplicated)} ids in all)" if len(duplicated) > SHOWN else ""
        raise AccountFileError(
            f"{where}: duplicate id {'; '.join(details)}{more}; ids must be unique: remove the "
            "repeated rows or give them their own ids."
        )


def _decode(raw: bytes, where: str) -> tuple[str, str | None]:
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        try:
            return raw.decode("cp1252"), f"{where} is not UTF-8; read it as Windows-1252"
        except UnicodeDecodeError:
            raise AccountFileError(
                f"{where}: not UTF-8 (first bad byte on line {line}); save it as 'CSV UTF-8' "
                "or convert it, e.g. iconv -f latin1 -t utf-8."
            ) from None


def _delimiter(header_line: str) -> str:
    return max((",", ";", "\t"), key=header_line.count)


def _clean(values: pa.ChunkedArray | pa.Array, *, required: bool) -> pa.ChunkedArray | pa.Array:
    trimmed = pc.utf8_trim_whitespace(values)
    if required:
        return trimmed
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)


def _assemble(columns: Mapping[str, pa.ChunkedArray | pa.Array | None], length: int) -> pa.Table:
    arrays = []
    for field in ACCOUNT_COLUMNS:
        values = columns.get(field)
        if values is None:
            arrays.append(pa.nulls(length, pa.string()))
        else:
            arrays.append(_clean(values.cast(pa.string()), required=field in REQUIRED))
    return pa.table(arrays, names=list(ACCOUNT_COLUMNS))


def read_accounts(path: Path, *, max_rows: int | None = None) -> pa.Table:
    """Read an account CSV (see the module docstring for the rules and the encoding decision)."""
    where = str(path)
    raw = path.read_bytes()
    text, note = _decode(raw, where)
    if not text.strip():
        raise AccountFileError(
            f"{where}: the file is empty; export the accounts with a header row."
        )
    first_line = text.lstrip("\r\n").splitlines()[0]
    delimiter = _delimiter(first_line)
    headers = next(csv.reader([first_line], delimiter=delimiter))
    found = map_headers(headers)
    _require_columns(found, headers, where)

    bad_rows: list[str] = []

    def _bad_row(row: pacsv.InvalidRow) -> str:
        where_row = f"line {row.number}" if row.number is not None else f"the row {row.text!r}"
        bad_rows.append(f"{where_row} has {row.actual_columns} fields, not {len(headers)}")
        return "skip"

    data = text.lstrip("\r\n").encode("utf-8")
    try:
        parsed = pacsv.read_csv(
            pa.BufferReader(data),
            read_options=pacsv.ReadOptions(
                column_names=[f"c{i}" for i in range(len(headers))], skip_rows=1
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter, newlines_in_values=True, invalid_row_handler=_bad_row
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={f"c{i}": pa.string() for i in found.values()},
                include_columns=[f"c{i}" for i in found.values()],
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as error:
        raise AccountFileError(
            f"{where}: cannot parse as CSV ({error}); check the quoting."
        ) from None
    if bad_rows:
        raise AccountFileError(
            f"{where}: {'; '.join(bad_rows[:SHOWN])}; check the delimiter ({delimiter!r}) and "
            "quote values that contain it."
        )
    if max_rows is not None and parsed.num_rows > max_rows:
        raise AccountFileError(
            f"{where}: {parsed.num_rows} rows, more than the limit of {max_rows}; split the file."
        )
    table = _assemble({f: parsed[f"c{i}"] for f, i in found.items()}, parsed.num_rows)
    _validate(table, where, "row", first=2)
    if note:
        table = table.replace_schema_metadata({NOTE_KEY: note.encode("utf-8")})
    return table


def accounts_from_rows(rows: Iterable[Mapping[str, object]]) -> pa.Table:
    """The same table and checks for in-memory rows (keys as in a CSV header, e.g. from the DB)."""
    rows = list(rows)
    headers = list(dict.fromkeys(key for row in rows[:1] for key in row))
    where = "accounts"
    if not rows:
        return _assemble({}, 0)
    found = map_headers(headers)
    _require_columns(found, headers, where)
    columns: dict[str, pa.ChunkedArray | pa.Array | None] = {}
    for field, index in found.items():
        key = headers[index]
        values = [row.get(key) for row in rows]
        columns[field] = pa.array([None if v is None else str(v) for v in values], pa.string())
    table = _assemble(columns, len(rows))
    _validate(table, where, "record", first=1)
    return table
