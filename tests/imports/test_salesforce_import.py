from __future__ import annotations

import dataclasses
import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from mutualist.audit.models import AuditEntry
from mutualist.crm.models import Account, Cost, Lead, Opportunity, RevenueMonth
from mutualist.imports import actions
from mutualist.imports.actions import run_import
from mutualist.imports.models import ImportRun
from mutualist.imports.readers.salesforce import read_salesforce
from mutualist.imports.report import write_report
from mutualist.imports.sources import read_files
from mutualist.synth import SIZES, generate, write_salesforce_csv

SAMPLE = Path(__file__).resolve().parents[3] / "shared" / "data" / "salesforce-sample"
pytestmark = pytest.mark.django_db


def sample_copy(tmp_path: Path) -> Path:
    target = tmp_path / "export"
    shutil.copytree(SAMPLE, target)
    for path in target.iterdir():
        path.chmod(0o644)
    return target


def db_state() -> tuple[int, ...]:
    return (
        Account.objects.count(),
        Opportunity.objects.count(),
        Lead.objects.count(),
        RevenueMonth.objects.count(),
        Cost.objects.count(),
    )


def test_the_real_salesforce_sample_imports_with_its_anomalies_reported() -> None:
    run = run_import(None, "salesforce", read_salesforce([SAMPLE]))
    assert run.status == "succeeded"
    assert (Account.objects.count(), Opportunity.objects.count(), Lead.objects.count()) == (
        22,
        50,
        60,
    )
    assert run.counts["opportunities"] == {
        "created": 50,
        "updated": 0,
        "unchanged": 0,
        "skipped": 0,
    }
    codes = Counter(p["code"] for p in run.problems)
    # Every Opportunity was created on 2024-01-22, and 15 closed before that: negative cycles.
    assert codes["close_before_create"] == 15
    assert codes["not_imported"] == 3  # Contact, Campaign, CampaignMember: seen and listed
    assert run.error_count == 0
    first = next(p for p in run.problems if p["code"] == "close_before_create")
    assert (first["file"], first["row"], first["column"], first["value"]) == (
        "Opportunity.csv",
        2,
        "CloseDate",
        "2023-06-17",
    )
    won = Opportunity.objects.get(external_id="006Ec00000AieKGIAZ")
    assert (won.is_closed, won.is_won, str(won.amount)) == (True, True, "1651993.36")
    assert {f["name"] for f in run.files} >= {"Account.csv", "Opportunity.csv", "Lead.csv"}
    assert all(len(f["sha256"]) == 64 for f in run.files)


@pytest.mark.parametrize("scan_above", [actions.SCAN_ABOVE, 0], ids=["in-lists", "one-scan"])
def test_a_second_run_changes_nothing_and_says_so(monkeypatch: Any, scan_above: int) -> None:
    # Large imports read the existing rows in one scan instead of IN lists: same answer.
    monkeypatch.setattr(actions, "SCAN_ABOVE", scan_above)
    run_import(None, "salesforce", read_salesforce([SAMPLE]))
    state, audits = db_state(), AuditEntry.objects.count()
    again = run_import(None, "salesforce", read_salesforce([SAMPLE]))
    assert again.status == "no_changes"
    assert again.counts["opportunities"]["unchanged"] == 50
    assert db_state() == state
    assert AuditEntry.objects.count() == audits + 1  # only the run itself


@pytest.mark.parametrize("scan_above", [actions.SCAN_ABOVE, 0], ids=["in-lists", "one-scan"])
def test_a_changed_row_updates_its_record_with_before_and_after(
    tmp_path: Path, monkeypatch: Any, scan_above: int
) -> None:
    monkeypatch.setattr(actions, "SCAN_ABOVE", scan_above)
    export = sample_copy(tmp_path)
    run_import(None, "salesforce", read_salesforce([export]))
    path = export / "Opportunity.csv"
    path.write_text(
        path.read_text(encoding="utf-8-sig").replace("1651993.36", "1700000.00"),
        encoding="utf-8-sig",
    )
    run = run_import(None, "salesforce", read_salesforce([export]))
    assert run.counts["opportunities"]["updated"] == 1
    entry = AuditEntry.objects.get(action="opportunity.import_update")
    assert entry.before == {"amount": "1651993.36"} and entry.after == {"amount": "1700000.00"}
    assert str(Opportunity.objects.get(external_id="006Ec00000AieKGIAZ").amount) == "1700000.00"


def test_accounts_without_created_date_get_the_import_time_once(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "Account.csv").write_text(
        "Id,Name,Type\n001A,Initech,Customer\n001B,Hooli,Prospect\n", encoding="utf-8"
    )
    before = timezone.now()
    run_import(None, "salesforce", read_salesforce([folder]))
    first = dict(Account.objects.values_list("external_id", "created_at"))
    assert set(first) == {"001A", "001B"}
    assert all(before <= at <= timezone.now() for at in first.values())
    again = run_import(None, "salesforce", read_salesforce([folder]))
    assert again.status == "no_changes"  # the source carries no date: the stored one stays
    assert dict(Account.objects.values_list("external_id", "created_at")) == first


def test_dry_run_reports_changes_and_writes_nothing() -> None:
    run = run_import(None, "salesforce", read_salesforce([SAMPLE]), dry_run=True)
    assert run.status == "dry_run"
    assert run.counts["accounts"]["created"] == 22
    assert db_state() == (0, 0, 0, 0, 0)
    assert ImportRun.objects.filter(pk=run.pk).exists()  # the run itself is recorded


def test_strict_turns_warnings_into_errors() -> None:
    run = run_import(None, "salesforce", read_salesforce([SAMPLE]), strict=True)
    assert run.status == "failed"
    assert db_state() == (0, 0, 0, 0, 0)


def test_a_failure_in_the_middle_of_a_load_leaves_the_database_as_it_was(
    monkeypatch: Any,
) -> None:
    def explode(*args: Any) -> None:
        raise RuntimeError("disk full")

    # Accounts and opportunities are already written when leads fail.
    monkeypatch.setattr(actions._Applier, "leads", explode)
    run = run_import(None, "salesforce", read_salesforce([SAMPLE]))
    assert run.status == "failed" and "disk full" in run.message
    assert db_state() == (0, 0, 0, 0, 0)


def write(path: Path, text: str, encoding: str = "utf-8-sig") -> Path:
    path.write_text(text, encoding=encoding)
    return path


OPP_HEADER = "Id,AccountId,Name,StageName,Amount,CloseDate,CreatedDate,IsClosed,IsWon\n"
ACCOUNT = "Id,Name,Type,Website\n001A,Acme,Customer - Direct,www.acme.example\n"


def test_missing_required_column_is_named(tmp_path: Path) -> None:
    write(tmp_path / "Account.csv", ACCOUNT)
    write(
        tmp_path / "Opportunity.csv", "Id,AccountId,StageName,CloseDate\n006A,001A,Won,2024-01-01\n"
    )
    run = run_import(None, "salesforce", read_salesforce([tmp_path]))
    assert run.status == "failed"
    problem = next(p for p in run.problems if p["code"] == "missing_column")
    assert problem["file"] == "Opportunity.csv" and problem["column"] == "Name, CreatedDate"
    assert db_state() == (0, 0, 0, 0, 0)


def test_truncated_file(tmp_path: Path) -> None:
    write(tmp_path / "Account.csv", ACCOUNT)
    write(
        tmp_path / "Opportunity.csv",
        OPP_HEADER + "006A,001A,Deal,Prospecting,10,2024-02-01,"
        "2024-01-01T00:00:00.000+0000,,\n006B,001A,Deal 2,Prosp",
    )
    run = run_import(None, "salesforce", read_salesforce([tmp_path]))
    assert run.status == "failed"
    problem = next(p for p in run.problems if p["code"] == "truncated")
    assert (problem["file"], problem["row"]) == ("Opportunity.csv", 2)
    assert "truncated" in problem["hint"]
    assert db_state() == (0, 0, 0, 0, 0)


def test_wrong_encoding(tmp_path: Path) -> None:
    write(tmp_path / "Account.csv", "Id,Name,Type\n001A,Société Générale,Customer\n", "latin-1")
    run = run_import(None, "salesforce", read_salesforce([tmp_path]))
    problem = run.problems[0]
    assert (problem["code"], problem["file"]) == ("encoding", "Account.csv")
    assert "UTF-8" in problem["hint"]
    assert run.status == "failed"


def test_file_of_the_wrong_object_type(tmp_path: Path) -> None:
    opp = write(tmp_path / "Opportunity.csv", OPP_HEADER)
    batch = read_files("revenue", [opp], {})
    assert batch.errors[0].code == "unknown_file"
    assert "account_id, month, mrr" in batch.errors[0].hint
    unknown = write(tmp_path / "Mystery.csv", "foo,bar\n1,2\n")
    batch = read_salesforce([unknown])
    assert batch.errors[0].code == "unknown_file"


def test_one_bad_row_in_100k_names_the_row_and_writes_nothing(tmp_path: Path) -> None:
    rows = [
        f"006{i:07d},001A,Deal {i},Prospecting,{i}.50,2025-02-01,2025-01-01T00:00:00.000+0000,,"
        for i in range(100_000)
    ]
    rows[54_321] = rows[54_321].replace("2025-01-01T00:00:00.000+0000", "yesterday")
    write(tmp_path / "Account.csv", ACCOUNT)
    write(tmp_path / "Opportunity.csv", OPP_HEADER + "\n".join(rows) + "\n")
    run = run_import(None, "salesforce", read_salesforce([tmp_path]))
    assert run.status == "failed" and run.error_count == 1
    problem = run.problems[0]
    assert (problem["file"], problem["row"], problem["column"], problem["value"]) == (
        "Opportunity.csv",
        54_322,
        "CreatedDate",
        "yesterday",
    )
    assert "ISO 8601" in problem["hint"]
    assert db_state() == (0, 0, 0, 0, 0)


def test_typed_parsing_of_real_export_quirks(tmp_path: Path) -> None:
    write(
        tmp_path / "Account.csv",
        ACCOUNT + "001P,Partner Co,Channel Partner / Reseller,partner.example\n",
    )
    write(
        tmp_path / "Opportunity.csv",
        "Id,AccountId,Name,StageName,Amount,CloseDate,CreatedDate,IsClosed,IsWon,PartnerAccountId\n"
        '006A,001A,Big,Closed Won,"1,234,567.50",02/03/24,2024-01-22T16:14:25.000+0000,TRUE,TRUE,001P\n'
        "006B,001A,Open,Prospecting,,2024-09-01,2024-01-22T16:14:25Z,0,,\n",
    )
    run = run_import(None, "salesforce", read_salesforce([tmp_path]))
    assert run.status == "succeeded", run.problems
    big = Opportunity.objects.get(external_id="006A")
    assert str(big.amount) == "1234567.50"
    assert big.closed_at is not None and big.closed_at.date().isoformat() == "2024-02-03"
    assert big.involvements.get().partner.name == "Partner Co"
    open_deal = Opportunity.objects.get(external_id="006B")
    assert open_deal.closed_at is None and open_deal.amount is None
    assert Counter(p["code"] for p in run.problems)["missing_amount"] == 1


def test_revenue_and_costs_files(tmp_path: Path) -> None:
    write(tmp_path / "Account.csv", ACCOUNT)
    run_import(None, "salesforce", read_salesforce([tmp_path]))
    revenue = write(
        tmp_path / "revenue.csv",
        "account_id,month,mrr,currency\n001A,2024-01,100.00,USD\n"
        '001A,2024-02,"1,100.00",USD\n001Z,2024-02,5,USD\n',
    )
    run = run_import(None, "revenue", read_files("revenue", [revenue], {}))
    assert run.counts["revenue_months"] == {
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "skipped": 1,
    }
    assert any(p["code"] == "orphan" and p["value"] == "001Z" for p in run.problems)
    costs = write(
        tmp_path / "costs.csv",
        "period,category,amount,currency,partner_id,program\n"
        "2024-01,mdf,5000,USD,,Reseller Program\n2024-01,bribes,1,USD,,\n",
    )
    run = run_import(None, "costs", read_files("costs", [costs], {}))
    assert run.status == "failed"
    bad = run.problems[0]
    assert (bad["row"], bad["column"], bad["value"]) == (2, "category", "bribes")
    assert "mdf" in bad["hint"]


def test_error_report_as_csv_and_json(tmp_path: Path) -> None:
    run = run_import(None, "salesforce", read_salesforce([SAMPLE]), dry_run=True)
    write_report(run.problems, tmp_path / "report.json")
    assert len(json.loads((tmp_path / "report.json").read_text())) == len(run.problems)
    write_report(run.problems, tmp_path / "report.csv")
    lines = (tmp_path / "report.csv").read_text().splitlines()
    assert lines[0] == "severity,code,file,row,column,value,reason,hint"
    assert len(lines) == len(run.problems) + 1


def test_a_re_import_creates_updates_and_keeps_partner_rows(tmp_path: Path) -> None:
    config = dataclasses.replace(SIZES["small"], opportunities=300, accounts=60, partners=6)
    write_salesforce_csv(generate(config), tmp_path)
    files = [tmp_path / name for name in ("Account.csv", "Opportunity.csv")]
    partner_rows = tmp_path / "OpportunityPartner.csv"
    header, *rows = partner_rows.read_text(encoding="utf-8-sig").splitlines()
    # Withhold an influencer row (a reseller row would come back as the deal's
    # PartnerAccountId involvement), then import it later with another row's IsPrimary flipped.
    withheld = next(row for row in reversed(rows) if ",Influencer," in row)
    partial = tmp_path / "partial" / "OpportunityPartner.csv"
    partial.parent.mkdir()
    partial.write_text("\n".join([header, *(r for r in rows if r != withheld)]) + "\n")
    run = run_import(None, "salesforce", read_files("salesforce", [*files, partial], {}))
    assert run.status == "succeeded"
    created = run.counts["involvements"]["created"]
    at = header.split(",").index("IsPrimary")
    cells = rows[0].split(",")
    cells[at] = "" if cells[at] == "1" else "1"
    rows[0] = ",".join(cells)
    partner_rows.write_text("\n".join([header, *rows]) + "\n")
    again = run_import(None, "salesforce", read_files("salesforce", [*files, partner_rows], {}))
    assert again.counts["involvements"] == {
        "created": 1,
        "updated": 1,
        "unchanged": created - 1,
        "skipped": 0,
    }
