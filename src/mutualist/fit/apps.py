from __future__ import annotations

from django.apps import AppConfig


class FitConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "mutualist.fit"
    label = "fit"
    verbose_name = "Partner fit"
