"""Search, filter and sort of CRM lists, shared by the pages, CSV exports and the API."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from ninja import Schema

from mutualist.crm.choices import (
    AccountLifecycle,
    LeadSource,
    LeadStatus,
    OpportunityType,
    SizeBand,
)
from mutualist.crm.models import Account, Lead, Opportunity, PartnerInvolvement
from mutualist.lib.errors import ValidationFailed

ACCOUNT_SORTS = {
    "name": "name",
    "-name": "-name",
    "created": "created_at",
    "-created": "-created_at",
    "country": "country",
}
OPPORTUNITY_SORTS = {
    "-created": "-created_at",
    "created": "created_at",
    "amount": "amount",
    "-amount": "-amount",
    "closed": "closed_at",
    "-closed": "-closed_at",
    "name": "name",
}
LEAD_SORTS = {"-created": "-created_at", "created": "created_at", "company": "company"}
OPPORTUNITY_STATES = ("open", "won", "lost")


def _choice(
    errors: dict[str, str], field: str, value: str, allowed: list[str] | tuple[str, ...]
) -> None:
    if value and value not in allowed:
        errors[field] = f"unknown value {value!r}; use one of: {', '.join(allowed)}"


def _id(errors: dict[str, str], field: str, value: str) -> None:
    if value and not value.isdigit():
        errors[field] = f"{value!r} is not an id (a whole number)"


def _raise(errors: dict[str, str]) -> None:
    if errors:
        raise ValidationFailed(errors)


class AccountFilters(Schema):
    q: str = ""
    lifecycle: str = ""
    industry: str = ""
    size_band: str = ""
    country: str = ""
    sort: str = "name"


def filter_accounts(accounts: QuerySet[Account], f: AccountFilters) -> QuerySet[Account]:
    errors: dict[str, str] = {}
    _choice(errors, "lifecycle", f.lifecycle, AccountLifecycle.values)
    _choice(errors, "size_band", f.size_band, SizeBand.values)
    _choice(errors, "sort", f.sort, list(ACCOUNT_SORTS))
    _raise(errors)
    if f.q:
        accounts = accounts.filter(Q(name__icontains=f.q) | Q(domain__icontains=f.q))
    filters: dict[str, Any] = {}
    for field in ("lifecycle", "industry", "size_band"):
        if value := getattr(f, field):
            filters[field] = value
    if f.country:
        filters["country"] = f.country.upper()
    return accounts.filter(**filters).order_by(ACCOUNT_SORTS[f.sort], "id")


class OpportunityFilters(Schema):
    q: str = ""
    state: str = ""
    stage: str = ""
    type: str = ""
    partner: str = ""
    account: str = ""
    sort: str = "-created"


def filter_opportunities(
    opportunities: QuerySet[Opportunity], f: OpportunityFilters
) -> QuerySet[Opportunity]:
    errors: dict[str, str] = {}
    _choice(errors, "state", f.state, OPPORTUNITY_STATES)
    _choice(errors, "type", f.type, OpportunityType.values)
    _choice(errors, "sort", f.sort, list(OPPORTUNITY_SORTS))
    _id(errors, "partner", f.partner)
    _id(errors, "account", f.account)
    _raise(errors)
    if f.q:
        opportunities = opportunities.filter(
            Q(name__icontains=f.q) | Q(account__name__icontains=f.q)
        )
    if f.state == "open":
        opportunities = opportunities.filter(is_closed=False)
    elif f.state == "won":
        opportunities = opportunities.filter(is_won=True)
    elif f.state == "lost":
        opportunities = opportunities.filter(is_closed=True, is_won=False)
    if f.stage:
        opportunities = opportunities.filter(stage=f.stage)
    if f.type:
        opportunities = opportunities.filter(type=f.type)
    if f.partner:
        ids = PartnerInvolvement.objects.filter(partner_id=int(f.partner)).values("opportunity_id")
        opportunities = opportunities.filter(id__in=ids)
    if f.account:
        opportunities = opportunities.filter(account_id=int(f.account))
    return opportunities.order_by(OPPORTUNITY_SORTS[f.sort], "-id")


class LeadFilters(Schema):
    q: str = ""
    status: str = ""
    source: str = ""
    partner: str = ""
    sort: str = "-created"


def filter_leads(leads: QuerySet[Lead], f: LeadFilters) -> QuerySet[Lead]:
    errors: dict[str, str] = {}
    _choice(errors, "status", f.status, LeadStatus.values)
    _choice(errors, "source", f.source, LeadSource.values)
    _choice(errors, "sort", f.sort, list(LEAD_SORTS))
    _id(errors, "partner", f.partner)
    _raise(errors)
    if f.q:
        leads = leads.filter(company__icontains=f.q)
    if f.status:
        leads = leads.filter(status=f.status)
    if f.source:
        leads = leads.filter(source=f.source)
    if f.partner:
        leads = leads.filter(partner_id=int(f.partner))
    return leads.order_by(LEAD_SORTS[f.sort], "-id")
