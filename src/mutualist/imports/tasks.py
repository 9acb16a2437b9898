"""The background task that runs an uploaded import (django-tasks, database queue)."""

from __future__ import annotations

import shutil
from pathlib import Path

from django_tasks import task

from mutualist.imports import live
from mutualist.imports.actions import run_import
from mutualist.imports.models import ImportRun
from mutualist.imports.sources import read_files
from mutualist.lib.collector import paused_collector
from mutualist.lib.errors import ValidationFailed


@task()
def run_uploaded_import(run_id: int) -> str:
    run = ImportRun.objects.select_related("started_by").get(pk=run_id)
    folder = Path(run.upload_dir)
    reporter = live.Reporter(run_id, total=0)
    try:
        # One pause of the cyclic collector: one collection after reading and writing, not two.
        with paused_collector():
            paths = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".csv")
            options = dict(run.options)
            if (folder / "config.toml").exists():
                options["config"] = str(folder / "config.toml")
            try:
                batch = read_files(run.kind, paths, options)
            except ValidationFailed as exc:
                run.status, run.message = ImportRun.Status.FAILED, str(exc)
                run.save(update_fields=["status", "message"])
                return run.status
            reporter.set_total(sum(batch.record_counts().values()))
            run = run_import(
                run.started_by,
                run.kind,
                batch,
                dry_run=run.dry_run,
                strict=run.strict,
                run=run,
                progress=reporter,
            )
    finally:
        reporter.clear()
        shutil.rmtree(folder, ignore_errors=True)
    return run.status
