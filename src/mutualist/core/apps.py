from __future__ import annotations

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "mutualist.core"
    label = "core"

    def ready(self) -> None:
        from mutualist import checks  # noqa: F401  (registers the system checks)
