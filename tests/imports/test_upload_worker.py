"""The upload queue with the real database task backend and its worker.

In a file of its own because it is transactional: with `pytest --dist loadfile` a file runs
whole on one worker, and a transactional test's flush in the middle of ordinary tests would
wipe the migrations' seed data (segments) for the tests that follow it on that worker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from mutualist.crm.models import Opportunity
from tests.conftest import World

SAMPLE = Path(__file__).resolve().parents[3] / "shared" / "data" / "salesforce-sample"


def uploads(*names: str) -> list[SimpleUploadedFile]:
    return [SimpleUploadedFile(n, (SAMPLE / n).read_bytes(), "text/csv") for n in names]


# Transactional: the worker closes and reopens database connections, as a worker process does.
@pytest.mark.django_db(transaction=True)
def test_the_database_queue_and_worker_run_an_upload(
    world: World, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """The real backend: the request only queues; `mutualist db_worker` does the import."""
    from django.core.management import call_command

    # The settings fixture sends setting_changed, which makes django-tasks reload its backends.
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    from mutualist.imports.actions import queue_import

    with django_capture_on_commit_callbacks(execute=True):
        run = queue_import(
            world.cpo,
            "salesforce",
            [(f.name, f.read()) for f in uploads("Account.csv", "Opportunity.csv")],
        )
    run.refresh_from_db()
    assert run.status == "queued"
    call_command("db_worker", batch=True, no_startup_delay=True, interval=0.1)
    run.refresh_from_db()
    assert run.status == "succeeded", run.message
    assert Opportunity.objects.filter(source_system="salesforce").count() == 50
