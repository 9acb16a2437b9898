from __future__ import annotations

from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "mutualist.crm"
    label = "crm"
    verbose_name = "CRM"
