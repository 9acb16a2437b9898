"""HubSpot and generic-CSV imports through the same apply step and CLI as Salesforce."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mutualist.cli import main
from mutualist.crm.models import Account, Opportunity
from mutualist.imports.actions import run_import
from mutualist.imports.models import ImportRun
from mutualist.imports.sources import read_files

FIXTURES = Path(__file__).parent / "fixtures"
HUBSPOT = [
    FIXTURES / "hubspot" / "hubspot-crm-exports-all-companies-2024-03-01.csv",
    FIXTURES / "hubspot" / "hubspot-crm-exports-all-deals-2024-03-01.csv",
]
pytestmark = pytest.mark.django_db


def test_hubspot_exports_import_and_reimport_changes_nothing() -> None:
    batch = read_files("hubspot", HUBSPOT, {})
    run = run_import(None, "hubspot", batch)
    assert run.status == "succeeded", run.problems
    assert (
        Opportunity.objects.filter(source_system="hubspot").count() == len(batch.opportunities) > 0
    )
    assert Account.objects.filter(source_system="hubspot").count() == len(batch.accounts) > 0
    codes = {p["code"] for p in run.problems}
    assert {"orphan", "close_before_create", "negative_amount"} <= codes
    again = run_import(None, "hubspot", read_files("hubspot", HUBSPOT, {}))
    assert again.status == "no_changes"


def test_generic_csv_with_a_mapping_via_the_cli(capsys: Any) -> None:
    folder = FIXTURES / "generic"
    csvs = sorted(str(p) for p in folder.glob("*.csv"))
    code = main(["import", "csv", *csvs, "--mapping", str(folder / "mapping.toml")])
    out = capsys.readouterr().out
    assert code == 0, out
    run = ImportRun.objects.get()
    assert run.status == "succeeded"
    assert run.counts["opportunities"]["created"] == Opportunity.objects.count() > 0
    assert "Records" in out


def test_cli_import_dry_run_and_report(tmp_path: Path, capsys: Any) -> None:
    report = tmp_path / "problems.json"
    code = main(["import", "hubspot", *map(str, HUBSPOT), "--dry-run", "--report", str(report)])
    assert code == 0
    assert Opportunity.objects.count() == 0
    assert report.exists() and "orphan" in report.read_text()
    assert "Dry run" in capsys.readouterr().out


def test_cli_refuses_a_generic_import_without_mapping(capsys: Any) -> None:
    assert main(["import", "csv", str(FIXTURES / "generic" / "deals.csv")]) == 2
    assert "needs --mapping" in capsys.readouterr().err
