"""Set-based loads: what a large SQLite load does to the table's indexes, and the SQLite
datetime text the loader writes itself."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest
from django.db import IntegrityError, connection, transaction

from mutualist.crm.models import Account, Opportunity
from mutualist.lib import bulk

pytestmark = pytest.mark.django_db(transaction=True)
FIELDS = ["source_system", "external_id", "name", "created_at"]
BLANK = ["domain", "country", "industry", "size_band", "lifecycle"]


def account_columns(refs: list[str]) -> list[list[Any]]:
    now = bulk.adapt_column(Account, "created_at", [dt.datetime(2024, 1, 2, tzinfo=dt.UTC)])[0]
    blank = [[""] * len(refs) for _ in BLANK]
    return [["test"] * len(refs), refs, [f"Company {r}" for r in refs], [now] * len(refs), *blank]


def index_sql() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        return bulk._secondary_indexes(cursor, "crm_account")


def test_a_large_load_rebuilds_the_indexes_it_dropped(monkeypatch: Any) -> None:
    monkeypatch.setattr(bulk, "LARGE_LOAD_ROWS", 10)
    before = index_sql()
    dropped: list[str] = []
    real = bulk._secondary_indexes
    monkeypatch.setattr(
        bulk, "_secondary_indexes", lambda *a: dropped.extend(n for n, _ in real(*a)) or real(*a)
    )
    with transaction.atomic():
        bulk.bulk_insert(Account, FIELDS + BLANK, account_columns([str(i) for i in range(50)]))
    assert Account.objects.count() == 50
    # unique external id, name, domain, industry (PostgreSQL adds LIKE twins of the text ones)
    assert len(dropped) == len(before) >= 4
    assert index_sql() == before
    assert Account.objects.filter(name="Company 7").exists()


def test_a_duplicate_in_a_large_load_fails_whole_with_the_indexes_back(monkeypatch: Any) -> None:
    monkeypatch.setattr(bulk, "LARGE_LOAD_ROWS", 10)
    before = index_sql()
    refs = [str(i) for i in range(30)] + ["7"]
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk.bulk_insert(Account, FIELDS + BLANK, account_columns(refs))
    assert Account.objects.count() == 0
    assert index_sql() == before
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            assert cursor.execute("PRAGMA cache_size").fetchone()[0] == -2000


def test_outside_a_transaction_nothing_is_dropped(monkeypatch: Any) -> None:
    monkeypatch.setattr(bulk, "LARGE_LOAD_ROWS", 10)
    monkeypatch.setattr(bulk, "_secondary_indexes", lambda *a: pytest.fail("dropped"))
    bulk.bulk_insert(Account, FIELDS + BLANK, account_columns([str(i) for i in range(20)]))
    assert Account.objects.count() == 20


@pytest.mark.parametrize(
    "value",
    [
        dt.datetime(2024, 3, 1, 0, 0, tzinfo=dt.UTC),
        dt.datetime(2024, 3, 1, 12, 30, 5, 120, tzinfo=dt.UTC),
        dt.datetime(2024, 3, 1, 1, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        dt.datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC),
        dt.datetime(2024, 3, 1, 12, 30, 5, 120),  # naive: Django's own adapter decides
        None,
    ],
)
def test_datetime_text_is_what_django_would_store(value: dt.datetime | None) -> None:
    expected = None if value is None else connection.ops.adapt_datetimefield_value(value)
    assert bulk.adapt_column(Account, "created_at", [value]) == [expected]
    many = bulk.adapt_column(Account, "created_at", [value, None, value])
    assert many == [expected, None, expected]


def opportunity_columns(account_ids: list[int]) -> tuple[list[str], list[list[Any]]]:
    fields = ["source_system", "external_id", "name", "currency", "stage", "is_closed"]
    fields += ["is_won", "created_at", "type", "lead_source", "account"]
    n = len(account_ids)
    when = bulk.adapt_column(Account, "created_at", [dt.datetime(2024, 1, 2, tzinfo=dt.UTC)])[0]
    columns: list[list[Any]] = [["test"] * n, [f"o{i}" for i in range(n)], ["Deal"] * n]
    columns += [["USD"] * n, ["Prospecting"] * n, [False] * n, [False] * n, [when] * n]
    columns += [["new_business"] * n, [""] * n, account_ids]
    return fields, columns


def foreign_keys() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        return bulk._foreign_keys(cursor, "crm_opportunity")


def test_a_large_load_keeps_foreign_keys_and_their_checks(monkeypatch: Any) -> None:
    monkeypatch.setattr(bulk, "LARGE_LOAD_ROWS", 10)
    bulk.bulk_insert(Account, FIELDS + BLANK, account_columns(["a"]))
    account = Account.objects.get().pk
    keys = foreign_keys()
    with transaction.atomic():
        fields, columns = opportunity_columns([account] * 20)
        bulk.bulk_insert(Opportunity, fields, columns)
    assert Opportunity.objects.count() == 20 and foreign_keys() == keys
    # A row pointing at no account fails the whole load, whichever way the key is checked.
    with pytest.raises(IntegrityError), transaction.atomic():
        fields, columns = opportunity_columns([account] * 40 + [account + 99])
        bulk.bulk_insert(Opportunity, fields, columns)
    assert Opportunity.objects.count() == 20 and foreign_keys() == keys


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY formats are PostgreSQL's")
def test_typed_columns_copy_in_binary_and_text_ones_as_text() -> None:
    at = dt.datetime(2024, 1, 2, 3, 4, 5, 600, tzinfo=dt.UTC)
    stamps = np.array([at.replace(tzinfo=None)] * 2, dtype="datetime64[us]")

    def columns(refs: list[str], created: list[Any]) -> list[list[Any]]:
        return [["test"] * 2, refs, ["Company"] * 2, created, *([[""] * 2] * len(BLANK))]

    typed = columns(["t1", "t2"], [at, at])
    text = columns(["x1", "x2"], bulk.datetime_column(stamps))  # the demo load's text
    naive = columns(["n1", "n2"], [at.replace(tzinfo=None)] * 2)
    names = bulk.db_columns(Account, FIELDS + BLANK)
    with connection.cursor() as cursor:
        assert bulk._binary_types(cursor, "crm_account", names, typed) is not None
        assert bulk._binary_types(cursor, "crm_account", names, text) is None
        assert bulk._binary_types(cursor, "crm_account", names, naive) is None
    with transaction.atomic():
        bulk.bulk_insert(Account, FIELDS + BLANK, typed)
        bulk.bulk_insert(Account, FIELDS + BLANK, text)
    whole_seconds = at.replace(microsecond=0)  # the text columns are formatted to the second
    assert dict(Account.objects.values_list("external_id", "created_at")) == {
        "t1": at,
        "t2": at,
        "x1": whole_seconds,
        "x2": whole_seconds,
    }
