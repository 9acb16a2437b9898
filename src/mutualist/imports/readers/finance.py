"""The billing system's revenue file and finance's costs and exchange-rate files.

revenue: `account_id, month, mrr, currency` (account_id is the account's id in the CRM export,
month `YYYY-MM`). costs: `period, category, amount, currency` and optional `partner_id, program`.
rates: `month, currency, rate` — one unit of `currency` in the reporting currency that month.
"""

from __future__ import annotations

from decimal import Decimal

from mutualist.imports.batch import Batch, CostRecord, RateRecord, RevenueRecord
from mutualist.imports.parsing import (
    CsvTable,
    missing_columns,
    parse_currency,
    parse_decimal,
    parse_month,
)
from mutualist.imports.readers.common import RowReader

REVENUE_COLUMNS = ["account_id", "month", "mrr"]
COST_COLUMNS = ["period", "category", "amount"]
RATE_COLUMNS = ["month", "currency", "rate"]
COST_CATEGORIES = ("sales", "marketing", "partner_team", "mdf", "commissions", "tooling")


def is_revenue(table: CsvTable) -> bool:
    return set(REVENUE_COLUMNS) <= set(table.header)


def is_costs(table: CsvTable) -> bool:
    return set(COST_COLUMNS) <= set(table.header)


def is_rates(table: CsvTable) -> bool:
    return set(RATE_COLUMNS) <= set(table.header)


def _start(
    table: CsvTable, batch: Batch, kind: str, columns: list[str], hint: str
) -> RowReader | None:
    """Record the file; a reader for its rows, or None when required columns are missing."""
    batch.files.append(table.info(kind))
    missing = missing_columns(table, columns, hint)
    batch.problems += missing
    return None if missing else RowReader(table.name, batch.problems)


def read_revenue(table: CsvTable, batch: Batch, default_currency: str) -> None:
    rows = _start(
        table,
        batch,
        "revenue",
        REVENUE_COLUMNS,
        "A revenue file has account_id, month (YYYY-MM), mrr, currency.",
    )
    if rows is None:
        return
    seen: set[tuple[str, object]] = set()
    for number, record in table.records():
        rows.start(number)
        account = record.get("account_id", "").strip()
        if not account:
            rows.error(
                "account_id",
                "",
                "is empty",
                "Give the account's id from the CRM export.",
                "missing_value",
            )
        month = rows.required(record, "month", parse_month)
        mrr = rows.required(record, "mrr", parse_decimal)
        currency = rows.cell(record, "currency", lambda t: parse_currency(t, default_currency))
        if not rows.ok or month is None or mrr is None or currency is None:
            continue
        if mrr < 0:
            rows.warn(
                "mrr",
                record["mrr"],
                "is negative",
                "Recurring revenue is at least 0; credits belong in billing, not MRR.",
                "negative_amount",
            )
        if (account, month) in seen:
            rows.warn(
                "month",
                record["month"],
                "repeats an account and month already read",
                "The later row is skipped.",
                "duplicate_id",
            )
            continue
        seen.add((account, month))
        batch.revenue.append(RevenueRecord(account, month, mrr, currency))


def read_costs(table: CsvTable, batch: Batch, default_currency: str) -> None:
    rows = _start(
        table,
        batch,
        "costs",
        COST_COLUMNS,
        "A costs file has period (YYYY-MM), category, amount, currency.",
    )
    if rows is None:
        return
    for number, record in table.records():
        rows.start(number)
        month = rows.required(record, "period", parse_month)
        category = record.get("category", "").strip().lower()
        if category not in COST_CATEGORIES:
            rows.error(
                "category",
                record.get("category", ""),
                "is not a cost category",
                f"Use one of: {', '.join(COST_CATEGORIES)}.",
                "invalid_value",
            )
        amount = rows.required(record, "amount", parse_decimal)
        currency = rows.cell(record, "currency", lambda t: parse_currency(t, default_currency))
        if not rows.ok or month is None or amount is None or currency is None:
            continue
        if amount < Decimal(0):
            rows.warn(
                "amount",
                record["amount"],
                "is negative",
                "Costs are positive; a refund should reduce the month's amount.",
                "negative_amount",
            )
        batch.costs.append(
            CostRecord(
                month,
                category,
                amount,
                currency,
                record.get("partner_id", "").strip(),
                record.get("program", "").strip(),
            )
        )


def read_rates(table: CsvTable, batch: Batch, reporting_currency: str) -> None:
    """Monthly rates into the reporting currency; a rate for the reporting currency itself
    must be 1 (anything else would silently rescale every figure)."""
    rows = _start(
        table, batch, "rates", RATE_COLUMNS, "A rates file has month (YYYY-MM), currency, rate."
    )
    if rows is None:
        return
    seen: set[tuple[object, str]] = set()
    for number, record in table.records():
        rows.start(number)
        month = rows.required(record, "month", parse_month)
        currency = rows.required(record, "currency", lambda t: parse_currency(t, ""))
        rate = rows.required(record, "rate", parse_decimal)
        if not rows.ok or month is None or currency is None or rate is None:
            continue
        if rate <= 0:
            rows.error(
                "rate",
                record["rate"],
                "is not a positive rate",
                f"Give how many {reporting_currency} one {currency} was worth, e.g. 1.08.",
                "invalid_value",
            )
            continue
        if currency == reporting_currency and rate != 1:
            rows.error(
                "rate",
                record["rate"],
                f"is the rate of the reporting currency {reporting_currency} itself",
                "It is always 1; leave the row out.",
                "invalid_value",
            )
            continue
        if (month, currency) in seen:
            rows.warn(
                "month",
                record["month"],
                "repeats a currency and month already read",
                "The later row is skipped.",
                "duplicate_id",
            )
            continue
        seen.add((month, currency))
        batch.rates.append(RateRecord(month, currency, rate))
