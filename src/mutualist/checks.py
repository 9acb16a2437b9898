"""System checks that explain a misconfiguration and how to fix it (`mutualist check`)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register


@register()
def check_database(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    engine = str(settings.DATABASES["default"]["ENGINE"])
    messages: list[CheckMessage] = []
    if engine.endswith("sqlite3") and settings.MODE == "production":
        messages.append(
            Warning(
                "Production mode on SQLite.",
                hint="SQLite serves one machine and a small team well; for several web workers "
                "or large imports set MUTUALIST_DATABASE_URL=postgresql://user:pass@host/db.",
                id="mutualist.W001",
            )
        )
    return messages


@register(deploy=True)
def check_https(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if settings.MODE == "production" and not settings.HTTPS:
        return [
            Error(
                "MUTUALIST_HTTPS is off in production mode: sessions and API tokens would travel "
                "in clear text.",
                hint="Serve over HTTPS (directly or behind a proxy that sets X-Forwarded-Proto) "
                "and leave MUTUALIST_HTTPS unset.",
                id="mutualist.E001",
            )
        ]
    return []


@register()
def check_allowed_hosts(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if "*" in settings.ALLOWED_HOSTS and settings.MODE == "production":
        return [
            Warning(
                "MUTUALIST_ALLOWED_HOSTS contains '*'.",
                hint="Name the host names the server answers to, so forged Host headers are refused.",
                id="mutualist.W002",
            )
        ]
    return []


@register(deploy=True)
def check_email(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if settings.MODE == "production" and not settings.EMAIL_HOST:
        return [
            Warning(
                "Notification e-mails go to the console: no SMTP server is configured.",
                hint="Set MUTUALIST_SMTP_HOST (and MUTUALIST_SMTP_PORT, _USER, _PASSWORD, "
                "MUTUALIST_EMAIL_FROM) so partners and staff are e-mailed when they must act.",
                id="mutualist.W003",
            )
        ]
    return []
