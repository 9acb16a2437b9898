from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Schema


class PopulationOut(Schema):
    id: int
    key: str
    name: str
    base: str
    country: str
    industry: str
    size: str  # exact for one's own populations; "fewer than N" where suppressed


class ColumnOut(PopulationOut):
    level: str
    fields: list[str]


class CellOut(Schema):
    mine: int
    theirs: int
    count: int | None
    label: str
    can_drill: bool


class MatrixOut(Schema):
    partner_id: int
    viewer: str
    state: str
    min_count: int
    rows: list[PopulationOut]
    columns: list[ColumnOut]
    cells: list[CellOut]


class OverlapRowOut(Schema):
    company_id: int
    mine: list[dict[str, Any]]
    theirs: list[dict[str, Any]]


class SuggestionOut(Schema):
    play: str
    mine: dict[str, Any]
    theirs: dict[str, Any]
    value: float | None


class SharingRuleOut(Schema):
    population: int
    key: str
    name: str
    level: str
    fields: list[str]


class SharingOut(Schema):
    partner_id: int
    side: str
    state: str
    vendor_opted_in_at: datetime | None
    partner_opted_in_at: datetime | None
    mode: str
    min_count: int
    rules: list[SharingRuleOut]


class SharingRuleIn(Schema):
    level: str
    fields: list[str] | None = None


class OptInIn(Schema):
    opted_in: bool


class AccountListOut(Schema):
    id: int
    partner_id: int
    file_name: str
    sha256: str
    is_blind: bool
    status: str
    stage: str
    progress: float
    row_count: int
    matched_count: int
    message: str
    uploaded_at: datetime
    finished_at: datetime | None


class ReviewLinkOut(Schema):
    """A partner record linked to one of our companies with medium confidence."""

    id: int
    external_id: str
    name: str
    domain: str
    country: str
    company_id: int
    company_name: str
    company_domain: str
    reason: str


class ReviewDecisionIn(Schema):
    decision: str  # confirmed | rejected
