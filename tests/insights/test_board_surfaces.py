"""The Django side of the board: app tables equal the generator's, and every surface
(page, API, CLI, report, scorecards) shows the same numbers to the right people only."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from mutualist.analytics import KEYS, Period, board, tables_from_synth
from mutualist.cli import main
from mutualist.core import demo
from mutualist.insights.tables import app_tables
from mutualist.partners.models import Partner
from mutualist.synth import SIZES, generate

CONFIG = dataclasses.replace(SIZES["small"], partners=30, accounts=500, opportunities=2500, seed=5)
AS_OF = dt.date(2026, 10, 31)
PERIOD = Period(dt.date(2025, 11, 1), AS_OF)
QUERY = "from=2025-11-01&to=2026-10-31&as_of=2026-10-31"


@pytest.fixture
def demo_db(db: Any) -> Any:
    eco = generate(CONFIG)
    demo.load(eco)
    return eco


def _by_external_id(b: dict[str, Any]) -> dict[str, Any]:
    """Board JSON without the leaderboard/growth ids, which differ between the two id spaces."""
    return {k: v for k, v in b.items() if k not in ("leaderboard", "partner_growth")}


def assert_same(a: Any, b: Any, path: str = "board") -> None:
    if isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), path
        for key in a:
            assert_same(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{path}[{i}]")
    elif isinstance(a, float):
        assert b == pytest.approx(a, rel=1e-9, abs=1e-9), path
    else:
        assert a == b, path


def test_the_app_database_gives_the_same_board_as_the_generated_tables(demo_db: Any) -> None:
    from_app = board(app_tables(), PERIOD, AS_OF)
    direct = board(tables_from_synth(demo_db), PERIOD, AS_OF)
    # Equal up to float summation order (the database returns rows in another order).
    assert_same(_by_external_id(from_app), _by_external_id(direct))
    assert_same(
        [p["won_revenue"] for p in from_app["leaderboard"]["partners"]],
        [p["won_revenue"] for p in direct["leaderboard"]["partners"]],
    )


def test_board_page_for_staff_with_charts(demo_db: Any) -> None:
    from mutualist.accounts.models import User

    client = Client()
    client.force_login(User.objects.get(username="analyst"))
    page = client.get(f"/board/?{QUERY}")
    assert page.status_code == 200
    body = page.content.decode()
    assert body.count("<svg") >= 4 and "Partner vs standalone win rate" in body
    assert "observational" in body
    bad = client.get("/board/?as_of=2026-02-30")
    assert bad.status_code == 400 and "is not a date" in bad.content.decode()


def test_partner_users_never_see_the_board(demo_db: Any) -> None:
    from mutualist.accounts.models import User

    client = Client()
    client.force_login(User.objects.get(username="partner1-user"))
    assert client.get("/board/").status_code == 404
    assert client.get("/api/v1/metrics").status_code == 404


def test_metrics_api_json_contract(demo_db: Any) -> None:
    from mutualist.accounts.actions import create_api_token
    from mutualist.accounts.models import User

    cpo = User.objects.get(username="cpo")
    _, key = create_api_token(cpo, cpo, "t")
    body = Client().get(f"/api/v1/metrics?{QUERY}", HTTP_AUTHORIZATION=f"Bearer {key}").json()
    assert tuple(body) == KEYS
    cmp = body["win_rate"]["partner_vs_unattributed"]
    for name in ("difference", "ratio", "adjusted"):
        assert {"value", "low", "high", "n"} <= set(cmp[name])
    assert body["win_rate"]["partner"]["won"] <= body["win_rate"]["partner"]["closed"]
    assert set(body["nrr"]) >= {"partner_attached", "unattached"}


def test_scorecards_only_for_your_own_partner(demo_db: Any) -> None:
    from mutualist.accounts.models import User

    user = User.objects.get(username="partner1-user")
    other = Partner.objects.exclude(pk=user.partner_id).first()
    assert other is not None
    client = Client()
    client.force_login(user)
    own = client.get(f"/board/scorecard/{user.partner_id}/")
    assert own.status_code == 200 and b'data-testid="scorecard"' in own.content
    assert client.get(f"/board/scorecard/{other.pk}/").status_code == 404
    assert client.get(f"/api/v1/partners/{other.pk}/scorecard").status_code == 404
    card = client.get(f"/api/v1/partners/{user.partner_id}/scorecard?{QUERY}").json()
    assert set(card) == {"partner_id", "build", "market", "sell", "serve"}


def test_cli_metrics_formats_and_report(demo_db: Any, tmp_path: Path, capsys: Any) -> None:
    assert (
        main(
            [
                "metrics",
                "--from",
                "2025-11-01",
                "--as-of",
                "2026-10-31",
                "--format",
                "json",
                "--by",
                "type",
            ]
        )
        == 0
    )
    body = json.loads(capsys.readouterr().out)
    assert tuple(k for k in body if k != "by") == KEYS
    assert body["by"]["dimension"] == "type" and body["by"]["groups"]
    assert main(["metrics", "--as-of", "2026-10-31", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "metric,value,low,high,n,note"
    assert any(line.startswith("win_rate.partner,") for line in lines)
    assert main(["metrics", "--as-of", "2026-10-31", "--format", "table"]) == 0
    table = capsys.readouterr().out
    assert "closing hazard ratio, adjusted" in table
    assert "converting hazard ratio" in table and "NRR difference, adjusted" in table
    out = tmp_path / "board.html"
    assert (
        main(
            [
                "report",
                "board",
                "--as-of",
                "2026-10-31",
                "--out",
                str(out),
                "--png-dir",
                str(tmp_path / "png"),
            ]
        )
        == 0
    )
    html = out.read_text()
    assert html.count("<svg") >= 4 and "<link" not in html and "<script" not in html
    assert (tmp_path / "png" / "win_rate.png").read_bytes()[:4] == b"\x89PNG"


def test_cli_metrics_bad_dates(db: Any, capsys: Any) -> None:
    assert (
        main(["metrics", "--from", "2026-05-01", "--to", "2026-01-01", "--as-of", "2026-10-31"])
        == 2
    )
    assert "--from" in capsys.readouterr().err


def test_concurrent_requests_take_turns_on_the_shared_duckdb_connection(
    demo_db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The web server's threads share one DuckDB connection, which refuses a second call while
    one runs: each board is computed in turn, none fails."""
    import threading

    from mutualist.insights import service

    period, as_of = service.resolve_period("2025-11-01", "2026-10-31", "2026-10-31")
    service.current_tables()  # built here: the threads cannot see the test's transaction
    monkeypatch.setattr(service, "data_version", lambda: service._tables[0])  # type: ignore[index]
    monkeypatch.setattr(service.cache, "get", lambda key: None)  # every thread computes
    partner_id = Partner.objects.order_by("pk").values_list("pk", flat=True)[0]
    results: list[Any] = []

    def work() -> None:
        try:
            results.append(service.scorecard_for(partner_id, period, as_of))
        except Exception as exc:
            results.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [type(r) for r in results] == [dict] * 4
    assert all(r == results[0] for r in results)
