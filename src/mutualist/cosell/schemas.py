from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ninja import Schema


class RegistrationIn(Schema):
    """Everything is checked by the action, which names each bad field and says how to fix it."""

    company_name: str | None = None
    domain: str | None = None
    country: str | None = None
    contact_name: str | None = None
    contact_email: str | None = None
    product: str | None = None
    amount: str | float | int | None = None
    currency: str | None = None
    expected_close: str | None = None
    notes: str | None = None


class ReasonOut(Schema):
    code: str
    message: str
    kind: str | None = None  # vendor staff only
    object_id: int | None = None  # vendor staff only


class RegistrationOut(Schema):
    id: int
    partner_id: int
    status: str
    submitted_at: dt.datetime
    company_name: str
    domain: str
    country: str
    contact_name: str
    contact_email: str
    product: str
    amount: Decimal
    currency: str
    expected_close: dt.date
    rules_version: int
    reasons: list[ReasonOut]
    decided_at: dt.datetime | None
    decision_reason: str
    protected_until: dt.datetime | None
    extensions_granted: int
    appeal: str
    opportunity_id: int | None


class ReasonIn(Schema):
    reason: str = ""


class AppealIn(Schema):
    text: str = ""


class AppealDecisionIn(Schema):
    overturn: bool
    reason: str = ""


class SlaOut(Schema):
    sla_hours: int
    decided: int
    within_sla: dict[str, Any]
    median_hours: float | None
    p90_hours: float | None
    overdue: int
    waiting: int
    median_low: float | None = None
    median_high: float | None = None
