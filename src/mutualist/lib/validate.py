"""Field validators shared by actions. Each returns an error message or None."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from mutualist.lib.countries import COUNTRY_CODES

DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
SCHEME_RE = re.compile(r"^[a-z][a-z0-9+.-]*://")


def normalise_domain(value: str) -> str:
    """'https://www.Example.com/about' -> 'example.com': people paste URLs into domain fields."""
    domain = value.strip().lower()
    domain = SCHEME_RE.sub("", domain)
    domain = domain.split("/", 1)[0].split("?", 1)[0].split(":", 1)[0]
    domain = domain.strip().removeprefix("www.")
    return domain.rstrip(".").strip()


def domain_error(domain: str) -> str | None:
    if domain and not DOMAIN_RE.match(domain):
        return f"{domain!r} is not a web domain; give one like example.com"
    return None


def country_error(code: str) -> str | None:
    if code and code not in COUNTRY_CODES:
        return (
            f"{code!r} is not an ISO 3166-1 alpha-2 country code; use two letters such as US or DE"
        )
    return None


def currency_error(code: str) -> str | None:
    if not CURRENCY_RE.match(code):
        return f"{code!r} is not an ISO 4217 currency code; use three capital letters such as USD"
    return None


def choice_error(value: str, allowed: list[str] | tuple[str, ...], what: str) -> str | None:
    if value not in allowed:
        return f"{value!r} is not a known {what}; use one of: {', '.join(allowed)}"
    return None


def text_error(value: str, max_length: int, required: bool = False) -> str | None:
    if required and not value.strip():
        return "is required"
    if len(value) > max_length:
        return f"is {len(value)} characters long; at most {max_length} are allowed"
    return None


def whole_number(value: object, field: str, errors: dict[str, str], low: int, high: int) -> int:
    """Parse a whole number from a form or JSON value; a problem goes into `errors[field]`."""
    try:
        number = int(str(value).strip())
    except ValueError:
        errors[field] = f"{value!r} is not a whole number; give one from {low} to {high}"
        return low
    if not low <= number <= high:
        errors[field] = f"{number} is out of range; give a number from {low} to {high}"
    return number


def decimal_number(
    value: object, field: str, errors: dict[str, str], example: str = "3 or 3.5"
) -> Decimal | None:
    """Parse a finite decimal from a form or JSON value; a problem goes into `errors[field]`
    (the message shows `example`) and the result is None."""
    try:
        number = Decimal(str(value).strip())
        if not number.is_finite():
            raise InvalidOperation
        return number
    except (InvalidOperation, ValueError):
        errors[field] = f"{value!r} is not a number; give one like {example}"
        return None
