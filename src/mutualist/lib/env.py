"""Strict parsing of MUTUALIST_* environment variables.

A typo in a deployment's environment must stop the app with the variable's name, not be
silently read as a default: that is how a production server ends up with DEBUG on.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")
MODES = ("production", "development", "demo", "test")


def env_bool(name: str, default: bool, environ: Mapping[str, str] = os.environ) -> bool:
    raw = environ.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw in TRUE_WORDS:
        return True
    if raw in FALSE_WORDS:
        return False
    allowed = ", ".join(TRUE_WORDS + FALSE_WORDS)
    raise ImproperlyConfigured(f"{name}={environ[name]!r} is not a boolean; use one of: {allowed}")


def env_choice(
    name: str, choices: tuple[str, ...], default: str, environ: Mapping[str, str] = os.environ
) -> str:
    raw = environ.get(name, "").strip()
    if raw == "":
        return default
    if raw not in choices:
        raise ImproperlyConfigured(
            f"{name}={raw!r} is not allowed; use one of: {', '.join(choices)}"
        )
    return raw


def env_int(name: str, default: int, environ: Mapping[str, str] = os.environ) -> int:
    raw = environ.get(name, "").strip()
    if raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number") from None


def env_list(name: str, default: list[str], environ: Mapping[str, str] = os.environ) -> list[str]:
    raw = environ.get(name, "").strip()
    if raw == "":
        return list(default)
    items = [item.strip() for item in raw.split(",")]
    if any(item == "" for item in items):
        raise ImproperlyConfigured(f"{name}={raw!r} has an empty item; separate values by commas")
    return items


def env_secret(name: str, environ: Mapping[str, str] = os.environ) -> str:
    """Read NAME, or the file named by NAME_FILE (Docker/Kubernetes secrets)."""
    file_name = environ.get(f"{name}_FILE", "").strip()
    if file_name:
        try:
            return Path(file_name).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={file_name!r} cannot be read: {exc}") from None
    return environ.get(name, "").strip()


@dataclass(frozen=True)
class DatabaseURL:
    engine: str
    name: str
    user: str
    password: str
    host: str
    port: str

    def as_django(self) -> dict[str, object]:
        config: dict[str, object] = {"ENGINE": self.engine, "NAME": self.name}
        if self.engine == "django.db.backends.postgresql":
            config.update(
                USER=self.user,
                PASSWORD=self.password,
                HOST=self.host,
                PORT=self.port,
                CONN_MAX_AGE=60,
                CONN_HEALTH_CHECKS=True,
            )
        else:
            # WAL lets the web server read while a long import writes.
            config["OPTIONS"] = {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            }
        return config


def parse_database_url(name: str, url: str) -> DatabaseURL:
    """Parse sqlite:///path or postgresql://user:pass@host:port/db; name the variable on error."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = unquote(parts.path)
        if url.startswith("sqlite:////"):
            path = "/" + path.lstrip("/")
        elif url.startswith("sqlite:///"):
            path = path.lstrip("/")
        if not path:
            raise ImproperlyConfigured(
                f"{name}={url!r} names no file; use sqlite:///path/to/db.sqlite3"
            )
        return DatabaseURL("django.db.backends.sqlite3", path, "", "", "", "")
    if parts.scheme in ("postgres", "postgresql"):
        db_name = unquote(parts.path.lstrip("/"))
        if not db_name:
            raise ImproperlyConfigured(
                f"{name}={url!r} names no database; use postgresql://user:password@host:5432/dbname"
            )
        try:
            port = str(parts.port or "")
        except ValueError:
            raise ImproperlyConfigured(f"{name}={url!r} has an invalid port") from None
        return DatabaseURL(
            "django.db.backends.postgresql",
            db_name,
            unquote(parts.username or ""),
            unquote(parts.password or ""),
            unquote(parts.hostname or ""),
            port,
        )
    raise ImproperlyConfigured(
        f"{name}={url!r} has an unsupported scheme {parts.scheme!r}; use sqlite:/// or postgresql://"
    )
