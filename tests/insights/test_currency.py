"""Amounts in the reporting currency: rates imported from finance's file, converted at the
right month, and amounts without a rate flagged rather than guessed."""

from __future__ import annotations

import datetime as dt
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from mutualist.analytics import Period, board
from mutualist.crm.models import ExchangeRate
from mutualist.imports.actions import run_import
from mutualist.imports.sources import read_files
from mutualist.insights.currency import Rates
from mutualist.insights.tables import app_tables, arrow_tables
from tests.conftest import World, make_opportunity

D = dt.date


def test_a_rate_applies_from_its_month_until_the_next() -> None:
    rates = Rates.of("USD", [(D(2026, 1, 1), "EUR", "1.10"), (D(2026, 3, 1), "EUR", "1.20")])
    assert rates.convert(100.0, "EUR", D(2026, 1, 31)) == (pytest.approx(110.0), "USD")
    assert rates.convert(100.0, "EUR", D(2026, 2, 15)) == (pytest.approx(110.0), "USD")
    assert rates.convert(100.0, "EUR", D(2026, 3, 1)) == (pytest.approx(120.0), "USD")
    assert rates.convert(100.0, "EUR", None) == (pytest.approx(120.0), "USD")  # newest
    assert rates.convert(100.0, "EUR", D(2025, 12, 31)) == (100.0, "EUR")  # before any rate
    assert rates.convert(100.0, "GBP", D(2026, 2, 1)) == (100.0, "GBP")  # never imported
    assert rates.convert(100.0, "USD", D(2026, 2, 1)) == (100.0, "USD")
    assert rates.convert(None, "EUR", D(2026, 2, 1)) == (None, "EUR")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rates.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_rates_import_validates_and_is_idempotent(world: World, tmp_path: Path) -> None:
    good = write(tmp_path, "month,currency,rate\n2026-01,EUR,1.10\n2026-01,GBP,1.27\n")
    run = run_import(world.cpo, "rates", read_files("rates", [good], {}))
    assert run.status == "succeeded" and run.counts["exchange_rates"]["created"] == 2
    again = run_import(world.cpo, "rates", read_files("rates", [good], {}))
    assert again.counts["exchange_rates"]["unchanged"] == 2
    bad = write(tmp_path, "month,currency,rate\n2026-02,EUR,-1\n2026-02,USD,1.5\n2026-02,EURO,1\n")
    batch = read_files("rates", [bad], {})
    assert [(p.row, p.column, p.value) for p in batch.errors] == [
        (1, "rate", "-1"),
        (2, "rate", "1.5"),
        (3, "currency", "EURO"),
    ]
    assert "is the rate of the reporting currency USD itself" in batch.errors[1].reason
    failed = run_import(world.cpo, "rates", batch)
    assert failed.status == "failed" and ExchangeRate.objects.count() == 2


def test_the_board_tables_convert_what_has_a_rate_and_flag_the_rest(world: World) -> None:
    ExchangeRate.objects.create(month=D(2026, 1, 1), currency="EUR", rate=Decimal("1.10"))
    ExchangeRate.objects.create(month=D(2026, 2, 1), currency="EUR", rate=Decimal("1.20"))
    closed = make_opportunity(
        world.acme_account,
        "eur-won",
        amount=Decimal("1000"),
        currency="EUR",
        is_closed=True,
        is_won=True,
        closed_at=datetime(2026, 1, 20, tzinfo=UTC),
    )
    open_deal = make_opportunity(
        world.acme_account, "eur-open", amount=Decimal("500"), currency="EUR"
    )
    pounds = make_opportunity(world.acme_account, "gbp", amount=Decimal("70"), currency="GBP")
    table = arrow_tables()["opportunities"].to_pylist()
    by_id = {row["opportunity_id"]: row for row in table}
    assert (by_id[closed.pk]["amount"], by_id[closed.pk]["currency"]) == (
        pytest.approx(1100.0),
        "USD",
    )
    assert by_id[open_deal.pk]["amount"] == pytest.approx(600.0)  # the newest rate
    assert (by_id[pounds.pk]["amount"], by_id[pounds.pk]["currency"]) == (70.0, "GBP")
    assert by_id[world.acme_opp.pk]["currency"] == "USD"
    quality = board(app_tables(), Period(D(2025, 1, 1), D(2026, 3, 31)), D(2026, 3, 31))
    assert quality["data_quality"]["currency_mix"]["currencies"] == ["GBP", "USD"]
