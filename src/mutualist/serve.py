"""`mutualist serve`: gunicorn (a production WSGI server) running the Django app."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from gunicorn.app.base import BaseApplication


class Server(BaseApplication):
    def __init__(self, app: Any, options: dict[str, Any]) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return self.application


def start_task_worker() -> subprocess.Popen[bytes] | None:
    """A `db_worker` process beside the web server, so uploaded imports run without a
    separate command. None when tasks run inline (test settings)."""
    from django.conf import settings

    if "ImmediateBackend" in settings.TASKS["default"]["BACKEND"]:
        return None
    return subprocess.Popen(
        [sys.executable, "-m", "mutualist.cli", "db_worker", "--interval", "1"],
        env=dict(os.environ),
    )


def run(host: str, port: int, workers: int, threads: int, task_worker: bool = True) -> None:
    from mutualist.wsgi import application

    worker = start_task_worker() if task_worker else None
    try:
        _serve(application, host, port, workers, threads)
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=10)


def _serve(application: Any, host: str, port: int, workers: int, threads: int) -> None:
    Server(
        application,
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            "accesslog": "-",
            "timeout": 120,
            # Keep the shared app loaded once, then fork: faster start, less memory.
            "preload_app": True,
        },
    ).run()
