from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from ninja import Schema

from mutualist.crm.access import involvements_visible_to
from mutualist.crm.models import Opportunity


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

    @staticmethod
    def resolve_involvements(obj: Opportunity, context: dict[str, Any]) -> list[Any]:
        # Through access: a partner sees its own involvement, not the other partners on the deal.
        return list(involvements_visible_to(context["request"].user, obj))


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
