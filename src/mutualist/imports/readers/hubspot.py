"""HubSpot CRM exports: deals and companies, as the UI writes them or as API tools do.

Two header styles exist for the same data (shared/reference/metrics-and-crm-formats.md §2.5):

* UI export (Deals/Companies → Export): headers are property *labels* — `Record ID, Deal Name,
  Deal Stage, Pipeline, Amount, Close Date, Create Date, Associated Company IDs` (ids separated
  by `;`) and `Record ID, Company name, Company Domain Name, Country/Region, Industry,
  Create Date, Lifecycle Stage, Number of Employees, Type`. Stage values are stage labels.
* API / sync-tool export: headers are *internal names* — `hs_object_id, dealname, dealstage,
  pipeline, amount, closedate, createdate, deal_currency_code, hs_is_closed_won,
  hs_is_closed_lost, dealtype, hs_analytics_source, associatedcompanyid` and `hs_object_id, name,
  domain, country, industry, createdate, lifecyclestage, numberofemployees, type`. Stage values
  are internal stage ids.

Headers are matched case-insensitively, since HubSpot has changed label capitalisation over the
years ("Company Name" / "Company name"). Which object a file holds is told from its header.

Stages of the default sales pipeline are known by id and label; custom pipeline stages (numeric
ids, own labels) need `stage_map`. Where `hs_is_closed_won` / `hs_is_closed_lost` are exported,
they win: HubSpot computes them from the portal's own pipeline settings.

Timestamps without an offset are taken as UTC (HubSpot's UI writes them in the portal's time
zone; the error is at most a day on cycle lengths). A date-only Close Date is midnight UTC.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from mutualist.imports.batch import (
    AccountRecord,
    Batch,
    OpportunityRecord,
    PartnerRecord,
    Problem,
)
from mutualist.imports.parsing import (
    CellError,
    CsvTable,
    parse_bool,
    parse_currency,
    parse_datetime,
    parse_decimal,
)
from mutualist.imports.readers.common import (
    RowReader,
    company_country,
    company_domain,
    parse_int,
    seen_before,
    size_band,
)
from mutualist.imports.readers.generic import (
    MappedCells,
    check_closed,
    deal_amount,
    orphan,
    read_table,
    unusable_rows,
)

SOURCE_SYSTEM = "hubspot"


@dataclass(frozen=True)
class Column:
    """A record field and the headers HubSpot may export it under: internal name, then labels."""

    field: str
    names: tuple[str, ...]
    required: bool = False

    @property
    def internal(self) -> str:
        return self.names[0]

    @property
    def label(self) -> str:
        return self.names[1]


DEAL_COLUMNS = (
    Column("ref", ("hs_object_id", "Record ID", "Deal ID"), required=True),
    Column("name", ("dealname", "Deal Name"), required=True),
    Column("stage", ("dealstage", "Deal Stage"), required=True),
    Column("pipeline", ("pipeline", "Pipeline")),
    Column("amount", ("amount", "Amount"), required=True),
    Column("close_date", ("closedate", "Close Date"), required=True),
    Column("created_at", ("createdate", "Create Date"), required=True),
    Column("currency", ("deal_currency_code", "Currency")),
    Column("won", ("hs_is_closed_won", "Is Closed Won")),
    Column("lost", ("hs_is_closed_lost", "Is Closed Lost")),
    Column("type", ("dealtype", "Deal Type")),
    # The deal property is labelled "Original Source Type"; contacts and companies call the
    # same-named property "Original Source", which some exports carry over.
    Column("source", ("hs_analytics_source", "Original Source Type", "Original Source")),
    Column("acv", ("hs_acv", "Annual contract value", "Annual contract value (ACV)")),
    # Without the association every deal would be an orphan, so the column is required.
    Column(
        "companies",
        ("associatedcompanyid", "Associated Company IDs", "associatedcompanyids"),
        required=True,
    ),
)
COMPANY_COLUMNS = (
    Column("ref", ("hs_object_id", "Record ID", "Company ID"), required=True),
    Column("name", ("name", "Company name"), required=True),
    Column("domain", ("domain", "Company Domain Name")),
    Column("country", ("country", "Country/Region", "Country")),
    Column("industry", ("industry", "Industry")),
    Column("created_at", ("createdate", "Create Date")),
    Column("lifecycle", ("lifecyclestage", "Lifecycle Stage")),
    Column("employees", ("numberofemployees", "Number of Employees")),
    Column("type", ("type", "Type")),
)

# Headers (folded) that tell the objects apart. Contacts exports also have "Company Name"
# (the contact's free-text company) and "Lifecycle Stage", so they are recognised first.
DEAL_MARKERS = frozenset({"dealname", "deal name", "dealstage", "deal stage"})
CONTACT_MARKERS = frozenset({"email", "firstname", "first name", "lastname", "last name"})
COMPANY_MARKERS = frozenset({"name", "company name", "domain", "company domain name"})

# The default sales pipeline: internal stage id -> (label, outcome).
DEFAULT_STAGES: dict[str, tuple[str, str]] = {
    "appointmentscheduled": ("Appointment Scheduled", "open"),
    "qualifiedtobuy": ("Qualified To Buy", "open"),
    "presentationscheduled": ("Presentation Scheduled", "open"),
    "decisionmakerboughtin": ("Decision Maker Bought-In", "open"),
    "contractsent": ("Contract Sent", "open"),
    "closedwon": ("Closed Won", "won"),
    "closedlost": ("Closed Lost", "lost"),
}
_STAGE_LOOKUP: dict[str, tuple[str, str]] = {
    **DEFAULT_STAGES,
    **{info[0].casefold(): info for info in DEFAULT_STAGES.values()},
}
OUTCOMES = ("open", "won", "lost")

# dealtype options (internal value and label) -> opportunity type.
DEAL_TYPES = {
    "newbusiness": "new_business",
    "new business": "new_business",
    "existingbusiness": "expansion",
    "existing business": "expansion",
    "renewal": "renewal",
}
# Company `type` options (PROSPECT, PARTNER, RESELLER, VENDOR, OTHER) that make a partner.
# "Partner" alone says nothing about the partnership model, so its types are left for the
# partner manager to set rather than guessed.
PARTNER_COMPANY_TYPES: dict[str, list[str]] = {
    "partner": [],
    "reseller": ["reseller"],
    "vendor": ["isv"],
}
CUSTOMER_LIFECYCLES = frozenset({"customer", "evangelist"})


def read_hubspot(
    paths: list[Path],
    *,
    stage_map: dict[str, str] | None = None,
    default_currency: str = "USD",
) -> Batch:
    """Read HubSpot deal and company exports (UI labels or API names) into a Batch.

    `stage_map` maps custom pipeline stages, by id or label, to "open", "won" or "lost".
    """
    batch = Batch(SOURCE_SYSTEM)
    stages = _stage_map(stage_map or {}, batch)
    reader = _Reader(batch, stages, _currency(default_currency, batch))
    for path in paths:
        reader.read(read_table(path))
    return batch


def _currency(value: str, batch: Batch) -> str:
    try:
        return parse_currency(value, "")
    except CellError as exc:
        batch.problems.append(
            Problem("default_currency", None, "", value, exc.reason, exc.hint, code="bad_setting")
        )
        return value


def _stage_map(stage_map: dict[str, str], batch: Batch) -> dict[str, str]:
    """The caller's stage map, folded for lookup; bad outcomes become error Problems."""
    folded: dict[str, str] = {}
    for stage, outcome in stage_map.items():
        if outcome not in OUTCOMES:
            batch.problems.append(
                Problem(
                    "stage_map",
                    None,
                    stage,
                    str(outcome),
                    "is not a deal outcome",
                    "Map each custom stage to open, won or lost.",
                    code="bad_stage_map",
                )
            )
            continue
        folded[stage.strip().casefold()] = outcome
    return folded


@dataclass
class _Reader:
    batch: Batch
    stage_map: dict[str, str]
    currency: str
    deal_ids: set[str] = field(default_factory=set)
    company_ids: set[str] = field(default_factory=set)

    def read(self, table: CsvTable) -> None:
        self.batch.problems += table.problems
        if not table.header:  # read_csv said why: encoding, empty, malformed
            self.batch.files.append(table.info("hubspot:unknown"))
            return
        kind = _detect(table, self.batch.problems)
        self.batch.files.append(table.info(f"hubspot:{kind or 'unknown'}"))
        if kind == "deals":
            self._rows(table, DEAL_COLUMNS, self._deal)
        elif kind == "companies":
            self._rows(table, COMPANY_COLUMNS, self._company)

    def _rows(
        self,
        table: CsvTable,
        columns: tuple[Column, ...],
        build: Callable[[MappedCells], None],
    ) -> None:
        resolved = _resolve(table, columns)
        missing = [c for c in columns if c.required and c.field not in resolved]
        if missing:
            self.batch.problems.append(_missing_columns(table, columns, missing))
            return
        rows = RowReader(table.name, self.batch.problems)
        skip = unusable_rows(table)
        for number, record in table.records():
            if number not in skip:
                rows.start(number)
                build(MappedCells(rows, record, resolved))

    # --- companies -------------------------------------------------------------------------

    def _company(self, cell: MappedCells) -> None:
        ref = cell.required_text("ref")
        if not ref or seen_before(self.company_ids, ref, cell.rows, cell.column("ref")):
            return
        employees = cell.optional("employees", parse_int)
        created = cell.optional("created_at", parse_datetime)
        domain = company_domain(cell.text("domain"), cell.rows, cell.column("domain"))
        country = company_country(cell.text("country"), cell.rows, cell.column("country"))
        # HubSpot creates companies from a domain alone, so the domain stands in for the name.
        name = cell.text("name") or domain
        if not name:
            cell.rows.error(
                cell.column("name"),
                "",
                "is empty and the company has no domain either",
                "Give the company a name or a domain in HubSpot and export again.",
                "missing_value",
            )
        if not cell.rows.ok:
            return
        partner_types = PARTNER_COMPANY_TYPES.get(cell.text("type").casefold())
        if partner_types is not None:
            self.batch.partners.append(
                PartnerRecord(ref, name, domain, country, list(partner_types))
            )
            return
        self.batch.accounts.append(
            AccountRecord(
                ref,
                name,
                domain=domain,
                country=country,
                industry=_industry(cell.text("industry")),
                size_band=size_band(employees),
                lifecycle=_lifecycle(cell.text("lifecycle")),
                created_at=created,
            )
        )

    # --- deals -----------------------------------------------------------------------------

    def _deal(self, cell: MappedCells) -> None:
        ref = cell.required_text("ref")
        if not ref or seen_before(self.deal_ids, ref, cell.rows, cell.column("ref")):
            return
        name = cell.required_text("name")
        created = cell.required("created_at", parse_datetime)
        amount = deal_amount(cell, "amount")
        currency = cell.optional("currency", lambda t: parse_currency(t, ""))
        stage, is_closed, is_won = self._stage(cell)
        # Parsed for open deals too, so a bad cell is reported whatever the stage.
        close_date = cell.optional("close_date", parse_datetime)
        acv = cell.optional("acv", parse_decimal)
        kind = _deal_type(cell)
        account = _first_id(cell.text("companies"))
        if not name or created is None or not cell.rows.ok:
            return
        if not account:
            orphan(cell, "companies", "deal")
            return
        # HubSpot keeps an expected close date on open deals; it is a forecast, not a close.
        closed_at = close_date if is_closed else None
        check_closed(cell, "close_date", created, closed_at, is_closed)
        self.batch.opportunities.append(
            OpportunityRecord(
                ref,
                account,
                name,
                amount,
                currency or self.currency,
                stage,
                is_closed,
                is_won,
                created,
                closed_at,
                type=kind,
                lead_source=cell.text("source"),
                acv=acv,
            )
        )

    def _stage(self, cell: MappedCells) -> tuple[str, bool, bool]:
        """(stage as stored, is_closed, is_won)."""
        raw = cell.required_text("stage")  # HubSpot requires a stage on every deal
        stage, outcome = self._stage_outcome(raw)
        flagged = _flag_outcome(cell)
        if flagged is not None:
            outcome = flagged
        elif outcome is None and raw:
            cell.warn(
                "stage",
                "is not a stage of HubSpot's default pipeline nor in the stage map",
                f'The deal is imported as open. Map custom stages with stage_map ({{"{raw}": '
                '"open" | "won" | "lost"}), or export hs_is_closed_won and hs_is_closed_lost '
                "with the deals.",
                "unknown_stage",
            )
        outcome = outcome or "open"
        return stage, outcome != "open", outcome == "won"

    def _stage_outcome(self, raw: str) -> tuple[str, str | None]:
        key = raw.casefold()
        if key in self.stage_map:
            return raw, self.stage_map[key]
        if key in _STAGE_LOOKUP:
            # Stored by label so UI and API exports of the same deal agree.
            label, outcome = _STAGE_LOOKUP[key]
            return label, outcome
        return raw, None


# --- file detection ----------------------------------------------------------------------------


def _detect(table: CsvTable, problems: list[Problem]) -> str | None:
    """Which object the file holds, told by its header; None after an error Problem."""
    folded = {h.casefold() for h in table.header}
    if folded & DEAL_MARKERS:
        return "deals"
    if folded & CONTACT_MARKERS:
        reason = "looks like a HubSpot contacts export, which this importer does not read"
    elif folded & COMPANY_MARKERS:
        return "companies"
    else:
        reason = "is neither a HubSpot deals export nor a companies export"
    problems.append(
        Problem(
            table.name,
            0,
            "",
            "",
            reason,
            "Export deals or companies from HubSpot. Deals need "
            + _expected(DEAL_COLUMNS)
            + "; companies need "
            + _expected(COMPANY_COLUMNS)
            + ".",
            code="unknown_file",
        )
    )
    return None


def _expected(columns: tuple[Column, ...]) -> str:
    required = [c for c in columns if c.required]
    labels = ", ".join(c.label for c in required)
    internal = ", ".join(c.internal for c in required)
    return f"{labels} (or API names {internal})"


def _resolve(table: CsvTable, columns: tuple[Column, ...]) -> dict[str, tuple[str, ...]]:
    """Record field -> the file's header for it, matching any accepted name, any case."""
    by_fold: dict[str, str] = {}
    for header in table.header:
        by_fold.setdefault(header.casefold(), header)
    resolved: dict[str, tuple[str, ...]] = {}
    for column in columns:
        for name in column.names:
            if name.casefold() in by_fold:
                resolved[column.field] = (by_fold[name.casefold()],)
                break
    return resolved


def _missing_columns(
    table: CsvTable, columns: tuple[Column, ...], missing: list[Column]
) -> Problem:
    # Name the columns the way the file names the others, so the fix is obvious.
    # Exact case: "pipeline" and "Pipeline" fold alike but belong to different styles.
    header = set(table.header)
    api = sum(c.internal in header for c in columns) > sum(c.label in header for c in columns)
    names = [c.internal if api else c.label for c in missing]
    other = [c.label if api else c.internal for c in missing]
    return Problem(
        table.name,
        0,
        ", ".join(names),
        "",
        f"lacks required column(s) {', '.join(names)}",
        "Add the properties to the export (in HubSpot's export dialog choose all properties, "
        f"with associations); the other header style is also accepted: {', '.join(other)}.",
        code="missing_column",
    )


# --- cell values -------------------------------------------------------------------------------


def _flag_outcome(cell: MappedCells) -> str | None:
    """The outcome hs_is_closed_won / hs_is_closed_lost state, when they settle it."""
    won = cell.optional("won", parse_bool)
    lost = cell.optional("lost", parse_bool)
    if won:
        return "won"
    if lost:
        return "lost"
    if won is False and lost is False:
        return "open"
    return None


def _deal_type(cell: MappedCells) -> str:
    value = cell.text("type")
    if not value:
        return "new_business"
    kind = DEAL_TYPES.get(value.casefold())
    if kind is None:
        cell.warn(
            "type",
            "is not a deal type we know",
            "Imported as new business; HubSpot's types are New Business (newbusiness) and "
            "Existing Business (existingbusiness), plus Renewal.",
            "unknown_type",
        )
        return "new_business"
    return kind


def _first_id(text: str) -> str:
    """The first of the associated company ids (UI exports separate them with `;`)."""
    for part in re.split(r"[;,]", text):
        if part.strip():
            return part.strip()
    return ""


def _lifecycle(value: str) -> str:
    return "customer" if value.strip().casefold() in CUSTOMER_LIFECYCLES else "prospect"


_SMALL_WORDS = frozenset({"and", "or", "of", "the", "for", "in", "to"})


def _industry(value: str) -> str:
    """API exports give the option's internal value (COMPUTER_SOFTWARE); show it as the label."""
    text = value.strip()
    if not re.fullmatch(r"[A-Z][A-Z0-9_]{3,}", text):
        return text
    words = text.lower().split("_")
    return " ".join(w if i and w in _SMALL_WORDS else w.capitalize() for i, w in enumerate(words))
