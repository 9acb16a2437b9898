from typing import Any

from django.http import HttpRequest
from ninja import Query, Router
from ninja.pagination import paginate

from mutualist.crm import access
from mutualist.crm.queries import (
    AccountFilters,
    LeadFilters,
    OpportunityFilters,
    filter_accounts,
    filter_leads,
    filter_opportunities,
)
from mutualist.crm.schemas import AccountOut, LeadOut, OpportunityDetailOut, OpportunityOut
from mutualist.lib.pagination import PagePagination

router = Router(tags=["crm"])


@router.get("/accounts", response=list[AccountOut])
@paginate(PagePagination)
def list_accounts(request: HttpRequest, filters: Query[AccountFilters]) -> Any:
    return filter_accounts(access.accounts_visible_to(request.user), filters)


@router.get("/accounts/{account_id}", response=AccountOut)
def get_account(request: HttpRequest, account_id: int) -> Any:
    return access.get_account_for(request.user, account_id)


@router.get("/opportunities", response=list[OpportunityOut])
@paginate(PagePagination)
def list_opportunities(request: HttpRequest, filters: Query[OpportunityFilters]) -> Any:
    opportunities = access.opportunities_visible_to(request.user).select_related("account")
    return filter_opportunities(opportunities, filters)


@router.get("/opportunities/{opportunity_id}", response=OpportunityDetailOut)
def get_opportunity(request: HttpRequest, opportunity_id: int) -> Any:
    return access.get_opportunity_for(request.user, opportunity_id)


@router.get("/leads", response=list[LeadOut])
@paginate(PagePagination)
def list_leads(request: HttpRequest, filters: Query[LeadFilters]) -> Any:
    return filter_leads(access.leads_visible_to(request.user), filters)


@router.get("/leads/{lead_id}", response=LeadOut)
def get_lead(request: HttpRequest, lead_id: int) -> Any:
    return access.get_lead_for(request.user, lead_id)
