from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Schema


class ImportRunOut(Schema):
    id: int
    kind: str
    source_system: str
    status: str
    message: str
    dry_run: bool
    strict: bool
    started_at: datetime
    finished_at: datetime | None
    files: list[dict[str, Any]]
    counts: dict[str, Any]
    error_count: int
    warning_count: int
    progress_done: int
    progress_total: int


class ImportRunDetailOut(ImportRunOut):
    problems: list[dict[str, Any]]
