"""Salesforce OpportunityHistory: stage timestamps, in Data Loader and US report formats.

Fixtures are written here, in the shapes real exports have: Data Loader (ISO `+0000`
timestamps, `1`/blank booleans) for opportunities of the shared sample, and a report export
(`02/23/26 08:55 PM`, TRUE/FALSE, blank amounts, an extra column) for opportunities of our own.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from mutualist.audit.models import AuditEntry
from mutualist.crm.models import Opportunity, StageChange
from mutualist.crm.views import StageStep, stage_timeline
from mutualist.imports.actions import run_import
from mutualist.imports.parsing import parse_datetime
from mutualist.imports.readers.salesforce import read_salesforce
from tests.conftest import World
from tests.imports.test_salesforce_import import SAMPLE, db_state, sample_copy, write

pytestmark = pytest.mark.django_db
UTC = dt.UTC

WON = "006Ec00000AieKGIAZ"  # sample: Closed Won, CloseDate 2023-06-17
WON_LATE = "006Ec00000AieKHIAZ"  # sample: Closed Won, CloseDate 2023-11-12
OPEN = "006Ec00000AieKFIAZ"  # sample: Qualification, open
HEADER = (
    "Id,OpportunityId,CreatedById,CreatedDate,StageName,Amount,ExpectedRevenue,CloseDate,"
    "Probability,ForecastCategory,SystemModstamp,IsDeleted\n"
)
USER = "005Ec000004oBPNIA2"


def loader_row(ref: str, opp: str, at: str, stage: str, amount: str, close: str, prob: str) -> str:
    deleted = "1" if ref.endswith("DEL") else ""
    return f"{ref},{opp},{USER},{at},{stage},{amount},,{close},{prob},Pipeline,{at},{deleted}\n"


DATA_LOADER = HEADER + "".join(
    [
        loader_row(
            "008A1",
            WON,
            "2023-03-01T09:00:00.000+0000",
            "Prospecting",
            "1500000",
            "2023-06-30",
            "10",
        ),
        loader_row(
            "008A2",
            WON,
            "2023-05-02T10:30:00.000+0000",
            "Negotiation",
            "1651993.36",
            "2023-06-30",
            "90",
        ),
        # Closes two days before its CloseDate: within tolerance, no warning.
        loader_row(
            "008A3",
            WON,
            "2023-06-15T14:00:00.000+0000",
            "Closed Won",
            "1651993.36",
            "2023-06-17",
            "100",
        ),
        loader_row(
            "008ADEL", WON, "2023-06-16T08:00:00.000+0000", "Closed Lost", "1", "2023-06-16", "0"
        ),
        loader_row("008A4", OPEN, "2024-01-22T16:14:25.000+0000", "Qualification", "", "", "10"),
        # Planted: closed 2023-10-01 per history, CloseDate says 2023-11-12 (42 days later).
        loader_row(
            "008A5",
            WON_LATE,
            "2023-10-01T12:00:00.000+0000",
            "Closed Won",
            "1442558.88",
            "2023-10-01",
            "100",
        ),
    ]
)


def export_with_history(tmp_path: Path, history: str = DATA_LOADER) -> Path:
    export = sample_copy(tmp_path)
    write(export / "OpportunityHistory.csv", history)
    return export


def stages_of(ref: str) -> list[tuple[str, str, dt.datetime]]:
    return list(
        StageChange.objects.filter(opportunity__external_id=ref).values_list(
            "external_id", "stage", "changed_at"
        )
    )


def test_data_loader_history_imports_with_exact_stages_and_timestamps(tmp_path: Path) -> None:
    run = run_import(None, "salesforce", read_salesforce([export_with_history(tmp_path)]))
    assert run.status == "succeeded", run.problems
    assert run.error_count == 0
    assert stages_of(WON) == [
        ("008A1", "Prospecting", dt.datetime(2023, 3, 1, 9, 0, tzinfo=UTC)),
        ("008A2", "Negotiation", dt.datetime(2023, 5, 2, 10, 30, tzinfo=UTC)),
        ("008A3", "Closed Won", dt.datetime(2023, 6, 15, 14, 0, tzinfo=UTC)),
    ]
    first = StageChange.objects.get(external_id="008A1")
    assert (first.amount, first.close_date, first.probability, first.source_system) == (
        Decimal("1500000.00"),
        dt.date(2023, 6, 30),
        Decimal("10.00"),
        "salesforce",
    )
    open_row = StageChange.objects.get(external_id="008A4")
    assert (open_row.amount, open_row.close_date) == (None, None)
    # IsDeleted rows are counted as skipped, not read and not an error.
    assert not StageChange.objects.filter(external_id="008ADEL").exists()
    assert run.counts["stage_changes"] == {"created": 5, "updated": 0, "unchanged": 0, "skipped": 1}
    assert ("OpportunityHistory.csv", "OpportunityHistory") in {
        (f["name"], f["kind"]) for f in run.files
    }
    codes = Counter(p["code"] for p in run.problems)
    assert codes["not_imported"] == 3  # Contact, Campaign, CampaignMember; history is imported
    # The sample's opportunities themselves are untouched by the history.
    won = Opportunity.objects.get(external_id=WON_LATE)
    assert won.closed_at is not None and won.closed_at.date() == dt.date(2023, 11, 12)


def test_close_date_far_from_the_history_is_a_warning_and_changes_nothing(tmp_path: Path) -> None:
    run = run_import(None, "salesforce", read_salesforce([export_with_history(tmp_path)]))
    flagged = [p for p in run.problems if p["code"] == "close_date_differs_from_history"]
    assert len(flagged) == 1  # WON closes 2 days from its CloseDate: within tolerance
    (p,) = flagged
    assert (p["severity"], p["file"], p["row"], p["column"]) == (
        "warning",
        "OpportunityHistory.csv",
        6,
        "CreatedDate",
    )
    assert WON_LATE in p["reason"] and "42 days" in p["reason"] and "2023-11-12" in p["reason"]
    closed_at = Opportunity.objects.get(external_id=WON_LATE).closed_at
    assert closed_at == dt.datetime(2023, 11, 12, tzinfo=UTC)
    # --strict counts it as a warning like any other: the run fails and writes nothing.
    StageChange.objects.all().delete()
    strict = run_import(
        None, "salesforce", read_salesforce([export_with_history(tmp_path / "again")]), strict=True
    )
    assert strict.status == "failed" and StageChange.objects.count() == 0


def test_a_second_run_changes_nothing_and_says_so(tmp_path: Path) -> None:
    export = export_with_history(tmp_path)
    run_import(None, "salesforce", read_salesforce([export]))
    audits = AuditEntry.objects.count()
    again = run_import(None, "salesforce", read_salesforce([export]))
    assert again.status == "no_changes", again.message
    assert again.counts["stage_changes"] == {
        "created": 0,
        "updated": 0,
        "unchanged": 5,
        "skipped": 1,
    }
    assert StageChange.objects.count() == 5
    assert AuditEntry.objects.count() == audits + 1  # only the run itself


def test_a_changed_row_updates_with_before_and_after(tmp_path: Path) -> None:
    export = export_with_history(tmp_path)
    run_import(None, "salesforce", read_salesforce([export]))
    write(
        export / "OpportunityHistory.csv",
        DATA_LOADER.replace(
            "2023-05-02T10:30:00.000+0000,Negotiation,1651993.36",
            "2023-05-02T10:30:00.000+0000,Negotiation,1700000.00",
        ),
    )
    run = run_import(None, "salesforce", read_salesforce([export]))
    assert run.status == "succeeded"
    assert run.counts["stage_changes"]["updated"] == 1
    entry = AuditEntry.objects.get(action="stagechange.import_update")
    assert entry.object_label == "008A2"
    assert entry.before == {"amount": "1651993.36"} and entry.after == {"amount": "1700000.00"}
    assert StageChange.objects.get(external_id="008A2").amount == Decimal("1700000.00")


def test_dry_run_reports_stage_changes_and_writes_nothing(tmp_path: Path) -> None:
    run = run_import(
        None, "salesforce", read_salesforce([export_with_history(tmp_path)]), dry_run=True
    )
    assert run.status == "dry_run"
    assert run.counts["stage_changes"]["created"] == 5
    assert StageChange.objects.count() == 0 and db_state() == (0, 0, 0, 0, 0)


def test_an_unknown_opportunity_is_an_orphan_warning_and_the_row_is_skipped(
    tmp_path: Path,
) -> None:
    history = DATA_LOADER + loader_row(
        "008A9", "006NOPE", "2024-02-01T00:00:00.000+0000", "Prospecting", "10", "2024-03-01", "10"
    )
    run = run_import(None, "salesforce", read_salesforce([export_with_history(tmp_path, history)]))
    assert run.status == "succeeded"
    orphan = next(p for p in run.problems if p["code"] == "orphan")
    assert (orphan["severity"], orphan["file"], orphan["row"], orphan["column"]) == (
        "warning",
        "OpportunityHistory.csv",
        7,
        "OpportunityId",
    )
    assert orphan["value"] == "006NOPE" and "008A9" in orphan["reason"]
    assert not StageChange.objects.filter(external_id="008A9").exists()
    assert run.counts["stage_changes"]["skipped"] == 2  # the orphan and the deleted row


def test_history_imported_later_resolves_opportunities_in_the_database(tmp_path: Path) -> None:
    run_import(None, "salesforce", read_salesforce([SAMPLE]))
    history = write(tmp_path / "OpportunityHistory.csv", DATA_LOADER)
    run = run_import(None, "salesforce", read_salesforce([history]))
    assert run.status == "succeeded", run.problems
    assert run.counts["stage_changes"]["created"] == 5
    assert StageChange.objects.get(external_id="008A3").opportunity.external_id == WON
    # The close-date check runs against opportunities already in the database, too.
    assert [p["code"] for p in run.problems] == ["close_date_differs_from_history"]


def test_a_bad_timestamp_is_an_error_naming_row_and_column_and_nothing_is_written(
    tmp_path: Path,
) -> None:
    history = DATA_LOADER.replace("2023-05-02T10:30:00.000+0000", "last Tuesday", 1)
    run = run_import(None, "salesforce", read_salesforce([export_with_history(tmp_path, history)]))
    assert run.status == "failed" and run.error_count == 1
    (error,) = [p for p in run.problems if p["severity"] == "error"]
    assert (error["file"], error["row"], error["column"], error["value"], error["code"]) == (
        "OpportunityHistory.csv",
        2,
        "CreatedDate",
        "last Tuesday",
        "invalid_value",
    )
    assert "ISO 8601" in error["hint"]
    assert StageChange.objects.count() == 0 and db_state() == (0, 0, 0, 0, 0)


def test_missing_required_columns_are_named(tmp_path: Path) -> None:
    history = "Id,OpportunityId,StageName,Amount\n008A1,006Ec00000AieKGIAZ,Prospecting,10\n"
    run = run_import(None, "salesforce", read_salesforce([export_with_history(tmp_path, history)]))
    assert run.status == "failed"
    problem = next(p for p in run.problems if p["code"] == "missing_column")
    assert (problem["file"], problem["row"], problem["column"]) == (
        "OpportunityHistory.csv",
        0,
        "CreatedDate",
    )
    assert db_state() == (0, 0, 0, 0, 0)


def test_bad_cells_are_row_level_errors(tmp_path: Path) -> None:
    history = (
        HEADER
        + loader_row("008B1", WON, "2023-03-01", "Prospecting", "lots", "2023-06-30", "10")
        + loader_row("008B2", WON, "2023-03-02", "", "10", "2023-02-30", "150")
        + f"008B3,{WON},{USER},2023-03-03,Prospecting,10,,2023-06-30,10,Pipeline,,maybe\n"
    )
    batch = read_salesforce([write(tmp_path / "OpportunityHistory.csv", history)])
    assert batch.stage_changes == []
    assert {(p.row, p.column, p.value, p.code) for p in batch.errors} == {
        (1, "Amount", "lots", "invalid_value"),
        (2, "StageName", "", "missing_value"),
        (2, "CloseDate", "2023-02-30", "invalid_value"),
        (2, "Probability", "150", "invalid_value"),
        (3, "IsDeleted", "maybe", "invalid_value"),
    }


# A report export ("Opportunity History" report, exported as CSV): US timestamps with 2-digit
# years and AM/PM, TRUE/FALSE, blank amounts, and a column Data Loader does not have.
REPORT_OPPORTUNITIES = (
    "Id,AccountId,Name,StageName,Amount,CloseDate,CreatedDate,IsClosed,IsWon\n"
    "006R1,001A,Expansion,Closed Won,15000,03/10/26,02/23/26 08:00 PM,TRUE,TRUE\n"
    "006R2,001A,New logo,Prospecting,,03/31/26,02/24/26 02:00 AM,FALSE,FALSE\n"
)
REPORT_HISTORY = (
    "Id,OpportunityId,CreatedById,CreatedDate,StageName,Amount,ExpectedRevenue,CloseDate,"
    "Probability,ForecastCategory,SystemModstamp,IsDeleted,OpportunityHistoryKey\n"
    "008R1,006R1,005X,02/23/26 08:55 PM,Qualification,15000,1500,01/27/21,10,Pipeline,"
    "02/23/26 08:55 PM,FALSE,008R1-1\n"
    "008R2,006R1,005X,03/02/26 12:05 PM,Verbal Commit,15000,13500,03/10/26,90,Commit,"
    "03/02/26 12:05 PM,FALSE,008R2-1\n"
    "008R3,006R1,005X,03/09/26 12:30 AM,Closed Won,15000,15000,03/10/26,100,Closed,"
    "03/09/26 12:30 AM,FALSE,008R3-1\n"
    "008R4,006R2,005X,02/24/26 02:19 AM,Prospecting,,,03/31/26,10,Pipeline,"
    "02/24/26 02:20 AM,FALSE,008R4-1\n"
    "008R5,006R2,005X,02/25/26 09:00 AM,Closed Lost,,,02/25/26,0,Omitted,"
    "02/25/26 09:00 AM,TRUE,008R5-1\n"
)


def test_us_report_export_imports(tmp_path: Path) -> None:
    write(tmp_path / "Account.csv", "Id,Name,Type,Website\n001A,Acme,Customer - Direct,\n")
    write(tmp_path / "Opportunity.csv", REPORT_OPPORTUNITIES)
    write(tmp_path / "history-report.csv", REPORT_HISTORY, encoding="utf-8")
    run = run_import(None, "salesforce", read_salesforce([tmp_path]))
    assert run.status == "succeeded", run.problems
    assert stages_of("006R1") == [
        ("008R1", "Qualification", dt.datetime(2026, 2, 23, 20, 55, tzinfo=UTC)),
        ("008R2", "Verbal Commit", dt.datetime(2026, 3, 2, 12, 5, tzinfo=UTC)),
        ("008R3", "Closed Won", dt.datetime(2026, 3, 9, 0, 30, tzinfo=UTC)),
    ]
    assert stages_of("006R2") == [
        ("008R4", "Prospecting", dt.datetime(2026, 2, 24, 2, 19, tzinfo=UTC)),
    ]  # 008R5 is deleted (TRUE)
    first = StageChange.objects.get(external_id="008R1")
    assert (first.amount, first.close_date, first.probability) == (
        Decimal("15000.00"),
        dt.date(2021, 1, 27),
        Decimal("10.00"),
    )
    assert StageChange.objects.get(external_id="008R4").amount is None
    assert run.counts["stage_changes"]["skipped"] == 1
    # A stage this org made up is kept, with the usual unknown-stage warning naming the cell.
    (unknown,) = [p for p in run.problems if p["code"] == "unknown_stage"]
    assert (unknown["file"], unknown["row"], unknown["column"], unknown["value"]) == (
        "history-report.csv",
        2,
        "StageName",
        "Verbal Commit",
    )
    # Closed one day before its CloseDate: no close-date warning.
    assert not [p for p in run.problems if p["code"] == "close_date_differs_from_history"]


def test_a_closed_stage_of_the_orgs_own_counts_for_the_close_date_check(tmp_path: Path) -> None:
    write(tmp_path / "Account.csv", "Id,Name,Type,Website\n001A,Acme,Customer - Direct,\n")
    write(
        tmp_path / "Opportunity.csv",
        REPORT_OPPORTUNITIES.replace("Closed Won,15000,03/10/26", "Signed,15000,04/30/26"),
    )
    write(
        tmp_path / "OpportunityHistory.csv",
        REPORT_HISTORY.replace(",Closed Won,", ",Signed,"),
        encoding="utf-8",
    )
    run = run_import(None, "salesforce", read_salesforce([tmp_path]))
    (flagged,) = [p for p in run.problems if p["code"] == "close_date_differs_from_history"]
    assert (flagged["row"], flagged["value"]) == (3, "2026-03-09T00:30:00+00:00")
    assert "'Signed'" in flagged["reason"] and "52 days" in flagged["reason"]
    # "Signed" is the stage a closed deal of this import sits in: not an unknown stage.
    assert [p["value"] for p in run.problems if p["code"] == "unknown_stage"] == ["Verbal Commit"]


@pytest.mark.parametrize(
    "text,expected",
    [
        ("02/23/26 08:55 PM", dt.datetime(2026, 2, 23, 20, 55, tzinfo=UTC)),
        ("02/24/26 12:19 AM", dt.datetime(2026, 2, 24, 0, 19, tzinfo=UTC)),
        ("02/24/26 12:19 PM", dt.datetime(2026, 2, 24, 12, 19, tzinfo=UTC)),
        ("2024-01-22T16:14:25.000+0000", dt.datetime(2024, 1, 22, 16, 14, 25, tzinfo=UTC)),
    ],
)
def test_history_timestamp_forms(text: str, expected: dt.datetime) -> None:
    assert parse_datetime(text) == expected


def add_history(opportunity: Opportunity, *steps: tuple[str, dt.datetime]) -> None:
    for n, (stage, at) in enumerate(steps):
        StageChange.objects.create(
            opportunity=opportunity, external_id=f"h{n}", stage=stage, changed_at=at
        )


def test_stage_timeline_merges_repeats_and_counts_days(world: World) -> None:
    opp = world.acme_opp
    opp.is_closed = False
    add_history(
        opp,
        ("Prospecting", dt.datetime(2025, 1, 1, tzinfo=UTC)),
        ("Prospecting", dt.datetime(2025, 1, 5, tzinfo=UTC)),  # an amount change, same stage
        ("Negotiation", dt.datetime(2025, 1, 11, tzinfo=UTC)),
    )
    now = dt.datetime(2025, 2, 1, tzinfo=UTC)
    assert stage_timeline(opp, now) == [
        StageStep("Prospecting", dt.datetime(2025, 1, 1, tzinfo=UTC), 10),
        StageStep("Negotiation", dt.datetime(2025, 1, 11, tzinfo=UTC), 21),
    ]
    opp.is_closed = True
    assert stage_timeline(opp, now)[-1].days is None


def test_opportunity_page_shows_the_stage_history(world: World) -> None:
    add_history(
        world.acme_opp,
        ("Qualification", dt.datetime(2025, 1, 2, 9, 0, tzinfo=UTC)),
        ("Closed Won", dt.datetime(2025, 1, 20, 9, 0, tzinfo=UTC)),
    )
    page: Any = world.client_for(world.cpo).get(
        reverse("opportunity-details", args=[world.acme_opp.pk])
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert "Stage history" in html
    assert "<td>Qualification</td><td>2025-01-02 09:00</td><td>18</td>" in html
    other: Any = world.client_for(world.cpo).get(
        reverse("opportunity-details", args=[world.globex_opp.pk])
    )
    assert "Stage history" not in other.content.decode()  # no history, no section
