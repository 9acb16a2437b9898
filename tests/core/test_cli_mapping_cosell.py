"""The account-mapping and co-selling commands."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

from mutualist.cli import main
from mutualist.cosell import registrations
from mutualist.cosell.models import DealRegistration
from mutualist.crm.models import Account
from tests.conftest import World
from tests.cosell.conftest import deal


def write(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_map_writes_one_row_per_matched_pair(tmp_path: Path, capsys: Any) -> None:
    ours = write(
        tmp_path / "ours.csv",
        [
            "id,name,domain,country",
            "1,Acme Robotics GmbH,acme-robotics.de,DE",
            "2,Globex Corp,globex.com,US",
            "3,Initech,,US",
        ],
    )
    theirs = write(
        tmp_path / "theirs.csv",
        [
            "id,name,domain,country",
            "a,ACME Robotics,https://www.acme-robotics.de/,Germany",
            "b,Umbrella plc,umbrella.co.uk,GB",
        ],
    )
    out = tmp_path / "pairs.csv"
    assert main(["map", "--ours", str(ours), "--theirs", str(theirs), "--out", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert [(r["our_id"], r["their_id"], r["confidence"]) for r in rows] == [("1", "a", "exact")]
    assert "acme-robotics.de" in rows[0]["reason"]
    assert "1 matched pairs" in capsys.readouterr().out


def test_map_names_the_problem_with_a_bad_file(tmp_path: Path, capsys: Any) -> None:
    ours = write(tmp_path / "ours.csv", ["id,company", "1,Acme"])
    theirs = write(tmp_path / "theirs.csv", ["id,title", "1,Acme"])
    assert (
        main(
            ["map", "--ours", str(ours), "--theirs", str(theirs), "--out", str(tmp_path / "o.csv")]
        )
        == 2
    )
    assert "name" in capsys.readouterr().err
    assert not (tmp_path / "o.csv").exists()


def test_blind_tokens_writes_hashes_not_names(tmp_path: Path, capsys: Any) -> None:
    accounts = write(
        tmp_path / "a.csv",
        ["id,name,domain,country,status", "1,Acme Robotics,acme-robotics.de,DE,customer"],
    )
    out = tmp_path / "tokens.csv"
    assert main(["blind-tokens", str(accounts), "--key", "ab" * 32, "--out", str(out)]) == 0
    text = out.read_text()
    assert "acme" not in text.lower()
    rows = list(csv.DictReader(text.splitlines()))
    assert {r["kind"] for r in rows} >= {"domain", "name_country"}
    assert all(r["status"] == "customer" and len(r["token"]) == 64 for r in rows)
    assert main(["blind-tokens", str(accounts), "--key", "nothex", "--out", str(out)]) == 2


def test_resolve_and_sweep(resolved: World, capsys: Any) -> None:
    Account.objects.create(
        name="Hooli", domain="hooli.com", created_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    )
    assert main(["resolve"]) == 0
    assert "1 accounts resolved" in capsys.readouterr().out
    r = registrations.approve(
        resolved.alice, registrations.submit(resolved.acme_user, deal(domain="pied.com")), ""
    )
    DealRegistration.objects.filter(pk=r.pk).update(
        protected_until=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    )
    assert main(["sweep"]) == 0
    assert "1 expired" in capsys.readouterr().out
    assert DealRegistration.objects.get(pk=r.pk).status == "expired"
