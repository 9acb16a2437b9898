"""`mutualist serve`: gunicorn (a production WSGI server) running the Django app."""

from __future__ import annotations

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


def run(host: str, port: int, workers: int, threads: int) -> None:
    from mutualist.wsgi import application

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
