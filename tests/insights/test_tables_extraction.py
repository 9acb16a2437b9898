"""The board's tables read straight from the database (columnar SQL → Arrow) are the tables the
ORM reads, value for value: currencies with and without rates, NULL amounts, open and closed
deals, timestamps with microseconds and at midnight, awkward text. The ORM version is kept here
as the reference."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest
from django.db import connection

from mutualist.analytics.schema import TABLES, arrow_schema
from mutualist.crm.models import (
    Account,
    Cost,
    ExchangeRate,
    Lead,
    Opportunity,
    PartnerInvolvement,
    RevenueMonth,
)
from mutualist.insights import tables
from mutualist.insights.currency import Rates, current_rates
from mutualist.partners.models import Partner, Segment
from tests.conftest import World, make_opportunity

D = dt.date
SQLITE = connection.vendor == "sqlite"


# --- the reference: the ORM extraction this module replaced, unchanged --------------------------


def _to_float(values: Iterable[Any]) -> list[float | None]:
    return [None if v is None else float(v) for v in values]


def _arrow(name: str, columns: Mapping[str, Sequence[Any]]) -> pa.Table:
    schema = arrow_schema(name)
    arrays = []
    for field in schema:
        values = columns[field.name]
        if pa.types.is_timestamp(field.type):
            arrays.append(pa.array(values, type=pa.timestamp("us", tz="UTC")))
        else:
            arrays.append(pa.array(values, type=field.type))
    return pa.Table.from_arrays(
        arrays,
        schema=pa.schema(
            [
                pa.field(f.name, pa.timestamp("us", tz="UTC"))
                if pa.types.is_timestamp(f.type)
                else f
                for f in schema
            ]
        ),
    )


def _columns(rows: list[tuple[Any, ...]], names: list[str]) -> dict[str, list[Any]]:
    if not rows:
        return {name: [] for name in names}
    return {name: list(values) for name, values in zip(names, zip(*rows, strict=True), strict=True)}


def _partners() -> pa.Table:
    names = [
        "partner_id",
        "name",
        "types",
        "status",
        "tier",
        "region",
        "industries",
        "technologies",
        "practices",
    ]
    segments: dict[int, dict[str, list[str]]] = {}
    through = Partner.segments.through.objects.select_related("segment")
    for link in through.all():
        kinds = segments.setdefault(link.partner_id, {})
        kinds.setdefault(link.segment.kind, []).append(link.segment.code)
    rows = []
    for p in Partner.objects.values_list("id", "name", "types", "status", "tier", "region"):
        kinds = segments.get(p[0], {})
        rows.append(
            (
                p[0],
                p[1],
                p[2].strip(","),
                p[3],
                p[4],
                p[5],
                ",".join(sorted(kinds.get("industry", []))),
                ",".join(sorted(kinds.get("technology", []))),
                ",".join(sorted(kinds.get("practice", []))),
            )
        )
    return _arrow("partners", _columns(rows, names))


def _opportunities(rates: Rates) -> pa.Table:
    names = list(TABLES["opportunities"])
    columns = _columns(list(Opportunity.objects.order_by().values_list(*_fields(names))), names)
    columns["amount"] = _to_float(columns["amount"])
    columns["acv"] = _to_float(columns["acv"])
    _convert(
        columns,
        ("amount", "acv"),
        [c.date() if c is not None else None for c in columns["closed_at"]],
        rates,
    )
    return _arrow("opportunities", columns)


def _fields(names: list[str]) -> list[str]:
    return ["id" if n == "opportunity_id" else n for n in names]


def _convert(
    columns: dict[str, list[Any]], amounts: Sequence[str], when: Sequence[Any], rates: Rates
) -> None:
    if not rates.months:
        return
    for i, (currency, day) in enumerate(zip(columns["currency"], when, strict=True)):
        rate = rates.factor(currency, day)
        if rate is None:
            continue
        for name in amounts:
            if columns[name][i] is not None:
                columns[name][i] *= rate
        columns["currency"][i] = rates.base


def _midnight(day: Any) -> Any:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def orm_tables() -> dict[str, pa.Table]:
    rates = current_rates()
    accounts = _columns(
        list(
            Account.objects.order_by().values_list(
                "id", "name", "country", "industry", "size_band", "lifecycle"
            )
        ),
        ["account_id", "name", "country", "industry", "size_band", "lifecycle"],
    )
    involvements = _columns(
        list(
            PartnerInvolvement.objects.order_by().values_list(
                "opportunity_id", "partner_id", "role", "attached_at", "is_primary"
            )
        ),
        ["opportunity_id", "partner_id", "role", "attached_at", "is_primary"],
    )
    leads = _columns(
        list(
            Lead.objects.order_by().values_list(
                "id", "created_at", "converted_at", "status", "source", "partner_id"
            )
        ),
        ["lead_id", "created_at", "converted_at", "status", "source", "partner_id"],
    )
    revenue = _columns(
        list(RevenueMonth.objects.order_by().values_list("account_id", "month", "mrr", "currency")),
        ["account_id", "month", "mrr", "currency"],
    )
    revenue["mrr"] = _to_float(revenue["mrr"])
    _convert(revenue, ("mrr",), revenue["month"], rates)
    revenue["month"] = [_midnight(m) for m in revenue["month"]]
    costs = _columns(
        list(
            Cost.objects.order_by().values_list(
                "month", "category", "amount", "currency", "partner_id", "program"
            )
        ),
        ["month", "category", "amount", "currency", "partner_id", "program"],
    )
    costs["amount"] = _to_float(costs["amount"])
    _convert(costs, ("amount",), costs["month"], rates)
    costs["month"] = [_midnight(m) for m in costs["month"]]
    return {
        "partners": _partners(),
        "accounts": _arrow("accounts", accounts),
        "opportunities": _opportunities(rates),
        "involvements": _arrow("involvements", involvements),
        "leads": _arrow("leads", leads),
        "revenue_months": _arrow("revenue_months", revenue),
        "costs": _arrow("costs", costs),
    }


# --- the fixture and the comparison -------------------------------------------------------------


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.fixture
def mixed(world: World) -> dict[str, Any]:
    """The personas' world plus rates, currencies, NULLs and awkward text and times."""
    for month, currency, rate in [
        (D(2025, 1, 1), "EUR", "1.10"),
        (D(2025, 3, 1), "EUR", "1.20"),
        (D(2025, 2, 15), "GBP", "1.30"),  # a rate dated mid-month applies from the next month
        (D(2025, 1, 1), "CHF", "0.00000001"),
    ]:
        ExchangeRate.objects.create(month=month, currency=currency, rate=Decimal(rate))
    odd = Account.objects.create(
        name='Odd, "Quoted"\nName\r\n\rwith\x1fa separator, café ☕ ',
        domain="odd.example",
        created_at=at(2025, 1, 1),
        country="",
        industry="",
    )
    industry, _ = Segment.objects.get_or_create(kind="industry", code="retail")
    practice, _ = Segment.objects.get_or_create(kind="practice", code="cloud")
    world.acme.segments.add(industry, practice)
    deal = make_opportunity
    deals = {
        "eur_jan": deal(
            odd,
            "eur-jan",
            amount=Decimal("1000.00"),
            acv=Decimal("333.33"),
            currency="EUR",
            is_closed=True,
            is_won=True,
            created_at=at(2024, 12, 31, 23, 59, 59, 999999),
            closed_at=at(2025, 1, 31, 0, 0, 0),  # midnight
        ),
        "eur_feb": deal(
            odd,
            "eur-feb",
            amount=Decimal("0.01"),
            currency="EUR",
            is_closed=True,
            closed_at=at(2025, 2, 28, 12, 30, 0, 1),
            stage="Closed Lost",
        ),
        "eur_early": deal(
            odd,
            "eur-early",
            amount=Decimal("250.50"),
            currency="EUR",
            is_closed=True,
            closed_at=at(2024, 12, 1),
        ),
        "eur_open": deal(odd, "eur-open", amount=Decimal("500"), currency="EUR"),
        "eur_null": deal(odd, "eur-null", amount=None, acv=None, currency="EUR"),
        "gbp_feb": deal(
            odd,
            "gbp-feb",
            amount=Decimal("70"),
            currency="GBP",
            is_closed=True,
            closed_at=at(2025, 2, 20),
        ),
        "gbp_mar": deal(
            odd,
            "gbp-mar",
            amount=Decimal("-5.55"),
            currency="GBP",
            is_closed=True,
            closed_at=at(2025, 3, 2),
        ),
        "jpy": deal(odd, "jpy", amount=Decimal("1234567890123.45"), currency="JPY"),
        "chf": deal(odd, "chf", amount=Decimal("99999999999999.99"), currency="CHF"),
        "usd_big": deal(odd, "usd-big", amount=Decimal("123456789012345.67")),
    }
    Lead.objects.create(
        company="Initrode",
        created_at=at(2025, 2, 1, 0, 0, 0, 500000),
        converted_at=at(2025, 3, 1, 8, 15, 0, 42),
        status="converted",
        source="inbound",
    )
    for month, mrr, currency in [
        (D(2024, 12, 1), "10.00", "EUR"),
        (D(2025, 1, 1), "10.00", "EUR"),
        (D(2025, 2, 1), "20.00", "GBP"),
        (D(2025, 3, 1), "0.10", "GBP"),
        (D(2025, 4, 1), "33.33", "JPY"),
    ]:
        RevenueMonth.objects.create(account=odd, month=month, mrr=Decimal(mrr), currency=currency)
    Cost.objects.create(
        month=D(2025, 1, 1), category="mdf", amount=Decimal("99.99"), currency="EUR"
    )
    Cost.objects.create(
        month=D(2025, 2, 1),
        category="commissions",
        amount=Decimal("12.34"),
        currency="USD",
        partner=world.acme,
        program='the "gold" programme, 2025',
    )
    return {"world": world, "account": odd, "deals": deals}


def assert_same_tables(expected: dict[str, pa.Table], got: dict[str, pa.Table]) -> None:
    assert list(got) == list(expected)
    for name, table in expected.items():
        mine = got[name]
        assert mine.schema == table.schema, name
        if not SQLITE:  # the ORM reads PostgreSQL's rows in heap order, not by key
            table, mine = in_order(table), in_order(mine)
        assert mine.equals(table), (name, table.to_pylist(), mine.to_pylist())


def in_order(table: pa.Table) -> pa.Table:
    return table.sort_by([(c, "ascending") for c in table.column_names])


def test_the_tables_are_what_the_orm_reads(mixed: dict[str, Any]) -> None:
    assert_same_tables(orm_tables(), tables.arrow_tables())


def test_concrete_values(mixed: dict[str, Any]) -> None:
    got = tables.arrow_tables()
    deals = {row["opportunity_id"]: row for row in got["opportunities"].to_pylist()}
    d = {name: deals[deal.pk] for name, deal in mixed["deals"].items()}
    assert (d["eur_jan"]["amount"], d["eur_jan"]["acv"]) == (1000.0 * 1.1, 333.33 * 1.1)
    assert d["eur_jan"]["currency"] == "USD"
    assert d["eur_jan"]["created_at"] == at(2024, 12, 31, 23, 59, 59, 999999)
    assert d["eur_jan"]["closed_at"] == at(2025, 1, 31)
    assert (d["eur_feb"]["amount"], d["eur_feb"]["currency"]) == (0.01 * 1.1, "USD")
    assert d["eur_feb"]["closed_at"] == at(2025, 2, 28, 12, 30, 0, 1)
    assert (d["eur_early"]["amount"], d["eur_early"]["currency"]) == (250.5, "EUR")  # no rate yet
    assert (d["eur_open"]["amount"], d["eur_open"]["currency"]) == (500.0 * 1.2, "USD")
    assert (d["eur_open"]["closed_at"], d["eur_open"]["is_closed"]) == (None, False)
    assert (d["eur_null"]["amount"], d["eur_null"]["acv"], d["eur_null"]["currency"]) == (
        None,
        None,
        "USD",
    )
    assert (d["gbp_feb"]["amount"], d["gbp_feb"]["currency"]) == (70.0, "GBP")  # rate from 15th
    assert (d["gbp_mar"]["amount"], d["gbp_mar"]["currency"]) == (-5.55 * 1.3, "USD")
    assert (d["jpy"]["amount"], d["jpy"]["currency"]) == (1234567890123.45, "JPY")
    assert d["chf"]["currency"] == "USD"
    if SQLITE:  # SQLite keeps 15 significant digits of a decimal, as the ORM reads it
        assert d["usd_big"]["amount"] == 123456789012346.0
    else:
        assert d["usd_big"]["amount"] == 123456789012345.67
    accounts = {row["account_id"]: row for row in got["accounts"].to_pylist()}
    odd = accounts[mixed["account"].pk]
    assert odd["name"] == 'Odd, "Quoted"\nName\r\n\rwith\x1fa separator, café ☕ '
    assert (odd["country"], odd["industry"]) == ("", "")
    revenue = got["revenue_months"].to_pylist()
    assert [(r["month"], r["mrr"], r["currency"]) for r in revenue[-5:]] == [
        (at(2024, 12, 1), 10.0, "EUR"),
        (at(2025, 1, 1), 10.0 * 1.1, "USD"),
        (at(2025, 2, 1), 20.0, "GBP"),
        (at(2025, 3, 1), 0.1 * 1.3, "USD"),
        (at(2025, 4, 1), 33.33, "JPY"),
    ]
    leads = got["leads"].to_pylist()
    assert leads[-1]["converted_at"] == at(2025, 3, 1, 8, 15, 0, 42)
    assert leads[-1]["partner_id"] is None
    costs = got["costs"].to_pylist()
    assert [(c["amount"], c["currency"], c["partner_id"], c["program"]) for c in costs] == [
        (99.99 * 1.1, "USD", None, ""),
        (12.34, "USD", mixed["world"].acme.pk, 'the "gold" programme, 2025'),
    ]
    partners = {row["partner_id"]: row for row in got["partners"].to_pylist()}
    acme = partners[mixed["world"].acme.pk]
    assert (acme["types"], acme["industries"], acme["practices"]) == (
        "reseller,system_integrator",
        "retail",
        "cloud",
    )


def test_rows_are_read_in_chunks_alike(
    mixed: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = tables.arrow_tables()
    monkeypatch.setattr(tables, "_CHUNK_ROWS", 2)
    assert_same_tables(whole, tables.arrow_tables())
    assert_same_tables(orm_tables(), tables.arrow_tables())


def test_an_empty_database_gives_empty_tables(db: Any) -> None:
    got = tables.arrow_tables()
    assert_same_tables(orm_tables(), got)
    assert all(t.num_rows == 0 for t in got.values())


def test_no_rates_leave_amounts_as_recorded(world: World) -> None:
    make_opportunity(world.acme_account, "eur", amount=Decimal("10.10"), currency="EUR")
    got = tables.arrow_tables()
    assert_same_tables(orm_tables(), got)
    assert ("EUR", 10.1) in [(r["currency"], r["amount"]) for r in got["opportunities"].to_pylist()]


@pytest.mark.skipif(not SQLITE, reason="values only a raw SQLite write can store")
def test_sqlite_values_not_in_django_form_read_as_the_orm_reads_them(
    mixed: dict[str, Any],
) -> None:
    """Amounts that are not exact cents and times with an offset or without seconds go the
    slow, exact way; they still read as the ORM reads them."""
    deals = mixed["deals"]
    with connection.cursor() as cursor:
        for deal, amount, acv, created in [
            (deals["eur_jan"], 1234.5678, 0.125, "2025-01-15T10:00:00+02:00"),
            (deals["eur_open"], 7, 2.675, "2025-01-15 10:00"),
            (deals["jpy"], 1e14 + 0.5, None, "2025-01-15 9:05:03.25"),
        ]:
            cursor.execute(
                "UPDATE crm_opportunity SET amount = %s, acv = %s, created_at = %s WHERE id = %s",
                [amount, acv, created, deal.pk],
            )
        cursor.execute("UPDATE crm_revenuemonth SET month = '2025-1-1' WHERE month = '2025-01-01'")
    got = tables.arrow_tables()
    assert_same_tables(orm_tables(), got)
    rows = {r["opportunity_id"]: r for r in got["opportunities"].to_pylist()}
    jan = rows[deals["eur_jan"].pk]
    assert (jan["amount"], jan["acv"]) == (1234.57 * 1.1, 0.12 * 1.1)  # quantized half-even
    assert jan["created_at"] == at(2025, 1, 15, 8)
    assert rows[deals["eur_open"].pk]["created_at"] == at(2025, 1, 15, 10)
    assert rows[deals["jpy"].pk]["created_at"] == at(2025, 1, 15, 9, 5, 3, 250000)


def test_nullable_text_keeps_null_apart_from_empty() -> None:
    # no nullable text column is read today; the marking that would carry one is ready
    marked = pa.array(["", "=", "=x", "==y"])
    assert tables._present(marked).to_pylist() == [None, "", "x", "=y"]
