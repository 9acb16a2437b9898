from __future__ import annotations

from django.conf import settings
from django.db import models


class ImportRun(models.Model):
    """One import: who, when, which files (with hashes), what changed, what was wrong."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        NO_CHANGES = "no_changes", "Succeeded, nothing changed"
        DRY_RUN = "dry_run", "Dry run (nothing written)"
        FAILED = "failed", "Failed (nothing written)"

    kind = models.CharField(max_length=32)  # salesforce, hubspot, csv, revenue, costs
    source_system = models.CharField(max_length=32, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    dry_run = models.BooleanField(default=False)
    strict = models.BooleanField(default=False)
    files = models.JSONField(default=list)  # [{name, sha256, rows, kind}]
    counts = models.JSONField(default=dict)  # {table: {created, updated, unchanged, skipped}}
    problems = models.JSONField(default=list)  # [{file,row,column,value,reason,hint,severity,code}]
    error_count = models.PositiveIntegerField(default=0)
    warning_count = models.PositiveIntegerField(default=0)
    progress_done = models.PositiveBigIntegerField(default=0)
    progress_total = models.PositiveBigIntegerField(default=0)
    message = models.TextField(blank=True)
    # Uploaded files wait here for the background task; emptied when the run ends.
    upload_dir = models.CharField(max_length=500, blank=True)
    options = models.JSONField(default=dict)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} import #{self.pk} ({self.status})"
