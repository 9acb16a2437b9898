"""Reading CSV exports as real CRMs write them, and typed parsing of their cells.

Each parser returns the value or raises CellError with a reason and a hint; the readers turn
that into a Problem with the file, row and column. Accepted forms follow what exports really
contain (see shared/reference/metrics-and-crm-formats.md §2.4): BOM, `1`/blank and TRUE/FALSE
booleans, ISO timestamps with `+0000` or `Z`, US dates from report exports, thousands
separators and currency symbols in amounts.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pyarrow as pa

from mutualist.imports.batch import FileInfo, Problem

UTC = dt.UTC
# Files this large (about 5,000 deals) are read by Arrow when they are well formed.
ARROW_MIN_BYTES = 1 << 20
csv.field_size_limit(10 * 1024 * 1024)


class CellError(ValueError):
    def __init__(self, reason: str, hint: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.hint = hint


@dataclass
class CsvTable:
    """A whole CSV file read into memory: header, rows, and what went wrong reading it."""

    name: str
    sha256: str
    header: list[str]
    rows: list[list[str]]
    problems: list[Problem]
    # A large well-formed file read by Arrow stays an Arrow table and leaves `rows` empty; a
    # column becomes Python strings when first asked for, so the columns nobody reads (a real
    # Opportunity export has 35, the reader uses 13) are never converted.
    arrow: pa.Table | None = None
    _converted: dict[int, list[str]] = field(default_factory=dict, repr=False)

    @property
    def row_count(self) -> int:
        return self.arrow.num_rows if self.arrow is not None else len(self.rows)

    def _arrow_column(self, at: int) -> list[str]:
        assert self.arrow is not None
        if at not in self._converted:
            self._converted[at] = self.arrow.column(at).to_pylist()
        return self._converted[at]

    def info(self, kind: str) -> FileInfo:
        return FileInfo(self.name, self.sha256, self.row_count, kind)

    def index(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.header)}

    def column(self, name: str) -> list[str]:
        """Every cell of one column (blank cells if the file lacks it)."""
        if name not in self.header:
            return [""] * self.row_count
        at = self.header.index(name)
        if self.arrow is not None:
            return self._arrow_column(at)
        return [row[at] if at < len(row) else "" for row in self.rows]

    def record(self, number: int) -> dict[str, str]:
        """One row (1-based) as {column: cell}."""
        if self.arrow is not None:
            return {h: self._arrow_column(i)[number - 1] for i, h in enumerate(self.header)}
        return dict(zip(self.header, self.rows[number - 1], strict=False))

    def records(self) -> Iterator[tuple[int, dict[str, str]]]:
        """(1-based row number, {column: cell}) for each row."""
        header = self.header
        rows: Iterable[Sequence[str]] = self.rows
        if self.arrow is not None:
            rows = zip(*(self._arrow_column(i) for i in range(len(self.header))), strict=True)
        for number, row in enumerate(rows, start=1):
            yield number, dict(zip(header, row, strict=False))


def read_csv(path: Path, display_name: str | None = None) -> CsvTable:
    name = display_name or path.name
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    problems: list[Problem] = []
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problems.append(
            Problem(
                name,
                None,
                "",
                "",
                f"is not UTF-8 text (undecodable byte at offset {exc.start})",
                "Export the file as UTF-8 (Salesforce Data Loader: Settings → Use UTF-8 encoding; "
                "Excel: Save As → CSV UTF-8).",
                code="encoding",
            )
        )
        return CsvTable(name, digest, [], [], problems)
    if not text.strip():
        problems.append(
            Problem(
                name,
                None,
                "",
                "",
                "is empty",
                "Export the file again; it has no header and no rows.",
                code="empty",
            )
        )
        return CsvTable(name, digest, [], [], problems)
    if len(data) >= ARROW_MIN_BYTES and (table := _read_with_arrow(name, digest, data)):
        return table
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [h.strip() for h in next(reader)]
        rows = list(reader)
    except csv.Error as exc:
        problems.append(
            Problem(
                name,
                reader.line_num - 1,
                "",
                "",
                f"is not valid CSV ({exc})",
                "The file may be truncated or have an unbalanced quote; export it again.",
                code="malformed",
            )
        )
        return CsvTable(name, digest, [], [], problems)
    while rows and rows[-1] == []:
        rows.pop()
    problems += _row_width_problems(name, header, rows, text)
    return CsvTable(name, digest, header, rows, problems)


def _read_with_arrow(name: str, digest: str, data: bytes) -> CsvTable | None:
    """A large file read by Arrow's multi-threaded CSV reader (every cell as text), or None when
    the file needs the careful reader: blank lines inside (row numbers would shift), a repeated
    column name, or anything Arrow refuses (ragged rows, bad quoting), which the careful reader
    then reports row by row. Measured: 175 MB of opportunities in ~1 s instead of ~15 s."""
    import pyarrow.csv as pacsv

    body = data.removeprefix(b"\xef\xbb\xbf").rstrip(b"\r\n")
    # An odd number of quotes means one is unbalanced; Arrow would read to the end regardless.
    if b"\n\n" in body or b"\n\r\n" in body or body.count(b'"') % 2:
        return None
    first_line = body.split(b"\n", 1)[0].decode("utf-8", errors="replace")
    raw_header = next(csv.reader([first_line.rstrip("\r")]), [])
    if not raw_header or len(set(raw_header)) != len(raw_header):
        return None
    try:
        table = pacsv.read_csv(
            pa.BufferReader(body),
            read_options=pacsv.ReadOptions(block_size=8 << 20),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={column: pa.string() for column in raw_header},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None
    if table.column_names != raw_header:  # a header spanning lines: leave it to the reader
        return None
    return CsvTable(name, digest, [h.strip() for h in raw_header], [], [], table)


def _row_width_problems(
    name: str, header: list[str], rows: list[list[str]], text: str
) -> list[Problem]:
    problems: list[Problem] = []
    width = len(header)
    for number, row in enumerate(rows, start=1):
        if len(row) == width or row == []:
            continue
        last = number == len(rows)
        truncated = last and len(row) < width and not text.endswith(("\n", "\r"))
        problems.append(
            Problem(
                name,
                number,
                "",
                "",
                f"has {len(row)} fields where the header has {width}",
                "The file looks truncated: export it again in full."
                if truncated
                else "A value may contain an unquoted comma or line break; quote it or export again.",
                code="truncated" if truncated else "row_width",
            )
        )
        if len(problems) >= 20:
            break
    return problems


def missing_columns(table: CsvTable, required: list[str], hint: str) -> list[Problem]:
    missing = [c for c in required if c not in table.header]
    if not missing:
        return []
    return [
        Problem(
            table.name,
            0,
            ", ".join(missing),
            "",
            f"lacks required column(s) {', '.join(missing)}",
            hint,
            code="missing_column",
        )
    ]


TRUE_WORDS = frozenset({"1", "true", "yes", "y", "t"})
FALSE_WORDS = frozenset({"", "0", "false", "no", "n", "f"})


def parse_bool(text: str) -> bool:
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise CellError("is not a true/false value", "Use 1 or blank, true/false, or yes/no.")


_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?$"
)
_US = re.compile(
    r"^(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?$"
)


def parse_datetime(text: str) -> dt.datetime:
    """ISO 8601 (with +0000, +00:00, Z or no offset = UTC) or US report format 02/23/26 08:55 PM."""
    value = text.strip()
    if (stamp := quick_datetime(value)) is not None:
        return stamp
    if m := _ISO.match(value):
        year, month, day, hour, minute, second, frac, tz = m.groups()
        try:
            stamp = dt.datetime(
                int(year),
                int(month),
                int(day),
                int(hour or 0),
                int(minute or 0),
                int(second or 0),
                int((frac or "0").ljust(6, "0")),
                tzinfo=UTC,
            )
        except ValueError as exc:
            raise CellError(f"is not a real date ({exc})", "Check the day and month.") from None
        if tz and tz != "Z":
            sign = 1 if tz[0] == "+" else -1
            digits = tz[1:].replace(":", "")
            offset = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
            stamp -= sign * offset
        return stamp
    if m := _US.match(value):
        month, day, year, hour, minute, second, ampm = m.groups()
        full_year = int(year) + (2000 if len(year) == 2 else 0)
        h = int(hour or 0)
        if ampm:
            h = h % 12 + (12 if ampm.lower() == "pm" else 0)
        try:
            return dt.datetime(
                full_year, int(month), int(day), h, int(minute or 0), int(second or 0), tzinfo=UTC
            )
        except ValueError as exc:
            raise CellError(f"is not a real date ({exc})", "US dates are month/day/year.") from None
    raise CellError(
        "is not a date or timestamp",
        "Use ISO 8601 such as 2024-01-22T16:14:25.000+0000 or 2024-01-22, or US 01/22/24.",
    )


def quick_datetime(text: str) -> dt.datetime | None:
    """A cell in the plain ISO form exports write (Python 3.11 reads them all in C, +0000 and
    Z included), or None for anything else (blank, other forms, stray spaces), which
    `parse_datetime` then reads or refuses."""
    if len(text) < 10 or text[4] != "-":
        return None
    try:
        stamp = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)


def quick_datetimes(texts: list[str]) -> list[dt.datetime | None]:
    """`quick_datetime` of a column; each distinct value parsed once where values repeat
    (close dates do, creation timestamps mostly do not)."""
    distinct = set(texts)
    if len(distinct) * 4 > len(texts):
        return [quick_datetime(t) for t in texts]
    parsed = {t: quick_datetime(t) for t in distinct}
    return [parsed[t] for t in texts]


def quick_amount(text: str) -> Decimal | None:
    """`parse_decimal` of a plain non-negative amount (digits and a dot), else None: blank,
    negative, thousands separators and currency signs go to the careful parser, which warns
    or reads them."""
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() and number >= 0 and text.strip() else None


# `parse_bool` of the exact words (lower or upper case), without stripping or lowering.
QUICK_BOOLS = dict.fromkeys(TRUE_WORDS, True) | dict.fromkeys(FALSE_WORDS, False)
QUICK_BOOLS |= {word.upper(): value for word, value in QUICK_BOOLS.items()}


def parse_date(text: str) -> dt.date:
    return parse_datetime(text).date()


def parse_month(text: str) -> dt.date:
    value = text.strip()
    if m := re.match(r"^(\d{4})-(\d{2})$", value):
        year, month = int(m.group(1)), int(m.group(2))
        if 1 <= month <= 12:
            return dt.date(year, month, 1)
    try:
        day = parse_date(value)
    except CellError:
        raise CellError("is not a month", "Use YYYY-MM, for example 2024-07.") from None
    return day.replace(day=1)


_AMOUNT_JUNK = re.compile(r"[\s$€£¥,]|(?<=\d)'(?=\d)")


def parse_decimal(text: str) -> Decimal:
    """1,234.56 · $1,234 · (123.00) for negatives · 1'234.5; not 1.234,56 (ambiguous)."""
    value = text.strip()
    negative = value.startswith("(") and value.endswith(")")
    if negative:
        value = value[1:-1]
    cleaned = _AMOUNT_JUNK.sub("", value)
    try:
        number = Decimal(cleaned)
    except InvalidOperation:
        raise CellError(
            "is not a number", "Use digits with a dot for decimals, e.g. 12500.50 or 12,500.50."
        ) from None
    if not number.is_finite():
        raise CellError("is not a finite number", "Give an amount such as 12500.50.")
    return -number if negative else number


def parse_currency(text: str, default: str) -> str:
    value = text.strip().upper() or default
    if not re.fullmatch(r"[A-Z]{3}", value):
        raise CellError("is not a currency code", "Use an ISO 4217 code such as USD, EUR or GBP.")
    return value


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
