"""Settings refuse unsafe production configurations; checked in a fresh interpreter each time."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def run_check(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("MUTUALIST_") and k != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    clean.update(
        {"MUTUALIST_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "mutualist.settings"}
    )
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-m", "mutualist.cli", "check", *args],
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    result = run_check(tmp_path, {"MUTUALIST_ALLOWED_HOSTS": "x.example"})
    assert result.returncode != 0
    assert "MUTUALIST_SECRET_KEY is not set" in result.stderr


def test_production_refuses_debug(tmp_path: Path) -> None:
    result = run_check(
        tmp_path,
        {
            "MUTUALIST_SECRET_KEY": "k" * 60,
            "MUTUALIST_DEBUG": "true",
            "MUTUALIST_ALLOWED_HOSTS": "x.example",
        },
    )
    assert result.returncode != 0
    assert "MUTUALIST_DEBUG is on while MUTUALIST_MODE=production" in result.stderr


def test_unknown_environment_value_is_named(tmp_path: Path) -> None:
    result = run_check(tmp_path, {"MUTUALIST_MODE": "staging"})
    assert result.returncode != 0
    assert "MUTUALIST_MODE='staging' is not allowed" in result.stderr


@pytest.mark.parametrize("mode", ["development", "demo"])
def test_local_modes_start_without_a_secret(tmp_path: Path, mode: str) -> None:
    result = run_check(tmp_path, {"MUTUALIST_MODE": mode})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "secret_key").exists()


def test_check_deploy_is_clean_in_production(tmp_path: Path) -> None:
    result = run_check(
        tmp_path,
        {
            "MUTUALIST_SECRET_KEY": "a-very-long-and-random-production-secret-key-0123456789-abcdefgh",
            "MUTUALIST_ALLOWED_HOSTS": "partners.example.com",
            # Checks do not connect, so an unreachable server is fine here.
            "MUTUALIST_DATABASE_URL": "postgresql://mutualist@127.0.0.1:9/mutualist",
            "MUTUALIST_SMTP_HOST": "smtp.example.com",
        },
        "--deploy",
        "--fail-level",
        "WARNING",
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_warns_when_notifications_cannot_be_mailed(tmp_path: Path) -> None:
    result = run_check(
        tmp_path,
        {
            "MUTUALIST_SECRET_KEY": "a-very-long-and-random-production-secret-key-0123456789-abcdefgh",
            "MUTUALIST_ALLOWED_HOSTS": "partners.example.com",
            "MUTUALIST_DATABASE_URL": "postgresql://mutualist@127.0.0.1:9/mutualist",
        },
        "--deploy",
    )
    assert "mutualist.W003" in result.stderr + result.stdout
