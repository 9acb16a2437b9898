"""Progress of a running upload: the worker's progress file, the run page reading it, and the
file removed when the run ends."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from mutualist.imports import live
from mutualist.imports.models import ImportRun
from tests.conftest import World
from tests.imports.test_import_surfaces import uploads


@pytest.fixture(autouse=True)
def upload_dir(settings: Any, tmp_path: Any) -> None:
    settings.UPLOAD_DIR = tmp_path / "uploads"


def test_the_reporter_writes_throttled_snapshots(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter([100.0, 100.1, 100.9, 101.0])
    monkeypatch.setattr(live.time, "monotonic", lambda: next(clock))
    reporter = live.Reporter(7, total=1000)  # writes at once: "reading files"
    assert live.read(7) == live.Snapshot(
        "reading files", 0, 1000, reporter.state.started, reporter.state.updated
    )
    reporter("accounts", 100)  # 0.1 s after the first write: kept in memory only
    assert live.read(7).done == 0  # type: ignore[union-attr]
    reporter("opportunities", 150)  # 0.8 s after: written
    snapshot = live.read(7)
    assert snapshot is not None and (snapshot.step, snapshot.done, snapshot.percent) == (
        "opportunities",
        250,
        25,
    )
    reporter.clear()
    assert live.read(7) is None


def test_rate_and_percent() -> None:
    snap = live.Snapshot("leads", 500, 2000, started=10.0, updated=12.0)
    assert (snap.percent, snap.rows_per_second) == (25, 250.0)
    assert live.Snapshot("x", 0, 0, 1.0, 1.0).percent == 0
    assert live.Snapshot("x", 0, 10, 1.0, 1.0).rows_per_second is None


def test_the_run_page_shows_the_workers_progress(world: World) -> None:
    run = ImportRun.objects.create(kind="salesforce", started_by=world.alice, status="running")
    client = world.client_for(world.alice)
    page = client.get(f"/imports/{run.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "waiting for the worker" in page and 'hx-trigger="every 2s"' in page
    reporter = live.Reporter(run.pk, total=400)
    reporter("opportunities", 100)
    reporter.write()
    page = client.get(f"/imports/{run.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert 'max="400" value="100"' in page and "25% · opportunities · 100 of 400" in page
    assert world.client_for(world.globex_user).get(f"/imports/{run.pk}/").status_code == 404


def test_an_upload_reports_its_steps_and_removes_the_file(
    world: World, django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, int, int]] = []
    original = live.Reporter.write

    def spy(self: live.Reporter) -> None:
        original(self)
        seen.append((self.state.step, self.state.done, self.state.total))

    monkeypatch.setattr(live.Reporter, "write", spy)
    monkeypatch.setattr(live, "INTERVAL_SECONDS", 0.0)  # every step written
    with django_capture_on_commit_callbacks(execute=True):
        Client().logout()
        world.client_for(world.alice).post(
            "/imports/new/",
            {"kind": "salesforce", "uploads": uploads("Account.csv", "Opportunity.csv")},
        )
    run = ImportRun.objects.get()
    assert run.status == "succeeded"
    assert seen[0] == ("reading files", 0, 0) and seen[1] == ("reading files", 0, 72)
    steps = [step for step, _, _ in seen[2:]]
    assert "accounts" in steps and "opportunities" in steps
    assert seen[-1][1] == 72  # every record counted by the end
    assert not live.path_for(run.pk).exists()
