"""Salesforce exports with API-name headers (Data Loader, Bulk API, report CSV).

Objects are recognised by their header, not their file name: Account (partner accounts by
`IsPartner` or a partner `Type`), Opportunity, OpportunityPartner, OpportunityHistory (stage
timestamps), Lead, plus the billing revenue and finance costs files that travel with them.
Contact, Campaign and CampaignMember are recognised and skipped with a note. Quirks handled: BOM,
`1`/blank and TRUE/FALSE booleans, `+0000` timestamps and US report timestamps
(`02/23/26 08:55 PM`), date-only CloseDate (midnight UTC), and the expected CloseDate Salesforce
keeps on open deals (ignored: an open deal has no close time).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple, TypeVar

from mutualist.imports.batch import (
    AccountRecord,
    Batch,
    InvolvementRecord,
    LeadRecord,
    OpportunityRecord,
    PartnerRecord,
    Problem,
    StageChangeRecord,
)
from mutualist.imports.mapping import (
    INDUSTRIES,
    LEAD_STATUSES,
    OPPORTUNITY_TYPES,
    PARTNER_ACCOUNT_TYPES,
    ValueMaps,
)
from mutualist.imports.parsing import (
    QUICK_BOOLS,
    CellError,
    CsvTable,
    missing_columns,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_decimal,
    quick_amount,
    quick_datetimes,
    read_csv,
)
from mutualist.imports.readers import finance
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

SOURCE_SYSTEM = "salesforce"
SKIPPED_OBJECTS = {
    "Contact": {"FirstName", "LastName", "AccountId", "Email"},
    "CampaignMember": {"CampaignId", "LeadId"},
    "Campaign": {"StartDate", "EndDate", "BudgetedCost"},
}
REQUIRED = {
    "Account": ["Id", "Name"],
    "Opportunity": ["Id", "AccountId", "Name", "StageName", "CloseDate", "CreatedDate"],
    "OpportunityPartner": ["Id", "OpportunityId", "AccountToId", "Role", "CreatedDate"],
    "OpportunityHistory": ["Id", "OpportunityId", "StageName", "CreatedDate"],
    "Lead": ["Id", "Company", "Status", "CreatedDate"],
}
T = TypeVar("T")
# Salesforce's standard open stages plus common variants; others are "unknown" (a warning)
# only when the export lacks IsClosed/IsWon to say what they mean.
KNOWN_OPEN_STAGES = {
    "prospecting",
    "qualification",
    "needs analysis",
    "value proposition",
    "id. decision makers",
    "perception analysis",
    "proposal/price quote",
    "negotiation/review",
    "discovery",
    "proposal/quote",
    "negotiation",
    "closed won",
    "closed lost",
}


def expand_paths(paths: Iterable[Path]) -> tuple[list[Path], list[Problem]]:
    """Files as given, and the CSV files inside any folder given."""
    files: list[Path] = []
    problems: list[Problem] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() == ".csv")
            if not found:
                problems.append(
                    Problem(
                        str(path),
                        None,
                        "",
                        "",
                        "has no .csv files",
                        "Point at the folder of the CSV export.",
                        code="no_files",
                    )
                )
            files += found
        elif path.is_file():
            files.append(path)
        else:
            problems.append(
                Problem(
                    str(path), None, "", "", "does not exist", "Check the path.", code="no_files"
                )
            )
    return files, problems


def object_of(table: CsvTable) -> str | None:
    header = set(table.header)
    if finance.is_revenue(table):
        return "revenue"
    if finance.is_costs(table):
        return "costs"
    if {"OpportunityId", "AccountToId"} <= header:
        return "OpportunityPartner"
    if {"OpportunityId", "StageName"} <= header:
        return "OpportunityHistory"
    if "StageName" in header:
        return "Opportunity"
    if "IsConverted" in header or {"Company", "LeadSource"} <= header:
        return "Lead"
    for name, marker in SKIPPED_OBJECTS.items():
        if marker <= header:
            return name
    if {"Id", "Name"} <= header and header & {"Type", "IsPartner", "BillingCountry", "Website"}:
        return "Account"
    return None


def read_salesforce(paths: Iterable[Path], maps: ValueMaps | None = None) -> Batch:
    maps = maps or ValueMaps()
    batch = Batch(SOURCE_SYSTEM)
    files, batch.problems = expand_paths(paths)
    tables: dict[str, list[CsvTable]] = {}
    for path in files:
        table = read_csv(path)
        batch.problems += table.problems
        if any(p.severity == "error" and p.row is None for p in table.problems):
            continue
        kind = object_of(table)
        if kind is None:
            batch.problems.append(
                Problem(
                    table.name,
                    0,
                    "",
                    ", ".join(table.header[:6]),
                    "is not a Salesforce object we know",
                    "Export Account, Opportunity, OpportunityPartner, OpportunityHistory or Lead "
                    "with API-name headers (Data Loader), or a revenue/costs file.",
                    code="unknown_file",
                )
            )
            continue
        tables.setdefault(kind, []).append(table)
    sourced_by: list[InvolvementRecord] = []
    # Opportunities before their history: stages named on them count as known stages there.
    for kind in ("Account", "Opportunity", "OpportunityPartner", "OpportunityHistory", "Lead"):
        for table in tables.get(kind, []):
            problems = missing_columns(
                table, REQUIRED[kind], f"Export {kind} with these API-name columns."
            )
            batch.problems += problems
            if problems:
                continue
            batch.files.append(table.info(kind))
            if kind == "Account":
                _read_accounts(table, batch, maps)
            elif kind == "Opportunity":
                sourced_by += _read_opportunities(table, batch, maps)
            elif kind == "OpportunityPartner":
                _read_opportunity_partners(table, batch, maps)
            elif kind == "OpportunityHistory":
                _read_opportunity_history(table, batch, maps)
            else:
                _read_leads(table, batch, maps)
    for table in tables.get("revenue", []):
        finance.read_revenue(table, batch, maps.default_currency)
    for table in tables.get("costs", []):
        finance.read_costs(table, batch, maps.default_currency)
    for kind in SKIPPED_OBJECTS:
        for table in tables.get(kind, []):
            batch.files.append(table.info(kind))
            batch.problems.append(
                Problem(
                    table.name,
                    None,
                    "",
                    "",
                    f"is a {kind} export, which mutualist does not import",
                    "Nothing to do; it is listed so you know it was seen.",
                    "warning",
                    "not_imported",
                )
            )
    _add_partner_account_ids(batch, sourced_by)
    _mark_churned(batch)
    return batch


def _read_accounts(table: CsvTable, batch: Batch, maps: ValueMaps) -> None:
    rows = RowReader(table.name, batch.problems)
    seen: set[str] = set()
    for number, r in table.records():
        rows.start(number)
        ref = r["Id"].strip()
        if not ref:
            rows.error(
                "Id", "", "is empty", "Every account needs its Salesforce Id.", "missing_value"
            )
            continue
        if seen_before(seen, ref, rows, "Id"):
            continue
        name = r["Name"].strip()
        if not name:
            rows.warn(
                "Name",
                "",
                "is empty",
                "The account is imported under its Id; give it a name in Salesforce.",
                "missing_value",
            )
            name = ref
        is_partner = rows.cell(r, "IsPartner", parse_bool) if "IsPartner" in r else False
        account_type = r.get("Type", "").strip()
        partner_type = PARTNER_ACCOUNT_TYPES.get(account_type.lower())
        domain = company_domain(r.get("Website", ""), rows, "Website")
        country = company_country(r.get("BillingCountry", ""), rows, "BillingCountry")
        created = rows.cell(r, "CreatedDate", parse_datetime) if r.get("CreatedDate") else None
        if is_partner or partner_type:
            batch.partners.append(
                PartnerRecord(ref, name, domain, country, [partner_type or "referral"])
            )
            continue
        industry_raw = r.get("Industry", "").strip()
        industry = INDUSTRIES.get(industry_raw.lower(), industry_raw.lower().replace(" ", "_"))
        employees = rows.cell(r, "NumberOfEmployees", parse_int)
        lifecycle = "customer" if account_type.lower().startswith("customer") else "prospect"
        batch.accounts.append(
            AccountRecord(
                ref, name, domain, country, industry, size_band(employees), lifecycle, created
            )
        )


def _read_opportunities(table: CsvTable, batch: Batch, maps: ValueMaps) -> list[InvolvementRecord]:
    """Read opportunities; return the involvements their PartnerAccountId implies."""
    has_flags = {"IsClosed", "IsWon"} <= set(table.header)
    quick = _clean_opportunities(table, maps, has_flags)
    rows = RowReader(table.name, batch.problems)
    sourced_by: list[InvolvementRecord] = []
    for record, partner in _quick_then_careful(
        table,
        rows,
        quick,
        lambda read: read.record.ref,
        lambda r, seen: _opportunity_row(r, rows, seen, maps, has_flags),
    ):
        batch.opportunities.append(record)
        if partner:
            sourced_by.append(
                InvolvementRecord(record.ref, partner, "sourced", record.created_at, True)
            )
    return sourced_by


def _quick_then_careful(
    table: CsvTable,
    rows: RowReader,
    quick: list[tuple[int, T]],
    ref_of: Callable[[T], str],
    careful: Callable[[dict[str, str], set[str]], T | None],
) -> list[T]:
    """The rows `quick` read column by column (the clean ones: every cell in the plain form
    exports write, nothing to warn about), and every other row read cell by cell by
    `careful`, which says what is wrong with it; in file order. A clean row gives the same
    result either way (tests/imports/test_quick_reading.py).

    `careful` gets the ids read so far (`ref_of` each quick row's), to name a repeated id;
    the set is built only when some row needs the careful reader."""
    clean = {number for number, _ in quick}
    seen = {ref_of(value) for _, value in quick} - {""} if len(quick) < table.row_count else set()
    slow = []
    for number in range(1, table.row_count + 1):
        if number not in clean:
            rows.start(number)
            if (value := careful(table.record(number), seen)) is not None:
                slow.append((number, value))
    merged = sorted(quick + slow, key=lambda item: item[0]) if slow else quick
    return [value for _, value in merged]


class _ReadOpportunity(NamedTuple):
    record: OpportunityRecord
    partner: str  # PartnerAccountId: the partner that sourced the deal, if any


def _clean_opportunities(
    table: CsvTable, maps: ValueMaps, has_flags: bool
) -> list[tuple[int, _ReadOpportunity]]:
    """(row number, record, PartnerAccountId) of each row that needs no message."""
    ids = [v.strip() for v in table.column("Id")]
    repeated = _repeated(ids)
    created = quick_datetimes(table.column("CreatedDate"))
    closes = quick_datetimes(table.column("CloseDate"))
    amounts = [quick_amount(v) for v in table.column("Amount")]
    accounts = [v.strip() for v in table.column("AccountId")]
    stages = [v.strip() for v in table.column("StageName")]
    closed: list[bool | None]
    won: list[bool | None]
    if has_flags:
        closed = [QUICK_BOOLS.get(v) for v in table.column("IsClosed")]
        won = [QUICK_BOOLS.get(v) for v in table.column("IsWon")]
    else:  # an unknown stage gets a warning: None sends its rows to the careful reader
        outcome = {s: maps.stage_outcome(s) for s in set(stages) if _known_stage(s, maps)}
        closed = [outcome[s] != "open" if s in outcome else None for s in stages]
        won = [outcome.get(s) == "won" for s in stages]
    names, partners = table.column("Name"), table.column("PartnerAccountId")
    currencies, types = table.column("CurrencyIsoCode"), table.column("Type")
    sources = table.column("LeadSource")
    # Few distinct values each: normalised once per value, not once per row.
    currency = {c: c.strip().upper() or maps.default_currency for c in set(currencies)}
    kind = {t: OPPORTUNITY_TYPES.get(t.strip().lower(), "new_business") for t in set(types)}
    source = {s: s.strip() for s in set(sources)}
    cells = zip(
        ids,
        accounts,
        created,
        closes,
        amounts,
        closed,
        won,
        names,
        stages,
        currencies,
        types,
        sources,
        partners,
        strict=True,
    )
    out = []
    for number, (
        ref,
        account,
        start,
        close,
        amount,
        is_closed,
        is_won,
        name,
        stage,
        currency_cell,
        type_cell,
        source_cell,
        partner,
    ) in enumerate(cells, start=1):
        if (
            not ref
            or ref in repeated
            or start is None
            or close is None
            or amount is None
            or is_closed is None
            or is_won is None
            or (is_won and not is_closed)
            or not account
            or (is_closed and close.date() < start.date())
        ):
            continue
        record = OpportunityRecord(
            ref,
            account,
            name.strip() or ref,
            amount,
            currency[currency_cell],
            stage,
            is_closed,
            is_won,
            start,
            close if is_closed else None,
            kind[type_cell],
            source[source_cell],
        )
        out.append((number, _ReadOpportunity(record, partner.strip())))
    return out


def _repeated(ids: list[str]) -> set[str]:
    """The ids that occur more than once; a set first, as exports rarely repeat one."""
    if len(set(ids)) == len(ids):
        return set()
    return {ref for ref, n in Counter(ids).items() if n > 1}


def _known_stage(stage: str, maps: ValueMaps) -> bool:
    """A stage we can read without IsClosed/IsWon: Salesforce's own or one mapped in config."""
    return stage.lower() in KNOWN_OPEN_STAGES or stage.lower() in maps.stages


def _opportunity_row(
    r: dict[str, str], rows: RowReader, seen: set[str], maps: ValueMaps, has_flags: bool
) -> _ReadOpportunity | None:
    """One row read cell by cell, each problem reported; None when it cannot be imported."""
    ref = r["Id"].strip()
    if not ref or seen_before(seen, ref, rows, "Id"):
        if not ref:
            rows.error("Id", "", "is empty", "Every opportunity needs its Id.", "missing_value")
        return None
    stage = r["StageName"].strip()
    created = rows.required(r, "CreatedDate", parse_datetime)
    close = rows.required(r, "CloseDate", parse_datetime)
    amount = rows.cell(r, "Amount", lambda t: parse_decimal(t) if t.strip() else None)
    if has_flags:
        is_closed = bool(rows.cell(r, "IsClosed", parse_bool))
        is_won = bool(rows.cell(r, "IsWon", parse_bool))
    else:
        outcome = maps.stage_outcome(stage)
        is_closed, is_won = outcome != "open", outcome == "won"
        if not _known_stage(stage, maps):
            rows.warn(
                "StageName",
                stage,
                "is a stage we do not know",
                "Treated as open; map it in the [stages] table of --config.",
                "unknown_stage",
            )
    if not r["AccountId"].strip():
        rows.error(
            "AccountId",
            "",
            "is empty",
            "Every opportunity belongs to an account.",
            "missing_value",
        )
    if not rows.ok or created is None or close is None:
        return None
    if is_won and not is_closed:
        rows.warn(
            "IsWon",
            r.get("IsWon", ""),
            "is set on an open deal",
            "Treated as closed and won; fix the stage in Salesforce.",
            "won_not_closed",
        )
        is_closed = True
    if finding := amount_finding(r.get("Amount", ""), amount):
        rows.warn("Amount", r.get("Amount", ""), *finding)
    closed_at = close if is_closed else None
    if closed_at is not None and (finding := close_before_create_finding(created, closed_at)):
        rows.warn("CloseDate", r["CloseDate"], *finding)
    currency = r.get("CurrencyIsoCode", "").strip().upper() or maps.default_currency
    record = OpportunityRecord(
        ref,
        r["AccountId"].strip(),
        r["Name"].strip() or ref,
        amount,
        currency,
        stage,
        is_closed,
        is_won,
        created,
        closed_at,
        OPPORTUNITY_TYPES.get(r.get("Type", "").strip().lower(), "new_business"),
        r.get("LeadSource", "").strip(),
    )
    return _ReadOpportunity(record, r.get("PartnerAccountId", "").strip())


def _read_opportunity_partners(table: CsvTable, batch: Batch, maps: ValueMaps) -> None:
    quick = _clean_opportunity_partners(table, maps)
    rows = RowReader(table.name, batch.problems)
    batch.involvements += [
        read.involvement
        for read in _quick_then_careful(
            table,
            rows,
            quick,
            lambda read: read.ref,
            lambda r, seen: _opportunity_partner_row(r, rows, seen, maps),
        )
    ]


class _ReadInvolvement(NamedTuple):
    involvement: InvolvementRecord
    ref: str


def _clean_opportunity_partners(
    table: CsvTable, maps: ValueMaps
) -> list[tuple[int, _ReadInvolvement]]:
    ids = [v.strip() for v in table.column("Id")]
    repeated = _repeated(ids)
    attached = quick_datetimes(table.column("CreatedDate"))
    primary = [QUICK_BOOLS.get(v) for v in table.column("IsPrimary")]
    roles = {role: maps.partner_role(role) for role in set(table.column("Role"))}
    cells = zip(
        ids,
        attached,
        primary,
        table.column("Role"),
        table.column("OpportunityId"),
        table.column("AccountToId"),
        strict=True,
    )
    out = []
    for number, (ref, at, is_primary, role_cell, opportunity, partner) in enumerate(cells, 1):
        role = roles[role_cell]
        if ref in repeated or at is None or is_primary is None or role is None:
            continue
        record = InvolvementRecord(opportunity.strip(), partner.strip(), role, at, is_primary)
        out.append((number, _ReadInvolvement(record, ref)))
    return out


def _opportunity_partner_row(
    r: dict[str, str], rows: RowReader, seen: set[str], maps: ValueMaps
) -> _ReadInvolvement | None:
    ref = r["Id"].strip()
    if ref and seen_before(seen, ref, rows, "Id"):
        return None
    attached = rows.required(r, "CreatedDate", parse_datetime)
    primary = rows.cell(r, "IsPrimary", parse_bool) if "IsPrimary" in r else False
    role = maps.partner_role(r["Role"])
    if role is None:
        rows.warn(
            "Role",
            r["Role"],
            "is a partner role we do not know",
            "Counted as influenced; map it in the [partner_roles] table of --config.",
            "unknown_role",
        )
        role = "influenced"
    if not rows.ok or attached is None:
        return None
    record = InvolvementRecord(
        r["OpportunityId"].strip(), r["AccountToId"].strip(), role, attached, bool(primary)
    )
    return _ReadInvolvement(record, ref)


def _blank_or(parse: Callable[[str], T]) -> Callable[[str], T | None]:
    """An optional cell: blank is None (report exports leave Amount empty), else `parse`."""
    return lambda text: parse(text) if text.strip() else None


def parse_probability(text: str) -> Decimal:
    value = parse_decimal(text.removesuffix("%"))
    if not 0 <= value <= 100:
        raise CellError("is not a percentage from 0 to 100", "Give Probability as e.g. 10 or 100.")
    return value


def _read_opportunity_history(table: CsvTable, batch: Batch, maps: ValueMaps) -> None:
    """Stage history: one row per stage (or amount/close date) change of an opportunity.

    Rows in the recycle bin (IsDeleted, in "Export All") are skipped and counted, not errors.
    ExpectedRevenue and ForecastCategory follow from Amount and the stage, so they are not kept.
    """
    rows = RowReader(table.name, batch.problems)
    seen: set[str] = set()
    # A stage the opportunities of this import sit in is the org's own, not a typo.
    known = KNOWN_OPEN_STAGES | set(maps.stages) | {o.stage.lower() for o in batch.opportunities}
    for number, r in table.records():
        rows.start(number)
        ref = r["Id"].strip()
        if not ref:
            rows.error("Id", "", "is empty", "Every history row needs its Id.", "missing_value")
            continue
        if seen_before(seen, ref, rows, "Id"):
            continue
        if "IsDeleted" in r and rows.cell(r, "IsDeleted", parse_bool):
            batch.skipped["stage_changes"] = batch.skipped.get("stage_changes", 0) + 1
            continue
        opportunity = r["OpportunityId"].strip()
        if not opportunity:
            rows.error(
                "OpportunityId",
                "",
                "is empty",
                "Every history row belongs to an opportunity.",
                "missing_value",
            )
        stage = rows.required(r, "StageName", str.strip)
        changed_at = rows.required(r, "CreatedDate", parse_datetime)
        amount = rows.cell(r, "Amount", _blank_or(parse_decimal))
        close_date = rows.cell(r, "CloseDate", _blank_or(parse_date))
        probability = rows.cell(r, "Probability", _blank_or(parse_probability))
        if stage and stage.lower() not in known:
            rows.warn(
                "StageName",
                stage,
                "is a stage we do not know",
                "Kept as exported; map it in the [stages] table of --config if it closes a deal.",
                "unknown_stage",
            )
        if not rows.ok or not opportunity or not stage or changed_at is None:
            continue
        batch.stage_changes.append(
            StageChangeRecord(
                ref,
                opportunity,
                stage,
                changed_at,
                amount,
                close_date,
                probability,
                table.name,
                number,
            )
        )


def _read_leads(table: CsvTable, batch: Batch, maps: ValueMaps) -> None:
    rows = RowReader(table.name, batch.problems)
    seen: set[str] = set()
    for number, r in table.records():
        rows.start(number)
        ref = r["Id"].strip()
        if not ref or seen_before(seen, ref, rows, "Id"):
            continue
        created = rows.required(r, "CreatedDate", parse_datetime)
        converted = bool(rows.cell(r, "IsConverted", parse_bool)) if "IsConverted" in r else False
        converted_at = (
            rows.cell(r, "ConvertedDate", parse_datetime)
            if r.get("ConvertedDate", "").strip()
            else None
        )
        if not rows.ok or created is None:
            continue
        status = (
            "converted" if converted else LEAD_STATUSES.get(r["Status"].strip().lower(), "open")
        )
        if converted and converted_at is None:
            rows.warn(
                "ConvertedDate",
                "",
                "is empty on a converted lead",
                "Conversion speed leaves this lead out.",
                "missing_value",
            )
        if converted_at is not None and converted_at.date() < created.date():
            rows.warn(
                "ConvertedDate",
                r["ConvertedDate"],
                "is before CreatedDate",
                "Kept as exported; conversion speed leaves this lead out.",
                "close_before_create",
            )
        batch.leads.append(
            LeadRecord(
                ref,
                r["Company"].strip() or ref,
                created,
                converted_at,
                status,
                maps.lead_source(r.get("LeadSource", "")),
                r.get("PartnerAccountId", "").strip(),
                r.get("ConvertedAccountId", "").strip(),
            )
        )


def _add_partner_account_ids(batch: Batch, sourced_by: list[InvolvementRecord]) -> None:
    """Opportunity.PartnerAccountId says which partner sourced the deal. Where an
    OpportunityPartner row already lists that partner on the deal, the row is the record
    (it has the attach time); otherwise the deal gets a primary sourced involvement."""
    listed = {(i.opportunity_ref, i.partner_ref) for i in batch.involvements}
    batch.involvements += [
        i for i in sourced_by if (i.opportunity_ref, i.partner_ref) not in listed
    ]


def _mark_churned(batch: Batch) -> None:
    """A customer whose recurring revenue stopped before the revenue file's last month has
    churned; Salesforce's Account.Type still says Customer, billing knows better."""
    if not batch.revenue:
        return
    last_month: dict[str, dt.date] = {}
    for r in batch.revenue:
        if r.mrr > 0:
            last_month[r.account_ref] = max(last_month.get(r.account_ref, r.month), r.month)
    if not last_month:
        return
    latest = max(last_month.values())
    for account in batch.accounts:
        ended = last_month.get(account.ref)
        if account.lifecycle == "customer" and ended is not None and ended < latest:
            account.lifecycle = "churned"
