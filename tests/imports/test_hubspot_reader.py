"""The HubSpot reader on exports shaped like HubSpot's own: UI labels and API internal names."""

from __future__ import annotations

import codecs
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from mutualist.imports.batch import (
    AccountRecord,
    Batch,
    OpportunityRecord,
    PartnerRecord,
    Problem,
)
from mutualist.imports.readers.hubspot import read_hubspot

FIXTURES = Path(__file__).parent / "fixtures" / "hubspot"
UI_DEALS = FIXTURES / "hubspot-crm-exports-all-deals-2024-03-01.csv"
UI_COMPANIES = FIXTURES / "hubspot-crm-exports-all-companies-2024-03-01.csv"
API_DEALS = FIXTURES / "deals-api.csv"
API_COMPANIES = FIXTURES / "companies-api.csv"
STAGE_MAP = {"Signed": "won"}


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def where(problems: list[Problem]) -> list[tuple[str, int | None, str, str, str]]:
    """What the tests pin down about each problem: file, row, column, code, severity."""
    return [(p.file, p.row, p.column, p.code, p.severity) for p in problems]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def ui() -> Batch:
    return read_hubspot([UI_COMPANIES, UI_DEALS], stage_map=STAGE_MAP)


@pytest.fixture(scope="module")
def api() -> Batch:
    return read_hubspot([API_COMPANIES, API_DEALS])


# --- UI exports (labels) -------------------------------------------------------------------


def test_ui_companies_become_accounts(ui: Batch) -> None:
    assert ui.accounts == [
        AccountRecord(
            "9001",
            "Acme Corp",
            domain="acme.com",
            country="US",
            industry="Computer Software",
            size_band="mid_market",  # "1,250" employees
            lifecycle="customer",
            created_at=at(2023, 1, 10, 9, 30),
        ),
        AccountRecord(
            "9002",
            "Globex GmbH",
            domain="globex.de",  # www. dropped
            country="DE",
            industry="Machinery",
            size_band="smb",
            lifecycle="prospect",
            created_at=at(2023, 2, 1, 14, 0),
        ),
        AccountRecord(
            "9003",
            "Initech",
            domain="initech.io",
            country="",  # Atlantis: warned, left blank
            industry="",
            size_band="enterprise",
            lifecycle="customer",  # Evangelist
            created_at=at(2023, 3, 5),
        ),
    ]


def test_ui_partner_typed_companies_become_partners(ui: Batch) -> None:
    assert ui.partners == [
        PartnerRecord("9004", "Northwind Partners", "northwind.example", "GB", ["reseller"]),
        PartnerRecord("9005", "Contoso Apps", "contoso.com", "FR", ["isv"]),
        PartnerRecord("9006", "Fabrikam Alliances", "fabrikam.com", "", []),
    ]


def test_ui_deals(ui: Batch) -> None:
    assert ui.opportunities == [
        OpportunityRecord(
            "101",
            "9001",  # first of "9001;9002"
            "Acme expansion",
            Decimal("12500.00"),  # "12,500.00"
            "USD",
            "Closed Won",
            True,
            True,
            at(2024, 1, 10, 9, 30),
            at(2024, 2, 15),  # date-only close date: midnight UTC
            type="expansion",
            lead_source="Offline Sources",
        ),
        OpportunityRecord(
            "102",
            "9002",
            "Globex platform",
            Decimal("40000"),
            "USD",
            "Contract Sent",
            False,
            False,
            at(2024, 2, 1, 10, 0),
            None,  # open: the expected close date is not a close
            type="new_business",
            lead_source="Organic Search",
        ),
        OpportunityRecord(
            "103",
            "9003",
            "Initech pilot",
            Decimal("8000"),
            "USD",
            "Closed Lost",
            True,
            False,
            at(2024, 1, 20, 11, 0),
            at(2024, 1, 5),  # before creation: kept, warned
        ),
        OpportunityRecord(
            "105",
            "9001",
            "Acme credit",
            Decimal("-1500"),
            "USD",
            "Closed Won",
            True,
            True,
            at(2024, 2, 1, 9, 0),
            at(2024, 2, 20),
            type="renewal",
        ),
        OpportunityRecord(
            "106",
            "9003",
            "Initech enterprise",
            Decimal("75000"),
            "USD",
            "Signed",  # custom stage, won through stage_map
            True,
            True,
            at(2024, 2, 12, 9, 0),
            at(2024, 3, 28),
            lead_source="Referrals",
        ),
        OpportunityRecord(
            "107",
            "9002",
            "Globex add-on",
            Decimal("9000"),
            "USD",
            "Verbal Commit",  # unknown stage: open, warned
            False,
            False,
            at(2024, 2, 14, 16, 45),
            None,
            type="expansion",
        ),
        OpportunityRecord(
            "108",
            "9001",
            "Acme services",
            None,
            "USD",
            "Appointment Scheduled",
            False,
            False,
            at(2024, 2, 20, 8, 0),
            None,
        ),
    ]


def test_ui_problems(ui: Batch) -> None:
    companies, deals = UI_COMPANIES.name, UI_DEALS.name
    assert where(ui.problems) == [
        (companies, 3, "Country/Region", "unknown_country", "warning"),
        (companies, 7, "Record ID", "duplicate_id", "warning"),
        (deals, 3, "Close Date", "close_before_create", "warning"),
        (deals, 4, "Associated Company IDs", "orphan", "warning"),
        (deals, 5, "Amount", "negative_amount", "warning"),
        (deals, 7, "Deal Stage", "unknown_stage", "warning"),
        (deals, 8, "Amount", "missing_amount", "warning"),
        (deals, 9, "Record ID", "duplicate_id", "warning"),
    ]
    assert [p.value for p in ui.problems] == [
        "Atlantis",
        "9002",
        "2024-01-05",
        "",
        "-1500",
        "Verbal Commit",
        "",
        "101",
    ]
    assert all(p.reason and p.hint for p in ui.problems)


def test_ui_files_are_listed_with_their_kind(ui: Batch) -> None:
    assert [(f.name, f.rows, f.kind) for f in ui.files] == [
        (UI_COMPANIES.name, 7, "hubspot:companies"),
        (UI_DEALS.name, 9, "hubspot:deals"),
    ]
    assert ui.source_system == "hubspot"
    assert all(len(f.sha256) == 64 for f in ui.files)


def test_bom_does_not_hide_the_first_column(ui: Batch) -> None:
    assert UI_DEALS.read_bytes().startswith(codecs.BOM_UTF8)
    assert [o.ref for o in ui.opportunities][:1] == ["101"]


def test_orphan_deal_is_skipped_and_counted(ui: Batch) -> None:
    orphans = [p for p in ui.warnings if p.code == "orphan"]
    assert len(orphans) == 1
    # Every data row is accounted for: imported, orphan, or duplicate.
    skipped = len(orphans) + sum(
        p.code == "duplicate_id" and p.file == UI_DEALS.name for p in ui.problems
    )
    assert len(ui.opportunities) + skipped == 9


def test_unmapped_custom_stage_is_open_with_a_warning() -> None:
    batch = read_hubspot([UI_DEALS])
    signed = next(o for o in batch.opportunities if o.ref == "106")
    assert (signed.stage, signed.is_closed, signed.is_won, signed.closed_at) == (
        "Signed",
        False,
        False,
        None,
    )
    unknown = [(p.row, p.value) for p in batch.problems if p.code == "unknown_stage"]
    assert unknown == [(6, "Signed"), (7, "Verbal Commit")]


# --- API exports (internal names) ----------------------------------------------------------


def test_api_companies(api: Batch) -> None:
    assert api.accounts == [
        AccountRecord(
            "9101",
            "Umbrella Corp",
            domain="umbrella.com",
            country="US",
            industry="Computer Software",  # COMPUTER_SOFTWARE, shown as the UI label
            size_band="mid_market",
            lifecycle="customer",
            created_at=at(2023, 6, 1, 12, 0),
        ),
        AccountRecord(
            "9102",
            "Hooli",
            domain="hooli.xyz",
            country="CA",
            industry="Information Technology and Services",
            size_band="enterprise",
            lifecycle="prospect",
            created_at=at(2023, 7, 1),
        ),
    ]
    assert api.partners == [
        PartnerRecord("9103", "Vandelay Industries", "vandelay.com", "ES", ["reseller"])
    ]


def test_api_deals(api: Batch) -> None:
    assert api.opportunities == [
        OpportunityRecord(
            "201",
            "9101",
            "Umbrella renewal",
            Decimal("30000"),
            "EUR",
            "Closed Won",  # closedwon, stored by label like the UI export
            True,
            True,
            at(2023, 12, 1, 10, 15),
            at(2024, 3, 1),
            type="expansion",
            lead_source="DIRECT_TRAFFIC",
        ),
        OpportunityRecord(
            "202",
            "9101",
            "Umbrella upsell",
            Decimal("15000.50"),
            "USD",  # blank deal_currency_code: the default
            "Contract Sent",
            False,
            False,
            at(2024, 1, 15, 8, 0),
            None,
            lead_source="REFERRALS",
        ),
        OpportunityRecord(
            "203",
            "9102",
            "Hooli platform",
            Decimal("22000"),
            "USD",
            "1234567",  # custom pipeline stage id; hs_is_closed_won says won
            True,
            True,
            at(2024, 1, 2, 8, 0),  # 09:00+01:00
            at(2024, 2, 28, 12, 0),
            lead_source="OFFLINE",
        ),
        OpportunityRecord(
            "204",
            "9102",
            "Hooli pilot",
            Decimal("9000"),
            "USD",
            "1234568",  # hs_is_closed_lost says lost
            True,
            False,
            at(2024, 1, 3),
            at(2024, 2, 10),
            lead_source="PAID_SEARCH",
        ),
        OpportunityRecord(
            "205",
            "9103",
            "Vandelay resale",
            Decimal("4000"),
            "GBP",
            "Closed Lost",  # blank flags: the stage decides
            True,
            False,
            at(2024, 1, 5),
            at(2024, 2, 1),
            type="renewal",
        ),
    ]


def test_api_exports_have_no_problems(api: Batch) -> None:
    assert api.problems == []
    assert [f.kind for f in api.files] == ["hubspot:companies", "hubspot:deals"]


def test_closed_flags_beat_the_stage(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "deals.csv",
        "hs_object_id,dealname,dealstage,amount,closedate,createdate,hs_is_closed_won,"
        "hs_is_closed_lost,associatedcompanyid\n"
        "1,Flagged open,closedwon,10,2024-02-01,2024-01-01,false,false,9\n"
        "2,Flagged lost,qualifiedtobuy,10,2024-02-01,2024-01-01,false,true,9\n",
    )
    batch = read_hubspot([path])
    assert [(o.ref, o.is_closed, o.is_won, o.closed_at) for o in batch.opportunities] == [
        ("1", False, False, None),
        ("2", True, False, at(2024, 2, 1)),
    ]
    assert batch.problems == []


def test_stage_map_matches_ids_and_labels_in_any_case(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "deals.csv",
        "Record ID,Deal Name,Deal Stage,Amount,Close Date,Create Date,Associated Company IDs\n"
        "1,By id,1234567,10,2024-02-01,2024-01-01,9\n"
        "2,By label,ON HOLD,10,2024-02-01,2024-01-01,9\n"
        "3,Default overridden,Contract Sent,10,2024-02-01,2024-01-01,9\n",
    )
    stage_map = {"1234567": "lost", "On hold": "open", "contractsent": "won"}
    batch = read_hubspot([path], stage_map=stage_map)
    assert [(o.stage, o.is_closed, o.is_won) for o in batch.opportunities] == [
        ("1234567", True, False),
        ("ON HOLD", False, False),
        ("Contract Sent", False, False),  # the map matches the id or label actually exported
    ]
    assert batch.problems == []


def test_company_ids_may_be_comma_separated(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "deals.csv",
        "Record ID,Deal Name,Deal Stage,Amount,Close Date,Create Date,Associated Company IDs\n"
        '1,Two companies,Closed Won,10,2024-02-01,2024-01-01,"  77, 78"\n',
    )
    assert [o.account_ref for o in read_hubspot([path]).opportunities] == ["77"]


def test_headers_match_in_any_case(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "companies.csv",
        "RECORD ID,Company Name,company domain name,COUNTRY/REGION,number of employees\n"
        "5,Shouty Ltd,shouty.example,United Kingdom,199\n",
    )
    batch = read_hubspot([path])
    assert batch.accounts == [
        AccountRecord("5", "Shouty Ltd", "shouty.example", "GB", size_band="smb")
    ]
    assert batch.problems == []


def test_a_company_with_only_a_domain_is_named_after_it(tmp_path: Path) -> None:
    path = write(tmp_path, "companies.csv", "hs_object_id,name,domain\n5,,https://bare.example/\n")
    assert [(a.ref, a.name) for a in read_hubspot([path]).accounts] == [("5", "bare.example")]


def test_ids_repeated_across_files_are_skipped() -> None:
    batch = read_hubspot([API_COMPANIES, API_COMPANIES])
    assert len(batch.accounts) + len(batch.partners) == 3
    assert where(batch.problems) == [
        (API_COMPANIES.name, row, "hs_object_id", "duplicate_id", "warning") for row in (1, 2, 3)
    ]


# --- bad input: a precise error, never an exception ----------------------------------------


def test_bad_cells_are_errors_with_file_row_column_and_value() -> None:
    batch = read_hubspot([FIXTURES / "deals-bad-cells.csv"])
    assert batch.opportunities == []
    assert [(p.row, p.column, p.value, p.code, p.severity) for p in batch.problems] == [
        (1, "Amount", "12 500 USD", "invalid_value", "error"),
        (2, "Close Date", "2024-04-31", "invalid_value", "error"),
        (3, "Deal Name", "", "missing_value", "error"),
    ]
    assert batch.problems[1].reason.startswith("is not a real date")
    assert all(p.file == "deals-bad-cells.csv" and p.hint for p in batch.problems)


def test_blank_stage_is_an_error(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "deals.csv",
        "hs_object_id,dealname,dealstage,amount,closedate,createdate,associatedcompanyid\n"
        "1,A,,10,2024-02-01,2024-01-01,9\n",
    )
    batch = read_hubspot([path])
    assert batch.opportunities == []
    assert where(batch.problems) == [("deals.csv", 1, "dealstage", "missing_value", "error")]


def test_missing_required_column_is_named_in_the_files_style() -> None:
    batch = read_hubspot([FIXTURES / "deals-missing-stage.csv"])
    assert batch.opportunities == []
    [problem] = batch.problems
    assert (problem.file, problem.row, problem.column, problem.code) == (
        "deals-missing-stage.csv",
        0,
        "Deal Stage",
        "missing_column",
    )
    assert "dealstage" in problem.hint


def test_missing_association_column_is_an_error_not_a_flood_of_orphans(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "deals.csv",
        "hs_object_id,dealname,dealstage,amount,closedate,createdate\n"
        "1,A,closedwon,10,2024-02-01,2024-01-01\n",
    )
    assert where(read_hubspot([path]).problems) == [
        ("deals.csv", 0, "associatedcompanyid", "missing_column", "error")
    ]


def test_contacts_export_is_refused() -> None:
    path = FIXTURES / "hubspot-crm-exports-all-contacts-2024-03-01.csv"
    batch = read_hubspot([path])
    assert batch.accounts == batch.partners == []
    assert where(batch.problems) == [(path.name, 0, "", "unknown_file", "error")]
    assert "contacts" in batch.problems[0].reason
    assert "Deal Stage" in batch.problems[0].hint and "Company name" in batch.problems[0].hint
    assert [f.kind for f in batch.files] == ["hubspot:unknown"]


def test_a_file_that_is_neither_names_the_expected_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "Opportunity.csv", "Id,AccountId,StageName,Amount\n006A,001A,Won,1\n")
    [problem] = read_hubspot([path]).problems
    assert (problem.row, problem.code) == (0, "unknown_file")
    assert "neither a HubSpot deals export nor a companies export" in problem.reason
    assert "dealname" in problem.hint and "hs_object_id" in problem.hint


def test_truncated_file_keeps_whole_rows_and_reports_the_cut() -> None:
    batch = read_hubspot([FIXTURES / "deals-truncated.csv"])
    assert [o.ref for o in batch.opportunities] == ["601"]
    assert where(batch.problems) == [("deals-truncated.csv", 2, "", "truncated", "error")]


def test_file_cut_inside_a_quoted_value(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "deals.csv",
        '"Record ID","Deal Name","Deal Stage"\n"1","Whole","Closed Won"\n"2","Cut',
    )
    batch = read_hubspot([path])
    assert batch.opportunities == []
    assert [p.code for p in batch.errors] == ["malformed"]


def test_non_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "companies.csv"
    path.write_bytes("Record ID,Company name\n1,Société Générale\n".encode("cp1252"))
    batch = read_hubspot([path])
    assert batch.accounts == []
    assert where(batch.problems) == [("companies.csv", None, "", "encoding", "error")]
    assert [f.kind for f in batch.files] == ["hubspot:unknown"]


def test_empty_and_missing_files(tmp_path: Path) -> None:
    empty = write(tmp_path, "empty.csv", "")
    batch = read_hubspot([empty, tmp_path / "absent.csv"])
    assert [(p.file, p.code) for p in batch.errors] == [
        ("empty.csv", "empty"),
        ("absent.csv", "unreadable"),
    ]


def test_bad_stage_map_and_currency_are_errors() -> None:
    batch = read_hubspot([], stage_map={"Signed": "closed"}, default_currency="dollars")
    assert [(p.column, p.value, p.code) for p in batch.errors] == [
        ("Signed", "closed", "bad_stage_map"),
        ("", "dollars", "bad_setting"),
    ]
