from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "mutualist.accounts"
    label = "accounts"
    verbose_name = "Users and access"
