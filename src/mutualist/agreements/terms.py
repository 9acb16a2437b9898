"""What an agreement says and how it is checked: the key terms, the responsibilities of each
side, the KPIs, which approver role covers which field, and the readable diff of two versions.

Pure functions over plain data (no queries), shared by templates and agreement versions.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from mutualist.accounts.roles import Role
from mutualist.agreements.models import Cadence
from mutualist.agreements.progress import unknown_metric_error
from mutualist.lib import validate
from mutualist.lib.errors import ValidationFailed

APPROVER_ROLES: tuple[str, ...] = (Role.APPROVER_LEGAL, Role.APPROVER_FINANCE, Role.APPROVER_OPS)
RENEWALS = ("auto", "manual", "none")
TERM_LABELS = {
    "territory": "Territory",
    "exclusivity": "Exclusivity",
    "term_months": "Term (months)",
    "renewal": "Renewal",
    "discount_pct": "Discount (%)",
    "commission_pct": "Commission (%)",
    "mdf_eligible": "MDF eligible",
}
TERM_FIELDS: tuple[str, ...] = tuple(TERM_LABELS)
# Every field a version carries and an approver's sign-off can cover.
FIELD_LABELS = {**TERM_LABELS, "responsibilities": "Responsibilities", "kpis": "KPIs"}
VERSIONED_FIELDS: tuple[str, ...] = tuple(FIELD_LABELS)
DEFAULT_COVERAGE: dict[str, list[str]] = {
    Role.APPROVER_LEGAL: ["territory", "exclusivity", "term_months", "renewal", "responsibilities"],
    Role.APPROVER_FINANCE: ["discount_pct", "commission_pct", "mdf_eligible"],
    Role.APPROVER_OPS: ["responsibilities", "kpis"],
}
MAX_ITEMS = 50


def role_label(role: str) -> str:
    return str(Role(role).label) if role in Role.values else role


def _percent(value: Any, field: str, errors: dict[str, str]) -> str:
    try:
        number = Decimal(str(value).strip() or "0").quantize(Decimal("0.01"))
        if not number.is_finite() or not 0 <= number <= 100:
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        errors[field] = f"{value!r} is not a percentage; give a number from 0 to 100 such as 12.5"
        return "0.00"
    return str(number)


def _flag(value: Any, field: str, errors: dict[str, str]) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "on", "1"):
        return True
    if text in ("false", "no", "off", "0", ""):
        return False
    errors[field] = f"{value!r} is not yes or no; use true or false"
    return False


def clean_terms(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """The key terms, checked and normalised (percentages as strings, so no cent is lost)."""
    errors: dict[str, str] = {}
    for name in sorted(set(data) - set(TERM_FIELDS)):
        errors[prefix + name] = f"is not a term; the terms are: {', '.join(TERM_FIELDS)}"
    territory = str(data.get("territory") or "").strip()
    if message := validate.text_error(territory, 200, required=True):
        errors[prefix + "territory"] = (
            message if territory else "is required: where the partner may sell, e.g. 'EMEA'"
        )
    raw_months = data.get("term_months", 12)
    try:
        months = int(str(raw_months).strip())
        if not 1 <= months <= 120:
            raise ValueError
    except ValueError:
        errors[prefix + "term_months"] = (
            f"{raw_months!r} is not a term; give a whole number of months from 1 to 120"
        )
        months = 12
    renewal = str(data.get("renewal") or "manual").strip()
    if message := validate.choice_error(renewal, RENEWALS, "renewal"):
        errors[prefix + "renewal"] = message
    terms = {
        "territory": territory,
        "exclusivity": _flag(data.get("exclusivity", False), prefix + "exclusivity", errors),
        "term_months": months,
        "renewal": renewal,
        "discount_pct": _percent(data.get("discount_pct", 0), prefix + "discount_pct", errors),
        "commission_pct": _percent(
            data.get("commission_pct", 0), prefix + "commission_pct", errors
        ),
        "mdf_eligible": _flag(data.get("mdf_eligible", False), prefix + "mdf_eligible", errors),
    }
    if errors:
        raise ValidationFailed(errors)
    return terms


def clean_responsibilities(data: Any) -> dict[str, list[str]]:
    if not isinstance(data, Mapping):
        raise ValidationFailed(
            {"responsibilities": "must list each side's duties: {vendor: [...], partner: [...]}"}
        )
    errors: dict[str, str] = {}
    for name in sorted(set(data) - {"vendor", "partner"}):
        errors[f"responsibilities.{name}"] = "is not a side; use vendor and partner"
    cleaned: dict[str, list[str]] = {}
    for side in ("vendor", "partner"):
        items = data.get(side) or []
        if isinstance(items, str):
            items = items.splitlines()
        lines = [str(item).strip() for item in items if str(item).strip()]
        if len(lines) > MAX_ITEMS:
            errors[f"responsibilities.{side}"] = f"has {len(lines)} items; at most {MAX_ITEMS}"
        if any(len(line) > 500 for line in lines):
            errors[f"responsibilities.{side}"] = "has an item over 500 characters; shorten it"
        cleaned[side] = lines
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def clean_kpis(data: Any) -> list[dict[str, Any]]:
    if not isinstance(data, list):
        raise ValidationFailed({"kpis": "must be a list of KPIs"})
    errors: dict[str, str] = {}
    kpis: list[dict[str, Any]] = []
    names: set[str] = set()
    for i, raw in enumerate(data[: MAX_ITEMS + 1]):
        where = f"kpis[{i}]"
        if not isinstance(raw, Mapping):
            errors[where] = "must be a KPI: {name, target, unit, cadence}"
            continue
        name = str(raw.get("name") or "").strip()
        if message := validate.text_error(name, 200, required=True):
            errors[f"{where}.name"] = message
        elif name.lower() in names:
            errors[f"{where}.name"] = f"{name!r} appears twice; give each KPI its own name"
        names.add(name.lower())
        target = raw.get("target")
        try:
            if target is None or str(target).strip() == "":
                raise ValueError("missing")
            value = Decimal(str(target).strip()).quantize(Decimal("0.01"))
            if not value.is_finite() or value <= 0 or value >= Decimal("1e15"):
                raise InvalidOperation
        except ValueError:
            errors[f"{where}.target"] = (
                f"is required: the number {name or 'this KPI'} must reach, e.g. 250000"
            )
            value = Decimal(0)
        except InvalidOperation:
            errors[f"{where}.target"] = f"{target!r} is not a positive number such as 250000"
            value = Decimal(0)
        cadence = str(raw.get("cadence") or "").strip()
        if message := validate.choice_error(cadence, tuple(Cadence.values), "review cadence"):
            errors[f"{where}.cadence"] = message
        unit = str(raw.get("unit") or "").strip()
        metric_key = str(raw.get("metric_key") or "").strip()
        if len(unit) > 32:
            errors[f"{where}.unit"] = "is over 32 characters; use a short unit such as USD or deals"
        if message := unknown_metric_error(metric_key):
            errors[f"{where}.metric_key"] = message
        kpis.append(
            {
                "name": name,
                "metric_key": metric_key,
                "target": str(value),
                "unit": unit,
                "cadence": cadence,
            }
        )
    if len(data) > MAX_ITEMS:
        errors["kpis"] = f"has {len(data)} KPIs; at most {MAX_ITEMS}"
    if errors:
        raise ValidationFailed(errors)
    return kpis


def clean_approvals(required: Any, coverage: Any) -> tuple[list[str], dict[str, list[str]]]:
    """The approver roles that sign off and the fields each covers. A role must cover at least
    one field (else its sign-off would never be reset) and may name only known fields."""
    errors: dict[str, str] = {}
    roles = [str(r) for r in required] if isinstance(required, list | tuple) else []
    if not roles:
        errors["required_approvals"] = (
            f"name at least one approver role: {', '.join(APPROVER_ROLES)}"
        )
    for role in roles:
        if role not in APPROVER_ROLES:
            errors["required_approvals"] = (
                f"{role!r} is not an approver role; use one of: {', '.join(APPROVER_ROLES)}"
            )
    if len(set(roles)) != len(roles):
        errors["required_approvals"] = "names a role twice"
    if coverage is None:
        coverage = {r: DEFAULT_COVERAGE[r] for r in roles if r in DEFAULT_COVERAGE}
    if not isinstance(coverage, Mapping):
        errors["coverage"] = "must map each approver role to the fields it signs off"
        coverage = {}
    cleaned: dict[str, list[str]] = {}
    for role, fields in coverage.items():
        where = f"coverage.{role}"
        if role not in roles:
            errors[where] = f"{role!r} is not among the required approvals ({', '.join(roles)})"
            continue
        names = [str(f) for f in fields] if isinstance(fields, list | tuple) else []
        unknown = [f for f in names if f not in VERSIONED_FIELDS]
        if unknown:
            errors[where] = (
                f"{', '.join(map(repr, unknown))} is not a field; use: {', '.join(VERSIONED_FIELDS)}"
            )
        cleaned[role] = [f for f in VERSIONED_FIELDS if f in names]
    for role in roles:
        if role in APPROVER_ROLES and not cleaned.get(role) and f"coverage.{role}" not in errors:
            errors[f"coverage.{role}"] = (
                "covers no field; list the fields this approver signs off, e.g. "
                + ", ".join(DEFAULT_COVERAGE[role])
            )
    if errors:
        raise ValidationFailed(errors)
    return roles, cleaned


# --- diff ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldChange:
    field: str
    label: str
    old: str
    new: str
    lines: list[str]  # for long text: difflib's +/- lines; empty for short values


def content(version: Any) -> dict[str, Any]:
    """A version's fields as one flat mapping, keyed like `VERSIONED_FIELDS`."""
    return {
        **{name: version.terms.get(name) for name in TERM_FIELDS},
        "responsibilities": version.responsibilities,
        "kpis": version.kpis,
    }


def display(field: str, value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if field == "responsibilities":
        return "\n".join(
            f"{side.capitalize()}: {item}"
            for side in ("vendor", "partner")
            for item in value.get(side, [])
        )
    if field == "kpis":
        return "\n".join(
            f"{k['name']}: {k['target']} {k['unit']} ({k['cadence']})".replace("  ", " ")
            for k in value
        )
    return str(value)


def changed_fields(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    return [name for name in VERSIONED_FIELDS if old.get(name) != new.get(name)]


def diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[FieldChange]:
    """Per changed field: old → new; list fields also as a line diff."""
    changes = []
    for name in changed_fields(old, new):
        before, after = display(name, old.get(name)), display(name, new.get(name))
        lines: list[str] = []
        if name in ("responsibilities", "kpis"):
            lines = [
                line
                for line in difflib.ndiff(before.splitlines(), after.splitlines())
                if line[:2] in ("- ", "+ ")
            ]
        changes.append(FieldChange(name, FIELD_LABELS[name], before, after, lines))
    return changes


def roles_affected(coverage: Mapping[str, list[str]], changed: list[str]) -> dict[str, list[str]]:
    """Each approver role whose covered fields changed, with those fields."""
    affected = {}
    for role, fields in coverage.items():
        hit = [f for f in changed if f in fields]
        if hit:
            affected[role] = hit
    return affected
