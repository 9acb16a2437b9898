from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from mutualist.accounts.models import ApiToken
from mutualist.cli import main
from tests.conftest import World


def test_help_lists_our_commands(capsys: Any) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for command in ("demo", "serve", "synth", "token", "Django management command"):
        assert command in out


def test_token_create_list_and_revoke(world: World, capsys: Any) -> None:
    assert main(["token", "create", "ann", "--name", "nightly export"]) == 0
    key = capsys.readouterr().out.strip()
    assert key.startswith("mut_")
    assert Client().get("/api/v1/partners", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200
    assert main(["token", "list", "ann"]) == 0
    assert "nightly export" in capsys.readouterr().out
    token = ApiToken.objects.get(user=world.ann)
    assert main(["token", "revoke", str(token.pk)]) == 0
    assert Client().get("/api/v1/partners", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 401


def test_token_errors_name_the_problem(world: World, capsys: Any) -> None:
    assert main(["token", "create", "nobody"]) == 2
    assert "no user named 'nobody'" in capsys.readouterr().err
    assert main(["token", "revoke", "424242"]) == 2
    assert "no token with id 424242" in capsys.readouterr().err
    assert main(["token", "create", "ann", "--name", " "]) == 2


def test_synth_writes_salesforce_csv_and_truth(tmp_path: Any, capsys: Any) -> None:
    out = tmp_path / "export"
    code = main(
        [
            "synth",
            "--out",
            str(out),
            "--partners",
            "20",
            "--accounts",
            "150",
            "--opportunities",
            "600",
            "--seed",
            "3",
        ]
    )
    assert code == 0
    names = {p.name for p in out.iterdir()}
    assert {
        "Account.csv",
        "Opportunity.csv",
        "OpportunityPartner.csv",
        "Lead.csv",
        "revenue.csv",
        "costs.csv",
        "truth.json",
    } <= names
    opportunity_rows = (out / "Opportunity.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(opportunity_rows) - 1 == 600
    assert "Opportunity.csv" in capsys.readouterr().out


def test_synth_refuses_bad_numbers(tmp_path: Any, capsys: Any) -> None:
    assert main(["synth", "--out", str(tmp_path), "--opportunities", "0"]) == 2
    assert "--opportunities must be a positive whole number" in capsys.readouterr().err


def test_synth_explains_an_impossible_config(tmp_path: Any, capsys: Any) -> None:
    assert main(["synth", "--out", str(tmp_path), "--accounts", "2"]) == 2
    assert "accounts must be >= 3" in capsys.readouterr().err


def test_demo_serves_from_a_fresh_process(
    db: Any, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """Loading uses DuckDB; gunicorn workers forked from the loading process hung on their
    first board request. The demo hands over to `mutualist serve` in a new process instead."""
    import sys

    from mutualist import cli
    from mutualist.core import demo

    calls: list[tuple[str, list[str]]] = []

    def exec_instead(path: str, argv: list[str]) -> None:
        calls.append((path, argv))

    monkeypatch.setattr(demo, "is_loaded", lambda: True)
    monkeypatch.setattr(cli.os, "execv", exec_instead)
    assert main(["demo", "--port", "8123"]) == 0
    assert calls == [
        (
            sys.executable,
            [
                sys.executable,
                "-m",
                "mutualist.cli",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                "8123",
            ],
        )
    ]
    assert "already loaded" in capsys.readouterr().out
