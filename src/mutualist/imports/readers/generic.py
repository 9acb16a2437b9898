"""Any CRM's CSV exports (Pipedrive, Zoho, a spreadsheet…) read through a TOML mapping file.

The mapping says, per object, which files hold it, which source column feeds each record
field, and how source values translate to mutualist's vocabularies:

    source_system = "pipedrive"     # optional: the system the ids belong to (default "generic")
    default_currency = "EUR"        # optional: for rows without a currency (default "USD")

    [opportunities]
    file = "deals*.csv"             # glob on the file name, case-insensitive

    [opportunities.columns]         # record field = source column
    ref = "Deal ID"
    account_ref = "Org ID"
    name = "Title"
    amount = "Value"
    stage = "Stage"
    outcome = "Status"              # optional column saying open/won/lost; else `stage` is used
    created_at = "Deal created"
    closed_at = ["Won time", "Lost time"]   # a list: the first non-empty of these columns

    [opportunities.stages]          # outcome (or stage) value -> open | won | lost
    "Won" = "won"                   # unlisted values: "won"/"lost"/"closed won"/"closed lost"
    "Lost" = "lost"                 # are understood, everything else is open

    [leads.sources]                 # source value -> partner_referral | inbound | …
    "Partner" = "partner_referral"

Objects and their fields (* = must be mapped), with the value maps each accepts:

    accounts       ref*, name*, domain, country, industry, size_band, employees, lifecycle,
                   created_at
                   [accounts.lifecycles] -> prospect | customer | churned
                   [accounts.size_bands] -> smb | mid_market | enterprise
                   (without size_band, employees gives the band: <200 smb, <2000 mid_market)
    opportunities  ref*, account_ref*, name, amount, currency, stage*, outcome, is_closed,
                   is_won, created_at*, closed_at, type, lead_source, acv
                   [opportunities.stages] -> open | won | lost
                   [opportunities.types] -> new_business | expansion | renewal
    involvements   opportunity_ref*, partner_ref*, role*, attached_at*, is_primary
                   [involvements.roles] -> sourced | influenced | co_sell | referral | delivery |
                   technology (an unmapped role is an error: attribution must not be guessed)
    leads          ref*, company*, created_at*, converted_at, status, source, partner_ref,
                   account_ref
                   [leads.statuses] -> open | working | converted | disqualified
                   [leads.sources] -> partner_referral | inbound | cold_outbound | event | other
    partners       ref*, name*, domain, country, types
                   [partners.types] -> reseller | referral | affiliate | system_integrator | msp |
                   isv | distributor | strategic_alliance (a cell may list several, `;` or `,`)

A value missing from a map is looked up in the built-in Salesforce-style defaults
(`imports.mapping`), then taken as is when it already is a code; otherwise the field falls back
(type new_business, status open, source other) with an `unmapped_value` warning. Cells are parsed
as the Salesforce/HubSpot readers do: ISO or US dates (no offset = UTC), amounts with thousands
separators, booleans as 1/blank, true/false or yes/no, countries as ISO codes or English names.

Mistakes in the mapping (TOML syntax, unknown object or field, a mapped column the file lacks)
are error Problems naming the mapping file, its line where known, the dotted key, and the fix.
For the mapping file, Problem.row is the TOML line number.
"""

from __future__ import annotations

import datetime as dt
import difflib
import fnmatch
import re
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from mutualist.imports import mapping as defaults
from mutualist.imports.batch import (
    AccountRecord,
    Batch,
    FileInfo,
    InvolvementRecord,
    LeadRecord,
    OpportunityRecord,
    PartnerRecord,
    Problem,
)
from mutualist.imports.parsing import (
    CellError,
    CsvTable,
    file_hash,
    parse_bool,
    parse_currency,
    parse_datetime,
    parse_decimal,
    read_csv,
)
from mutualist.imports.readers.common import (
    RowReader,
    amount_finding,
    close_before_create_finding,
    company_country,
    company_domain,
    parse_int,
    seen_before,
    size_band,
)

T = TypeVar("T")

DEFAULT_SOURCE_SYSTEM = "generic"


@dataclass(frozen=True)
class ObjectSpec:
    """What the mapping may say about one object: its fields and value maps."""

    fields: tuple[str, ...]
    required: tuple[str, ...]
    # map table name -> (field whose values it translates, allowed targets)
    maps: dict[str, tuple[str, tuple[str, ...]]]


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


OBJECTS: dict[str, ObjectSpec] = {
    "accounts": ObjectSpec(
        _words("ref name domain country industry size_band employees lifecycle created_at"),
        _words("ref name"),
        {
            "lifecycles": ("lifecycle", _words("prospect customer churned")),
            "size_bands": ("size_band", _words("smb mid_market enterprise")),
        },
    ),
    "opportunities": ObjectSpec(
        _words(
            "ref account_ref name amount currency stage outcome is_closed is_won created_at "
            "closed_at type lead_source acv"
        ),
        _words("ref account_ref stage created_at"),
        {
            "stages": ("stage", _words("open won lost")),
            "types": ("type", _words("new_business expansion renewal")),
        },
    ),
    "involvements": ObjectSpec(
        _words("opportunity_ref partner_ref role attached_at is_primary"),
        _words("opportunity_ref partner_ref role attached_at"),
        {"roles": ("role", _words("sourced influenced co_sell referral delivery technology"))},
    ),
    "leads": ObjectSpec(
        _words("ref company created_at converted_at status source partner_ref account_ref"),
        _words("ref company created_at"),
        {
            "statuses": ("status", _words("open working converted disqualified")),
            "sources": ("source", _words("partner_referral inbound cold_outbound event other")),
        },
    ),
    "partners": ObjectSpec(
        _words("ref name domain country types"),
        _words("ref name"),
        {
            "types": (
                "types",
                _words(
                    "reseller referral affiliate system_integrator msp isv distributor "
                    "strategic_alliance"
                ),
            )
        },
    ),
}
# Built-in translations tried after the mapping's own (keys are lower-case).
BUILTIN_MAPS: dict[tuple[str, str], dict[str, str]] = {
    ("opportunities", "stages"): defaults.STAGES,
    ("opportunities", "types"): defaults.OPPORTUNITY_TYPES,
    ("involvements", "roles"): defaults.PARTNER_ROLES,
    ("leads", "statuses"): defaults.LEAD_STATUSES,
    ("leads", "sources"): defaults.LEAD_SOURCES,
}
SETTINGS = ("source_system", "default_currency")


# ---------------------------------------------------------------------------------------------
# The mapping file


@dataclass
class ObjectMapping:
    name: str  # accounts, opportunities, …
    pattern: str
    columns: dict[str, tuple[str, ...]]  # field -> source columns, first non-empty wins
    maps: dict[str, dict[str, str]]  # map table -> {source value: target}
    lines: dict[str, int]  # dotted key -> line in the mapping file, for hints

    def line(self, key: str) -> str:
        number = self.lines.get(key)
        return f" (line {number})" if number else ""


@dataclass
class Mapping:
    file: str
    source_system: str = DEFAULT_SOURCE_SYSTEM
    default_currency: str = "USD"
    objects: list[ObjectMapping] = field(default_factory=list)


class _MappingProblems:
    """Collects mapping-file problems, each located by dotted key and TOML line."""

    def __init__(self, file: str, lines: dict[str, int]) -> None:
        self.file = file
        self.lines = lines
        self.problems: list[Problem] = []

    def error(self, key: str, value: object, reason: str, hint: str) -> None:
        text = "" if value is None else str(value)
        self.problems.append(
            Problem(self.file, self.lines.get(key), key, text, reason, hint, code="bad_mapping")
        )


def load_mapping(path: Path) -> tuple[Mapping | None, list[Problem]]:
    """The mapping in `path`, or None with the Problems that make it unusable."""
    name = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        reason = f"cannot be read ({exc})"
        hint = "Give the path of a UTF-8 TOML mapping file."
        return None, [Problem(name, None, "", "", reason, hint, code="bad_mapping")]
    try:
        config = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return None, [_syntax_problem(name, exc)]
    found = _MappingProblems(name, _key_lines(text))
    mapping = Mapping(name)
    for key, value in config.items():
        if key in SETTINGS:
            _setting(mapping, key, value, found)
        elif key in OBJECTS:
            obj = _object_mapping(key, value, found)
            if obj is not None:
                mapping.objects.append(obj)
        else:
            found.error(
                key,
                None,
                f"names an unknown object or setting {key!r}",
                f"Use the tables [{'], ['.join(OBJECTS)}] and the settings "
                f"{', '.join(SETTINGS)}{_did_you_mean(key, [*OBJECTS, *SETTINGS])}.",
            )
    if not mapping.objects and not found.problems:
        found.error(
            "",
            None,
            "maps no object",
            'Add a table such as [opportunities] with file = "deals*.csv" and '
            "[opportunities.columns].",
        )
    return (None, found.problems) if found.problems else (mapping, [])


def _syntax_problem(name: str, exc: tomllib.TOMLDecodeError) -> Problem:
    # Python 3.11's TOMLDecodeError carries the position only in its message.
    match = re.search(r"at line (\d+)", str(exc))
    line = int(match.group(1)) if match else None
    return Problem(
        name,
        line,
        "",
        "",
        f"is not valid TOML: {exc}",
        'Fix the syntax: tables are [opportunities], keys are field = "Column name", and '
        "names with spaces or dashes need quotes.",
        code="bad_mapping",
    )


_TABLE = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]")
_KEY = re.compile(r"""^\s*((?:"(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_.-]+))\s*=""")


def _key_lines(text: str) -> dict[str, int]:
    """Dotted key -> line number, good enough for the simple files mappings are.

    tomllib drops positions, but a hint that says which line to fix is worth the scan.
    """
    lines: dict[str, int] = {}
    table = ""
    for number, line in enumerate(text.splitlines(), start=1):
        if match := _TABLE.match(line):
            table = ".".join(_unquote(p) for p in match.group(1).split("."))
            lines.setdefault(table, number)
        elif match := _KEY.match(line):
            raw = match.group(1)
            key = _unquote(raw) if raw[0] in "\"'" else ".".join(raw.split("."))
            lines.setdefault(f"{table}.{key}" if table else key, number)
    return lines


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    return text


def _setting(mapping: Mapping, key: str, value: object, found: _MappingProblems) -> None:
    if key == "source_system":
        if not isinstance(value, str) or not value.strip() or len(value.strip()) > 32:
            found.error(
                key,
                value,
                "must be a short name",
                'Give the CRM\'s name in at most 32 characters, e.g. source_system = "pipedrive".',
            )
            return
        mapping.source_system = value.strip()
        return
    try:
        mapping.default_currency = parse_currency(str(value), "")
    except CellError as exc:
        found.error(key, value, exc.reason, f'{exc.hint} For example default_currency = "EUR".')


def _object_mapping(name: str, table: object, found: _MappingProblems) -> ObjectMapping | None:
    spec = OBJECTS[name]
    if not isinstance(table, dict):
        found.error(name, table, "must be a table", f"Write it as [{name}] with keys below it.")
        return None
    start = len(found.problems)
    pattern = table.get("file")
    if not isinstance(pattern, str) or not pattern.strip():
        found.error(
            f"{name}.file",
            pattern,
            f"[{name}] needs a file pattern",
            f'Add file = "{name}*.csv" (a glob on the file name) under [{name}].',
        )
    for key in table:
        if key not in ("file", "columns", *spec.maps):
            found.error(
                f"{name}.{key}",
                None,
                f"is not a key of [{name}]",
                f"[{name}] takes file, [{name}.columns] and the value maps "
                f"{', '.join(spec.maps) or '(none)'}{_did_you_mean(key, ['file', 'columns', *spec.maps])}.",
            )
    columns = _columns(name, table.get("columns"), spec, found)
    maps = {
        map_name: _value_map(name, map_name, table[map_name], spec, found)
        for map_name in spec.maps
        if map_name in table
    }
    if len(found.problems) > start or not isinstance(pattern, str):
        return None
    return ObjectMapping(name, pattern.strip(), columns, maps, found.lines)


def _columns(
    name: str, table: object, spec: ObjectSpec, found: _MappingProblems
) -> dict[str, tuple[str, ...]]:
    if not isinstance(table, dict):
        found.error(
            f"{name}.columns",
            None,
            f"[{name}.columns] is missing",
            f'Add [{name}.columns] with lines such as ref = "ID" for: {", ".join(spec.required)}.',
        )
        return {}
    columns: dict[str, tuple[str, ...]] = {}
    for key, value in table.items():
        dotted = f"{name}.columns.{key}"
        if key not in spec.fields:
            found.error(
                dotted,
                None,
                f"is not a field of {name}",
                f"Fields of {name}: {', '.join(spec.fields)}"
                f"{_did_you_mean(key, list(spec.fields))}.",
            )
        elif isinstance(value, str) and value.strip():
            columns[key] = (value.strip(),)
        elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            columns[key] = tuple(v.strip() for v in value)
        else:
            found.error(
                dotted,
                value,
                "must name a column",
                f'Write {key} = "Column name", or a list ["First", "Second"] to take the first '
                "non-empty one.",
            )
    for required in spec.required:
        if required not in table:
            found.error(
                f"{name}.columns",
                None,
                f"[{name}.columns] does not map the required field {required}",
                f'Add {required} = "<source column>" under [{name}.columns].',
            )
    return columns


def _value_map(
    name: str, map_name: str, table: object, spec: ObjectSpec, found: _MappingProblems
) -> dict[str, str]:
    allowed = spec.maps[map_name][1]
    if not isinstance(table, dict):
        found.error(
            f"{name}.{map_name}",
            None,
            "must be a table",
            f'Write it as [{name}.{map_name}] with lines "Source value" = "{allowed[0]}".',
        )
        return {}
    result: dict[str, str] = {}
    for key, value in table.items():
        if value not in allowed:
            found.error(
                f"{name}.{map_name}.{key}",
                value,
                f"maps {key!r} to something that is not a {spec.maps[map_name][0]}",
                f"Use one of: {', '.join(allowed)}{_did_you_mean(str(value), list(allowed))}.",
            )
            continue
        result[key] = value
    return result


def _did_you_mean(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


# ---------------------------------------------------------------------------------------------
# Reading rows through the mapping


class MappedCells:
    """One row's cells by record field, for a field -> source-columns mapping.

    Shared with the HubSpot reader, whose columns are fixed aliases rather than a mapping.
    """

    def __init__(
        self, rows: RowReader, record: dict[str, str], columns: dict[str, tuple[str, ...]]
    ) -> None:
        self.rows = rows
        self.record = record
        self.columns = columns

    def column(self, name: str) -> str:
        """The source column a field's value comes from (the first non-empty one)."""
        sources = self.columns.get(name, ())
        for source in sources:
            if self.record.get(source, "").strip():
                return source
        return sources[0] if sources else ""

    def text(self, name: str) -> str:
        return self.record.get(self.column(name), "").strip()

    def has(self, name: str) -> bool:
        return name in self.columns

    def optional(self, name: str, parse: Callable[[str], T]) -> T | None:
        """Parsed value, None when blank or unmapped; a bad value is an error Problem."""
        if not self.text(name):
            return None
        return self.rows.cell(self.record, self.column(name), parse)

    def required(self, name: str, parse: Callable[[str], T]) -> T | None:
        return self.rows.required(self.record, self.column(name), parse)

    def required_text(self, name: str) -> str:
        return self.required(name, str.strip) or ""

    def warn(self, name: str, reason: str, hint: str, code: str) -> None:
        self.rows.warn(self.column(name), self.text(name), reason, hint, code)


def read_table(path: Path) -> CsvTable:
    """read_csv, with a missing or unreadable file as a Problem instead of an exception."""
    try:
        return read_csv(path)
    except OSError as exc:
        problem = Problem(
            path.name,
            None,
            "",
            "",
            f"cannot be read ({exc.strerror or exc})",
            "Check the file's path and permissions.",
            code="unreadable",
        )
        return CsvTable(path.name, "", [], [], [problem])


def unusable_rows(table: CsvTable) -> set[int]:
    """Rows read_csv already reported as the wrong width: reading them would only add noise."""
    return {p.row for p in table.problems if p.code in ("row_width", "truncated") and p.row}


@dataclass
class _Context:
    """What the row builders of one import share."""

    mapping: Mapping
    obj: ObjectMapping
    seen: set[str]
    cells: MappedCells | None = None

    @property
    def cell(self) -> MappedCells:
        assert self.cells is not None  # set before every row
        return self.cells


def read_generic(paths: list[Path], mapping_path: Path) -> Batch:
    """Read CSV exports of any CRM as the TOML mapping at `mapping_path` describes."""
    mapping, problems = load_mapping(mapping_path)
    if mapping is None:
        batch = Batch(DEFAULT_SOURCE_SYSTEM, problems=problems)
        batch.files = [FileInfo(p.name, _hash(p), 0, "generic:unread") for p in paths]
        return batch
    batch = Batch(mapping.source_system)
    tables: dict[Path, CsvTable] = {}
    kinds: dict[Path, list[str]] = {path: [] for path in paths}
    for obj in mapping.objects:
        seen: set[str] = set()  # ids repeat across files of one object too (monthly exports)
        matched = [p for p in paths if _matches(p.name, obj.pattern)]
        if not matched:
            batch.problems.append(_no_file_problem(mapping, obj))
        for path in matched:
            if path not in tables:
                tables[path] = read_table(path)
                batch.problems += tables[path].problems
            kinds[path].append(obj.name)
            _read_object(tables[path], _Context(mapping, obj, seen), batch)
    for path, names in kinds.items():
        batch.files.append(_file_info(path, tables.get(path), names))
        if not names:
            batch.problems.append(_unused_file_problem(path, mapping))
    return batch


def _matches(name: str, pattern: str) -> bool:
    # Case-insensitive on every OS: exports come as Deals.csv as often as deals.csv.
    return fnmatch.fnmatchcase(name.lower(), pattern.lower())


def _file_info(path: Path, table: CsvTable | None, names: list[str]) -> FileInfo:
    kind = "generic:" + ("+".join(names) if names else "unused")
    if table is None:
        return FileInfo(path.name, _hash(path), 0, kind)
    return table.info(kind)


def _hash(path: Path) -> str:
    try:
        return file_hash(path)
    except OSError:
        return ""  # the hash only describes the file; not reading it is reported elsewhere


def _no_file_problem(mapping: Mapping, obj: ObjectMapping) -> Problem:
    return Problem(
        mapping.file,
        obj.lines.get(f"{obj.name}.file"),
        f"{obj.name}.file",
        obj.pattern,
        f"matches none of the files given, so no {obj.name} are imported",
        "Add the export to the import, or fix the file pattern.",
        "warning",
        "no_file",
    )


def _unused_file_problem(path: Path, mapping: Mapping) -> Problem:
    patterns = ", ".join(f"{o.name}: {o.pattern}" for o in mapping.objects)
    return Problem(
        path.name,
        None,
        "",
        "",
        "matches no file pattern of the mapping and was not read",
        f"Rename the file or add its object's file pattern to {mapping.file} ({patterns}).",
        "warning",
        "unused_file",
    )


def _read_object(table: CsvTable, context: _Context, batch: Batch) -> None:
    if not table.header:
        return  # read_csv reported why (encoding, empty, malformed)
    obj = context.obj
    absent = _absent_columns(table, context.mapping, obj)
    if absent:
        batch.problems += absent
        return
    rows = RowReader(table.name, batch.problems)
    build, target = _BUILDERS[obj.name]
    skip = unusable_rows(table)
    records = getattr(batch, target)
    for number, record in table.records():
        if number in skip:
            continue
        rows.start(number)
        context.cells = MappedCells(rows, record, obj.columns)
        built = build(context)
        if built is not None and rows.ok:
            records.append(built)


def _absent_columns(table: CsvTable, mapping: Mapping, obj: ObjectMapping) -> list[Problem]:
    problems = []
    for name, sources in obj.columns.items():
        for source in sources:
            if source in table.header:
                continue
            key = f"{obj.name}.columns.{name}"
            problems.append(
                Problem(
                    table.name,
                    0,
                    source,
                    "",
                    f"lacks the column {source!r} that {mapping.file}{obj.line(key)} maps to {key}",
                    f"Fix the mapping{_did_you_mean(source, table.header)} or export the column; "
                    f"the file's columns are: {', '.join(table.header)}.",
                    code="missing_column",
                )
            )
    return problems


# ---------------------------------------------------------------------------------------------
# Value maps


def _translate(
    ctx: _Context, name: str, map_name: str, fallback: str, *, strict: bool = False
) -> str:
    """A source value in mutualist's vocabulary: mapping, built-ins, the code itself, fallback."""
    value = ctx.cell.text(name)
    target = _lookup(ctx, map_name, value) if value else None
    if target is not None:
        return target
    if value:
        consequence = f"{fallback} is used" if fallback else "it is left empty"
        _unmapped(ctx, name, map_name, value, consequence, strict=strict)
    return fallback


def _lookup(ctx: _Context, map_name: str, value: str) -> str | None:
    own = ctx.obj.maps.get(map_name, {})
    if value in own:
        return own[value]
    folded = {k.casefold(): v for k, v in own.items()}
    if value.casefold() in folded:
        return folded[value.casefold()]
    builtin = BUILTIN_MAPS.get((ctx.obj.name, map_name), {})
    if value.lower() in builtin:
        return builtin[value.lower()]
    code = re.sub(r"[\s-]+", "_", value.strip().lower())
    return code if code in OBJECTS[ctx.obj.name].maps[map_name][1] else None


def _unmapped(
    ctx: _Context, name: str, map_name: str, value: str, consequence: str, *, strict: bool
) -> None:
    allowed = OBJECTS[ctx.obj.name].maps[map_name][1]
    table = f"[{ctx.obj.name}.{map_name}]"
    hint = f'Add "{value}" = "<{" | ".join(allowed)}>" to {table} in {ctx.mapping.file}'
    if strict:
        ctx.cell.rows.error(
            ctx.cell.column(name), value, f"is not in {table}", hint + ".", "unmapped_value"
        )
    else:
        ctx.cell.warn(
            name, f"is not in {table}", f"{hint}; meanwhile {consequence}.", "unmapped_value"
        )


# ---------------------------------------------------------------------------------------------
# Record builders: each reads one row, reports its problems, and returns the record or None.


def _ref(ctx: _Context, name: str = "ref") -> str | None:
    """The row's id, or None when it is empty or a repeat (both reported)."""
    ref = ctx.cell.required_text(name)
    if not ref or seen_before(ctx.seen, ref, ctx.cell.rows, ctx.cell.column(name)):
        return None
    return ref


def _account(ctx: _Context) -> AccountRecord | None:
    cell = ctx.cell
    ref = _ref(ctx)
    name = cell.required_text("name")
    employees = cell.optional("employees", parse_int)
    band = _translate(ctx, "size_band", "size_bands", "") or size_band(employees)
    created = cell.optional("created_at", parse_datetime)
    if ref is None or not name:
        return None
    return AccountRecord(
        ref,
        name,
        domain=company_domain(cell.text("domain"), cell.rows, cell.column("domain")),
        country=company_country(cell.text("country"), cell.rows, cell.column("country")),
        industry=cell.text("industry"),
        size_band=band,
        lifecycle=_translate(ctx, "lifecycle", "lifecycles", "prospect"),
        created_at=created,
    )


def _partner(ctx: _Context) -> PartnerRecord | None:
    cell = ctx.cell
    ref = _ref(ctx)
    name = cell.required_text("name")
    if ref is None or not name:
        return None
    return PartnerRecord(
        ref,
        name,
        domain=company_domain(cell.text("domain"), cell.rows, cell.column("domain")),
        country=company_country(cell.text("country"), cell.rows, cell.column("country")),
        types=_partner_types(ctx),
    )


def _partner_types(ctx: _Context) -> list[str]:
    types: list[str] = []
    for part in _split(ctx.cell.text("types")):
        target = _lookup(ctx, "types", part)
        if target is None:
            _unmapped(ctx, "types", "types", part, "the type is left out", strict=False)
        elif target not in types:
            types.append(target)
    return types


def _split(text: str) -> Iterable[str]:
    return (part.strip() for part in re.split(r"[;,]", text) if part.strip())


def _opportunity(ctx: _Context) -> OpportunityRecord | None:
    cell = ctx.cell
    ref = _ref(ctx)
    if ref is None:
        return None
    created = cell.required("created_at", parse_datetime)
    # An unmapped amount is the org's choice, not a per-row anomaly worth a warning.
    amount = deal_amount(cell, "amount") if cell.has("amount") else None
    currency = cell.optional("currency", lambda t: parse_currency(t, ""))
    is_closed, is_won = _outcome(ctx)
    closed = cell.optional("closed_at", parse_datetime) if is_closed else None
    acv = cell.optional("acv", parse_decimal)
    kind = _translate(ctx, "type", "types", "new_business")
    account = cell.text("account_ref")
    if created is None or not cell.rows.ok:
        return None
    if not account:
        orphan(cell, "account_ref", "opportunity")
        return None
    check_closed(cell, "closed_at", created, closed, is_closed)
    return OpportunityRecord(
        ref,
        account,
        cell.text("name"),
        amount,
        currency or ctx.mapping.default_currency,
        cell.text("stage"),
        is_closed,
        is_won,
        created,
        closed,
        type=kind,
        lead_source=cell.text("lead_source"),
        acv=acv,
    )


def _outcome(ctx: _Context) -> tuple[bool, bool]:
    """(is_closed, is_won): explicit boolean columns win, else the outcome/stage value."""
    cell = ctx.cell
    value = cell.text("outcome" if cell.has("outcome") else "stage")
    # Pipelines have many open stages and few closed ones, so unlisted values are open
    # without a warning (unlike the other maps, where a miss is a likely mistake).
    outcome = (_lookup(ctx, "stages", value) if value else None) or "open"
    is_closed = cell.optional("is_closed", parse_bool)
    is_won = cell.optional("is_won", parse_bool)
    won = is_won if is_won is not None else outcome == "won"
    closed = is_closed if is_closed is not None else (won or outcome == "lost")
    return closed or won, won


def _involvement(ctx: _Context) -> InvolvementRecord | None:
    cell = ctx.cell
    opportunity = cell.required_text("opportunity_ref")
    partner = cell.required_text("partner_ref")
    role = cell.required_text("role") and _translate(ctx, "role", "roles", "", strict=True)
    attached = cell.required("attached_at", parse_datetime)
    primary = cell.optional("is_primary", parse_bool) or False
    if not (opportunity and partner and role and attached):
        return None
    # An involvement has no id of its own: the same partner in the same role on the same deal
    # is the same involvement.
    key = f"{opportunity}\x1f{partner}\x1f{role}"
    if key in ctx.seen:
        cell.warn(
            "partner_ref",
            f"is already attached to {opportunity} as {role}",
            "The later row is skipped; remove the duplicate from the export.",
            "duplicate_id",
        )
        return None
    ctx.seen.add(key)
    return InvolvementRecord(opportunity, partner, role, attached, primary)


def _lead(ctx: _Context) -> LeadRecord | None:
    cell = ctx.cell
    ref = _ref(ctx)
    company = cell.required_text("company")
    created = cell.required("created_at", parse_datetime)
    converted = cell.optional("converted_at", parse_datetime)
    # Without a status column, a conversion date is the only status evidence there is.
    status = _translate(ctx, "status", "statuses", "converted" if converted else "open")
    source = _translate(ctx, "source", "sources", "other")
    if ref is None or not company or created is None:
        return None
    return LeadRecord(
        ref,
        company,
        created,
        converted,
        status,
        source,
        partner_ref=cell.text("partner_ref"),
        account_ref=cell.text("account_ref"),
    )


_Builder = Callable[[_Context], Any]
_BUILDERS: dict[str, tuple[_Builder, str]] = {
    "accounts": (_account, "accounts"),
    "opportunities": (_opportunity, "opportunities"),
    "involvements": (_involvement, "involvements"),
    "leads": (_lead, "leads"),
    "partners": (_partner, "partners"),
}


# ---------------------------------------------------------------------------------------------
# Anomaly warnings shared with the HubSpot reader (same codes, same wording).


def deal_amount(cell: MappedCells, name: str) -> Decimal | None:
    """The amount, warning when it is empty or negative (both are imported)."""
    amount = cell.optional(name, parse_decimal)
    if finding := amount_finding(cell.text(name), amount):
        cell.warn(name, *finding)
    return amount


def close_before_create(
    cell: MappedCells, name: str, created: dt.datetime, closed: dt.datetime
) -> None:
    if finding := close_before_create_finding(created, closed):
        cell.warn(name, *finding)


def check_closed(
    cell: MappedCells,
    name: str,
    created: dt.datetime,
    closed: dt.datetime | None,
    is_closed: bool,
) -> None:
    """Warn about a closed deal without a close date, or one closed before it was created."""
    if is_closed and closed is None:
        cell.warn(
            name,
            "is empty for a closed deal",
            "Closed deals need a close date for cycle length and cohort metrics; the deal is "
            "imported without one.",
            "missing_close_date",
        )
    elif closed is not None:
        close_before_create(cell, name, created, closed)


def orphan(cell: MappedCells, name: str, what: str) -> None:
    cell.warn(
        name,
        f"is empty, so the {what} has no account",
        f"The {what} is skipped; associate it with a company in the CRM and import again.",
        "orphan",
    )
