"""Helpers every reader shares: turning cell parse errors into Problems, anomaly warnings,
de-duplication by id, and company attributes (domain, country, size band)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import TypeVar

from mutualist.imports.batch import Problem
from mutualist.imports.parsing import CellError
from mutualist.lib.countries import country_code
from mutualist.lib.validate import domain_error, normalise_domain

T = TypeVar("T")


class RowReader:
    """Parses the cells of one file, collecting a Problem per bad cell instead of stopping."""

    def __init__(self, file: str, problems: list[Problem]) -> None:
        self.file = file
        self.problems = problems
        self.row = 0
        self.ok = True

    def start(self, row: int) -> None:
        self.row, self.ok = row, True

    def cell(self, record: dict[str, str], column: str, parse: Callable[[str], T]) -> T | None:
        text = record.get(column, "")
        try:
            return parse(text)
        except CellError as exc:
            self.error(column, text, exc.reason, exc.hint, "invalid_value")
            return None

    def required(self, record: dict[str, str], column: str, parse: Callable[[str], T]) -> T | None:
        if not record.get(column, "").strip():
            self.error(column, "", "is empty", f"Every row needs a {column}.", "missing_value")
            return None
        return self.cell(record, column, parse)

    def error(self, column: str, value: str, reason: str, hint: str, code: str) -> None:
        self.ok = False
        self.problems.append(
            Problem(self.file, self.row, column, value, reason, hint, "error", code)
        )

    def warn(self, column: str, value: str, reason: str, hint: str, code: str) -> None:
        self.problems.append(
            Problem(self.file, self.row, column, value, reason, hint, "warning", code)
        )


def seen_before(seen: set[str], ref: str, rows: RowReader, column: str) -> bool:
    """True (with a duplicate_id warning) when `ref` already appeared in this import."""
    if ref in seen:
        rows.warn(
            column,
            ref,
            "repeats an id already read",
            "The later row is skipped; remove the duplicate from the export.",
            "duplicate_id",
        )
        return True
    seen.add(ref)
    return False


def company_domain(text: str, rows: RowReader, column: str) -> str:
    domain = normalise_domain(text)
    if domain and domain_error(domain):
        rows.warn(
            column,
            text,
            "is not a web domain",
            "The domain is left empty; fix the website in the CRM for account matching.",
            "bad_domain",
        )
        return ""
    return domain


def company_country(text: str, rows: RowReader, column: str) -> str:
    if not text.strip():
        return ""
    code = country_code(text)
    if code is None:
        rows.warn(
            column,
            text,
            "is not a country we recognise",
            "Use an ISO code such as US or the English country name; the country is left empty.",
            "unknown_country",
        )
        return ""
    return code


def size_band(employees: int | None) -> str:
    if employees is None:
        return ""
    if employees < 200:
        return "smb"
    if employees < 2000:
        return "mid_market"
    return "enterprise"


def parse_int(text: str) -> int | None:
    value = text.strip().replace(",", "")
    if not value:
        return None
    try:
        return int(float(value))
    except ValueError:
        raise CellError("is not a whole number", "Give a count such as 250.") from None


# Data anomalies every deal reader reports the same way: (reason, hint, code), or None.
Finding = tuple[str, str, str]


def amount_finding(text: str, amount: Decimal | None) -> Finding | None:
    if not text.strip():
        return (
            "is empty",
            "The deal is imported without an amount and left out of pipeline "
            "and ACV totals; fill it in the CRM and import again.",
            "missing_amount",
        )
    if amount is not None and amount < 0:
        return (
            "is negative",
            "Imported as is; a credit or refund usually belongs in billing, not on a deal.",
            "negative_amount",
        )
    return None


def close_before_create_finding(created: dt.datetime, closed: dt.datetime) -> Finding | None:
    # Compare days, not instants: a date-only close date is midnight and would otherwise
    # precede a same-day creation time.
    if closed.date() < created.date():
        return (
            f"is before the deal was created ({created.date().isoformat()})",
            "Imported as is, but its sales cycle is negative; usually the deal was entered "
            "after the fact with a back-dated close date.",
            "close_before_create",
        )
    return None
