from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from mutualist.imports.parsing import (
    CellError,
    parse_bool,
    parse_datetime,
    parse_decimal,
    parse_month,
)

UTC = dt.UTC


@pytest.mark.parametrize(
    "text,expected",
    [
        ("2024-01-22T16:14:25.000+0000", dt.datetime(2024, 1, 22, 16, 14, 25, tzinfo=UTC)),
        ("2024-01-22T18:14:25.000+0200", dt.datetime(2024, 1, 22, 16, 14, 25, tzinfo=UTC)),
        ("2024-01-22T16:14:25Z", dt.datetime(2024, 1, 22, 16, 14, 25, tzinfo=UTC)),
        ("2024-01-22 16:14", dt.datetime(2024, 1, 22, 16, 14, tzinfo=UTC)),
        ("2024-01-22", dt.datetime(2024, 1, 22, tzinfo=UTC)),
        ("02/23/26 08:55 PM", dt.datetime(2026, 2, 23, 20, 55, tzinfo=UTC)),
        ("1/5/2024", dt.datetime(2024, 1, 5, tzinfo=UTC)),
    ],
)
def test_timestamps_as_exports_write_them(text: str, expected: dt.datetime) -> None:
    assert parse_datetime(text) == expected


@pytest.mark.parametrize("text", ["yesterday", "2024-13-01", "2024-02-30", "", "13/45/24"])
def test_bad_timestamps_say_what_to_use(text: str) -> None:
    with pytest.raises(CellError) as exc:
        parse_datetime(text)
    assert exc.value.hint


@pytest.mark.parametrize(
    "text,expected",
    [
        ("1,234,567.50", Decimal("1234567.50")),
        ("$1,234", Decimal("1234")),
        ("(250.00)", Decimal("-250.00")),
        ("1'234.5", Decimal("1234.5")),
        ("-3", Decimal("-3")),
    ],
)
def test_amounts(text: str, expected: Decimal) -> None:
    assert parse_decimal(text) == expected


@pytest.mark.parametrize("text", ["abc", "1.2.3", "NaN", "Infinity"])
def test_bad_amounts(text: str) -> None:
    with pytest.raises(CellError):
        parse_decimal(text)


def test_booleans_and_months() -> None:
    assert [parse_bool(t) for t in ("1", "", "TRUE", "false", "yes")] == [
        True,
        False,
        True,
        False,
        True,
    ]
    with pytest.raises(CellError):
        parse_bool("maybe")
    assert parse_month("2024-07") == dt.date(2024, 7, 1)
    with pytest.raises(CellError, match="is not a month"):
        parse_month("July")
