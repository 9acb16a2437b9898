from __future__ import annotations

from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "mutualist.partners"
    label = "partners"
