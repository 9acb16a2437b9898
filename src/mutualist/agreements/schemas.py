from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ninja import Schema


class ApprovalOut(Schema):
    role: str
    approver: str
    approved_at: dt.datetime
    carried_over: bool


class AgreementOut(Schema):
    id: int
    partner_id: int
    template_id: int
    title: str
    agreement_type: str
    status: str
    start_on: dt.date
    end_on: dt.date
    renewal_notice_days: int
    version: int
    signed_at: dt.datetime | None
    required_approvals: list[str]
    terms: dict[str, Any]
    responsibilities: dict[str, list[str]]
    kpis: list[dict[str, str]]
    approvals: list[ApprovalOut]
    renews_id: int | None = None


class FieldChangeOut(Schema):
    field: str
    label: str
    old: str
    new: str
    lines: list[str]


class DiffOut(Schema):
    from_version: int
    to_version: int
    changes: list[FieldChangeOut]


class DraftIn(Schema):
    partner_id: int
    template_id: int
    title: str
    start_on: str
    renewal_notice_days: int = 60


class EditIn(Schema):
    """The fields to change (`terms`, `responsibilities`, `kpis`; others keep their value), a
    note, and the version you edited (409 if a newer one was saved since)."""

    changes: dict[str, Any]
    note: str = ""
    based_on: int | None = None


class TerminateIn(Schema):
    reason: str


class RenewIn(Schema):
    """The renewal's title; blank keeps the renewed agreement's."""

    title: str = ""


class ApproveIn(Schema):
    """The version you reviewed: approving it fails with 409 if a newer one exists. Without it,
    the current version is approved."""

    version: int | None = None


class TargetPeriodOut(Schema):
    """A target over one review period: the actual with the count it rests on (and a 95%
    interval for rates), the pro-rated target so far while it runs, and the verdict."""

    start: dt.date
    end: dt.date
    running: bool
    actual: float | None
    n: int | None
    low: float | None
    high: float | None
    target: float
    expected: float | None
    attainment: float | None
    status: str
    note: str


class TargetOut(Schema):
    id: int
    agreement_id: int
    name: str
    metric_key: str
    target: Decimal
    unit: str
    cadence: str
    period_start: dt.date
    period_end: dt.date
    current: TargetPeriodOut | None = None


class TargetProgressOut(TargetOut):
    periods: list[TargetPeriodOut]


class KpiIn(Schema):
    name: str = ""
    target: str | int | float | None = None
    unit: str = ""
    cadence: str = ""
    metric_key: str = ""


class TemplateIn(Schema):
    """A template's content. On PUT, a field left out keeps its value; naming the approver roles
    without `coverage` gives each role its default coverage."""

    name: str | None = None
    agreement_type: str | None = None
    description: str | None = None
    terms: dict[str, Any] | None = None
    responsibilities: dict[str, list[str]] | None = None
    kpis: list[KpiIn] | None = None
    required_approvals: list[str] | None = None
    coverage: dict[str, list[str]] | None = None


class TemplateOut(Schema):
    id: int
    name: str
    agreement_type: str
    description: str
    terms: dict[str, Any]
    responsibilities: dict[str, list[str]]
    kpis: list[dict[str, str]]
    required_approvals: list[str]
    coverage: dict[str, list[str]]
    created_at: dt.datetime
