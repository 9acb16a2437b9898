"""Progress of a running upload, for the run page while the import's transaction is open.

The import writes everything in one transaction (all or nothing), so nothing it does is
visible to other database sessions until it commits, and on SQLite a second writer would wait
for it. The worker therefore reports progress in a small JSON file beside the uploads, replaced
atomically at most twice a second, and the run page reads it.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

INTERVAL_SECONDS = 0.5


def path_for(run_id: int) -> Path:
    return Path(settings.UPLOAD_DIR) / "progress" / f"import-{run_id}.json"


@dataclass
class Snapshot:
    step: str
    done: int
    total: int
    started: float  # time.time() of the first report
    updated: float

    @property
    def rows_per_second(self) -> float | None:
        elapsed = self.updated - self.started
        return self.done / elapsed if elapsed > 0 and self.done else None

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.done / self.total)) if self.total else 0


class Reporter:
    """The import's progress callback (`step`, records just done), throttled to the file."""

    def __init__(self, run_id: int, total: int) -> None:
        self.path = path_for(run_id)
        now = time.time()
        self.state = Snapshot("reading files", 0, total, now, now)
        self.last_write = 0.0
        self.write()

    def __call__(self, step: str, n: int) -> None:
        self.state.step, self.state.done = step, self.state.done + n
        if time.monotonic() - self.last_write >= INTERVAL_SECONDS:
            self.write()

    def set_total(self, total: int) -> None:
        self.state.total = total
        self.write()

    def write(self) -> None:
        self.state.updated = time.time()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(self.state)))
        os.replace(temporary, self.path)  # readers never see half a file
        self.last_write = time.monotonic()

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)


def read(run_id: int) -> Snapshot | None:
    try:
        data: dict[str, Any] = json.loads(path_for(run_id).read_text())
        return Snapshot(**data)
    except (OSError, ValueError, TypeError):
        return None  # not started, finished, or unreadable: the page shows the run's status
