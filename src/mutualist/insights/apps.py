from __future__ import annotations

from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "mutualist.insights"
    label = "insights"
    verbose_name = "Board metrics"
