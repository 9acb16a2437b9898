"""The generic CSV reader: a Pipedrive-like export read through a TOML mapping, and every way a
mapping can be wrong."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from mutualist.imports.batch import (
    AccountRecord,
    Batch,
    InvolvementRecord,
    LeadRecord,
    OpportunityRecord,
    PartnerRecord,
    Problem,
)
from mutualist.imports.readers import generic
from mutualist.imports.readers.generic import read_generic

FIXTURES = Path(__file__).parent / "fixtures" / "generic"
MAPPING = FIXTURES / "mapping.toml"
CSVS = sorted(FIXTURES.glob("*.csv"))


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def where(problems: list[Problem]) -> list[tuple[str, int | None, str, str, str]]:
    return [(p.file, p.row, p.column, p.code, p.severity) for p in problems]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def batch() -> Batch:
    return read_generic(CSVS, MAPPING)


# --- the example mapping ------------------------------------------------------------------


def test_settings_and_files(batch: Batch) -> None:
    assert batch.source_system == "pipedrive"
    assert [(f.name, f.rows, f.kind) for f in batch.files] == [
        ("deal_partners.csv", 4, "generic:involvements"),
        ("deals.csv", 6, "generic:opportunities"),
        ("leads.csv", 4, "generic:leads"),
        ("organizations.csv", 4, "generic:accounts"),
        ("partners.csv", 3, "generic:partners"),
    ]


def test_accounts(batch: Batch) -> None:
    assert batch.accounts == [
        AccountRecord(
            "1",
            "Acme Corp",
            domain="acme.com",  # from https://www.acme.com/
            country="US",
            industry="Software",
            size_band="mid_market",
            lifecycle="customer",
            created_at=at(2023, 1, 10, 9, 30),
        ),
        AccountRecord(
            "2",
            "Globex GmbH",
            domain="globex.de",
            country="DE",
            industry="Manufacturing",
            size_band="smb",
            lifecycle="prospect",  # blank label
            created_at=at(2023, 2, 1),
        ),
        AccountRecord(
            "3",
            "Initech",
            domain="initech.io",
            country="",
            lifecycle="churned",  # "Former customer" through [accounts.lifecycles]
            created_at=at(2023, 3, 5),
        ),
    ]


def test_opportunities(batch: Batch) -> None:
    assert batch.opportunities == [
        OpportunityRecord(
            "D-1",
            "1",
            "Acme platform",
            Decimal("12500.00"),
            "EUR",
            "Negotiations Started",
            True,
            True,  # Status "Won" through [opportunities.stages]
            at(2024, 1, 10, 9, 30),
            at(2024, 2, 15, 16, 0),  # Won time
            type="new_business",  # "New business": built-in default
            lead_source="Partner",
        ),
        OpportunityRecord(
            "D-2",
            "2",
            "Globex pilot",
            Decimal("4000"),
            "USD",
            "Proposal Made",
            True,
            False,
            at(2024, 1, 20, 10, 0),
            at(2024, 1, 5, 12, 0),  # Lost time, the first non-empty of the list
            lead_source="Website",
        ),
        OpportunityRecord(
            "D-3",
            "3",
            "Initech expansion",
            None,
            "EUR",  # default_currency
            "Contact Made",
            False,
            False,
            at(2024, 2, 1, 8, 0),
            None,
            type="expansion",  # "Upsell" through [opportunities.types]
        ),
        OpportunityRecord(
            "D-5",
            "1",
            "Acme refund",
            Decimal("-500"),
            "EUR",
            "Negotiations Started",
            True,
            True,  # "won": map keys match in any case
            at(2024, 2, 10, 8, 0),
            at(2024, 2, 20, 8, 0),
            type="renewal",  # already a code
        ),
        OpportunityRecord(
            "D-6",
            "1",
            "Acme odd type",
            Decimal("900"),
            "EUR",
            "Qualified",
            False,
            False,
            at(2024, 2, 11, 8, 0),
            None,
        ),
    ]


def test_partners_and_involvements(batch: Batch) -> None:
    assert batch.partners == [
        PartnerRecord("P-1", "Northwind", "northwind.example", "GB", ["reseller", "isv"]),
        PartnerRecord("P-2", "Fabrikam Agency", "fabrikam.com", "FR", ["referral"]),
        PartnerRecord("P-3", "Oddball", "oddball.example", "", []),
    ]
    assert batch.involvements == [
        InvolvementRecord("D-1", "P-1", "sourced", at(2024, 1, 9), True),
        InvolvementRecord("D-1", "P-2", "influenced", at(2024, 1, 15), False),  # built-in
        InvolvementRecord("D-2", "P-2", "co_sell", at(2024, 1, 21), False),
    ]


def test_leads(batch: Batch) -> None:
    assert batch.leads == [
        LeadRecord(
            "L-1",
            "Acme Corp",
            at(2023, 12, 1, 10, 0),
            at(2024, 1, 10, 9, 30),
            "converted",
            "partner_referral",
            partner_ref="P-1",
        ),
        LeadRecord("L-2", "Hooli", at(2024, 1, 5), None, "working", "inbound"),
        LeadRecord("L-3", "Umbrella", at(2024, 1, 6), None, "open", "event"),  # Trade show
        LeadRecord("L-4", "Vandelay", at(2024, 1, 7), None, "open", "other"),
    ]


def test_problems(batch: Batch) -> None:
    assert where(batch.problems) == [
        ("organizations.csv", 3, "Country", "unknown_country", "warning"),
        ("organizations.csv", 4, "ID", "duplicate_id", "warning"),
        ("deals.csv", 2, "Lost time", "close_before_create", "warning"),
        ("deals.csv", 3, "Value", "missing_amount", "warning"),
        ("deals.csv", 4, "Org ID", "orphan", "warning"),
        ("deals.csv", 5, "Value", "negative_amount", "warning"),
        ("deals.csv", 6, "Deal type", "unmapped_value", "warning"),
        ("partners.csv", 3, "Partner type", "unmapped_value", "warning"),
        ("deal_partners.csv", 4, "Partner ID", "duplicate_id", "warning"),
        ("leads.csv", 4, "Lead status", "unmapped_value", "warning"),
        ("leads.csv", 4, "Source", "unmapped_value", "warning"),
    ]
    barter = batch.problems[6]
    assert barter.value == "Barter"
    assert '"Barter" = ' in barter.hint and "[opportunities.types]" in barter.hint


def test_docstring_documents_every_object_field_and_map() -> None:
    doc = generic.__doc__ or ""
    for name, spec in generic.OBJECTS.items():
        assert name in doc
        for word in (*spec.fields, *spec.maps):
            assert word in doc, f"{name}.{word} is not documented"


# --- rows through a small mapping ----------------------------------------------------------


def small_mapping(tmp_path: Path, extra: str = "") -> Path:
    return write(
        tmp_path,
        "map.toml",
        '[opportunities]\nfile = "deals.csv"\n\n'
        "[opportunities.columns]\n"
        'ref = "Id"\naccount_ref = "Account"\nstage = "Stage"\ncreated_at = "Created"\n' + extra,
    )


def test_boolean_columns_decide_the_outcome(tmp_path: Path) -> None:
    mapping = small_mapping(
        tmp_path, 'is_closed = "Closed"\nis_won = "Won"\nclosed_at = "Closed on"\n'
    )
    deals = write(
        tmp_path,
        "deals.csv",
        "Id,Account,Stage,Created,Closed,Won,Closed on\n"
        "1,A,Signed,2024-01-01,1,1,2024-02-01\n"
        "2,A,Won,2024-01-01,0,0,2024-02-01\n"
        "3,A,Dead,2024-01-01,TRUE,FALSE,\n",
    )
    batch = read_generic([deals], mapping)
    assert [(o.ref, o.is_closed, o.is_won, o.closed_at) for o in batch.opportunities] == [
        ("1", True, True, at(2024, 2, 1)),
        ("2", False, False, None),  # the flags beat the stage name
        ("3", True, False, None),
    ]
    assert where(batch.problems) == [("deals.csv", 3, "Closed on", "missing_close_date", "warning")]


def test_unmapped_role_is_an_error(tmp_path: Path) -> None:
    mapping = write(
        tmp_path,
        "map.toml",
        '[involvements]\nfile = "links.csv"\n[involvements.columns]\n'
        'opportunity_ref = "Deal"\npartner_ref = "Partner"\nrole = "Role"\nattached_at = "At"\n',
    )
    links = write(tmp_path, "links.csv", "Deal,Partner,Role,At\nD,P,Kingmaker,2024-01-01\n")
    batch = read_generic([links], mapping)
    assert batch.involvements == []
    assert where(batch.problems) == [("links.csv", 1, "Role", "unmapped_value", "error")]


def test_employees_or_size_band_map(tmp_path: Path) -> None:
    mapping = write(
        tmp_path,
        "map.toml",
        '[accounts]\nfile = "orgs.csv"\n[accounts.columns]\n'
        'ref = "Id"\nname = "Name"\nsize_band = "Segment"\nemployees = "Staff"\n'
        '[accounts.size_bands]\n"Large" = "enterprise"\n',
    )
    orgs = write(tmp_path, "orgs.csv", "Id,Name,Segment,Staff\n1,A,Large,10\n2,B,,1999\n3,C,,\n")
    batch = read_generic([orgs], mapping)
    assert [a.size_band for a in batch.accounts] == ["enterprise", "mid_market", ""]
    assert batch.problems == []


def test_cell_errors_name_file_row_column_and_value(tmp_path: Path) -> None:
    mapping = small_mapping(tmp_path, 'amount = "Amount"\n')
    deals = write(
        tmp_path,
        "deals.csv",
        "Id,Account,Stage,Created,Amount\n1,A,Won,2024-13-01,10\n2,A,Won,2024-01-01,ten\n,A,Won,2024-01-01,1\n",
    )
    batch = read_generic([deals], mapping)
    assert batch.opportunities == []
    assert [(p.row, p.column, p.value, p.code) for p in batch.problems] == [
        (1, "Created", "2024-13-01", "invalid_value"),
        (2, "Amount", "ten", "invalid_value"),
        (3, "Id", "", "missing_value"),
    ]


def test_files_without_and_patterns_without_a_match(tmp_path: Path) -> None:
    mapping = small_mapping(tmp_path)
    stray = write(tmp_path, "notes.csv", "a,b\n1,2\n")
    batch = read_generic([stray], mapping)
    assert where(batch.problems) == [
        ("map.toml", 2, "opportunities.file", "no_file", "warning"),
        ("notes.csv", None, "", "unused_file", "warning"),
    ]
    assert [f.kind for f in batch.files] == ["generic:unused"]


def test_file_patterns_ignore_case(tmp_path: Path) -> None:
    paths = [tmp_path / "DEALS-2024.CSV", tmp_path / "Organizations.csv"]
    shutil.copy(FIXTURES / "deals.csv", paths[0])
    shutil.copy(FIXTURES / "organizations.csv", paths[1])
    batch = read_generic(paths, MAPPING)
    assert len(batch.opportunities) == 5 and len(batch.accounts) == 3


def test_non_utf8_and_missing_csv(tmp_path: Path) -> None:
    mapping = small_mapping(tmp_path)
    deals = tmp_path / "deals.csv"
    deals.write_bytes("Id,Account,Stage,Created\n1,Société,Won,2024-01-01\n".encode("cp1252"))
    batch = read_generic([deals], mapping)
    assert where(batch.problems) == [("deals.csv", None, "", "encoding", "error")]
    deals.unlink()
    assert [p.code for p in read_generic([deals], mapping).errors] == ["unreadable"]


def test_ids_repeat_across_files_of_one_object(tmp_path: Path) -> None:
    paths = [tmp_path / "deals-jan.csv", tmp_path / "deals-feb.csv"]
    for path in paths:
        shutil.copy(FIXTURES / "deals.csv", path)
    batch = read_generic(paths, MAPPING)
    assert len(batch.opportunities) == 5
    repeats = [(p.file, p.row) for p in batch.problems if p.code == "duplicate_id"]
    assert repeats == [("deals-feb.csv", row) for row in range(1, 7)]


def test_one_flat_file_can_feed_two_objects(tmp_path: Path) -> None:
    mapping = write(
        tmp_path,
        "map.toml",
        '[accounts]\nfile = "flat.csv"\n[accounts.columns]\nref = "Org ID"\nname = "Org"\n'
        '[opportunities]\nfile = "flat.csv"\n[opportunities.columns]\nref = "Deal ID"\n'
        'account_ref = "Org ID"\nstage = "Stage"\ncreated_at = "Created"\n',
    )
    flat = write(
        tmp_path, "flat.csv", "Deal ID,Org ID,Org,Stage,Created\nD1,O1,Acme,Won,2024-01-01\n"
    )
    batch = read_generic([flat], mapping)
    assert [(a.ref, a.name) for a in batch.accounts] == [("O1", "Acme")]
    assert [(o.ref, o.account_ref, o.is_won) for o in batch.opportunities] == [("D1", "O1", True)]
    assert [(f.rows, f.kind) for f in batch.files] == [(1, "generic:accounts+opportunities")]


# --- mistakes in the mapping ---------------------------------------------------------------


def mapping_errors(tmp_path: Path, text: str) -> list[Problem]:
    path = write(tmp_path, "map.toml", text)
    batch = read_generic([FIXTURES / "deals.csv"], path)
    assert batch.opportunities == []
    return batch.problems


VALID = (
    '[opportunities]\nfile = "deals.csv"\n'
    '[opportunities.columns]\nref = "Deal ID"\naccount_ref = "Org ID"\nstage = "Stage"\n'
    'created_at = "Deal created"\n'
)


def test_the_small_valid_mapping_reads(tmp_path: Path) -> None:
    path = write(tmp_path, "map.toml", VALID)
    batch = read_generic([FIXTURES / "deals.csv"], path)
    assert [o.ref for o in batch.opportunities] == ["D-1", "D-2", "D-3", "D-5", "D-6"]
    assert batch.source_system == "generic"


def test_toml_syntax_error_gives_the_line(tmp_path: Path) -> None:
    [problem] = mapping_errors(tmp_path, VALID + 'amount = "Value\n')
    assert (problem.file, problem.row, problem.code) == ("map.toml", 8, "bad_mapping")
    assert "is not valid TOML" in problem.reason


def test_unknown_object(tmp_path: Path) -> None:
    [problem] = mapping_errors(tmp_path, VALID + '[oportunities]\nfile = "x.csv"\n')
    assert (problem.row, problem.column) == (8, "oportunities")
    assert "did you mean 'opportunities'" in problem.hint


def test_unknown_field(tmp_path: Path) -> None:
    [problem] = mapping_errors(tmp_path, VALID + 'amout = "Value"\n')
    assert (problem.row, problem.column, problem.code) == (
        8,
        "opportunities.columns.amout",
        "bad_mapping",
    )
    assert "did you mean 'amount'" in problem.hint


def test_unknown_key_in_an_object_table(tmp_path: Path) -> None:
    text = VALID.replace('file = "deals.csv"\n', 'file = "deals.csv"\nstatuses = 1\n')
    [problem] = mapping_errors(tmp_path, text)
    assert (problem.row, problem.column) == (3, "opportunities.statuses")
    assert "did you mean 'stages'" in problem.hint


def test_value_map_target_must_be_known(tmp_path: Path) -> None:
    [problem] = mapping_errors(tmp_path, VALID + '[opportunities.stages]\n"Won" = "winning"\n')
    assert (problem.row, problem.column, problem.value) == (
        9,
        "opportunities.stages.Won",
        "winning",
    )
    assert "open, won, lost" in problem.hint


def test_required_field_must_be_mapped(tmp_path: Path) -> None:
    [problem] = mapping_errors(tmp_path, VALID.replace('stage = "Stage"\n', ""))
    assert (problem.row, problem.column) == (3, "opportunities.columns")
    assert "required field stage" in problem.reason


def test_column_value_must_be_a_name(tmp_path: Path) -> None:
    [problem] = mapping_errors(tmp_path, VALID + "amount = 3\n")
    assert (problem.row, problem.column, problem.value) == (8, "opportunities.columns.amount", "3")


def test_file_pattern_is_required(tmp_path: Path) -> None:
    [problem] = mapping_errors(tmp_path, VALID.replace('file = "deals.csv"\n', ""))
    assert problem.column == "opportunities.file"


def test_bad_settings(tmp_path: Path) -> None:
    problems = mapping_errors(tmp_path, 'default_currency = "euro"\nsource_system = ""\n' + VALID)
    assert [(p.row, p.column, p.value) for p in problems] == [
        (1, "default_currency", "euro"),
        (2, "source_system", ""),
    ]


def test_empty_mapping(tmp_path: Path) -> None:
    [problem] = mapping_errors(tmp_path, "# nothing yet\n")
    assert problem.reason == "maps no object"


def test_mapped_column_absent_from_the_file(tmp_path: Path) -> None:
    [problem] = mapping_errors(tmp_path, VALID + 'amount = "Valeu"\n')
    assert (problem.file, problem.row, problem.column, problem.code) == (
        "deals.csv",
        0,
        "Valeu",
        "missing_column",
    )
    assert (
        "map.toml (line 8)" in problem.reason and "opportunities.columns.amount" in problem.reason
    )
    assert "did you mean 'Value'" in problem.hint


def test_unreadable_mapping_files(tmp_path: Path) -> None:
    latin = tmp_path / "latin.toml"
    latin.write_bytes('source_system = "café"\n'.encode("cp1252"))
    for path in (latin, tmp_path / "absent.toml"):
        batch = read_generic([FIXTURES / "deals.csv"], path)
        assert where(batch.problems) == [(path.name, None, "", "bad_mapping", "error")]
        assert [f.kind for f in batch.files] == ["generic:unread"]
