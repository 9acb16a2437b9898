from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from ninja import Schema


class AccountOut(Schema):
    id: int
    name: str
    domain: str
    country: str
    industry: str
    size_band: str
    lifecycle: str
    created_at: datetime
    source_system: str
    external_id: str


class InvolvementOut(Schema):
    partner_id: int
    partner_name: str
    role: str
    attached_at: datetime
    is_primary: bool

    @staticmethod
    def resolve_partner_name(obj: object) -> str:
        return str(obj.partner.name)  # type: ignore[attr-defined]


class OpportunityOut(Schema):
    id: int
    account_id: int
    account_name: str
    name: str
    amount: Decimal | None
    currency: str
    acv: Decimal | None
    stage: str
    is_closed: bool
    is_won: bool
    created_at: datetime
    closed_at: datetime | None
    type: str
    lead_source: str
    source_system: str
    external_id: str

    @staticmethod
    def resolve_account_name(obj: object) -> str:
        return str(obj.account.name)  # type: ignore[attr-defined]


class OpportunityDetailOut(OpportunityOut):
    involvements: list[InvolvementOut]


class LeadOut(Schema):
    id: int
    company: str
    created_at: datetime
    converted_at: datetime | None
    status: str
    source: str
    partner_id: int | None
    account_id: int | None
    source_system: str
    external_id: str
