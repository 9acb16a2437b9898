from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone

from mutualist.crm import access
from mutualist.crm.choices import (
    AccountLifecycle,
    LeadSource,
    LeadStatus,
    OpportunityType,
    SizeBand,
)
from mutualist.crm.models import Opportunity
from mutualist.crm.queries import (
    ACCOUNT_SORTS,
    LEAD_SORTS,
    OPPORTUNITY_SORTS,
    OPPORTUNITY_STATES,
    AccountFilters,
    LeadFilters,
    OpportunityFilters,
    filter_accounts,
    filter_leads,
    filter_opportunities,
)
from mutualist.lib.listing import Column, render_filtered_list


def _iso(value: Any) -> str:
    return value.isoformat() if value else ""


ACCOUNT_COLUMNS = [
    Column("id", lambda a: a.pk),
    Column("name", lambda a: a.name),
    Column("domain", lambda a: a.domain),
    Column("country", lambda a: a.country),
    Column("industry", lambda a: a.industry),
    Column("size_band", lambda a: a.size_band),
    Column("lifecycle", lambda a: a.lifecycle),
    Column("created_at", lambda a: _iso(a.created_at)),
    Column("external_id", lambda a: a.external_id),
]
OPPORTUNITY_COLUMNS = [
    Column("id", lambda o: o.pk),
    Column("name", lambda o: o.name),
    Column("account", lambda o: o.account.name),
    Column("amount", lambda o: o.amount),
    Column("currency", lambda o: o.currency),
    Column("acv", lambda o: o.acv),
    Column("stage", lambda o: o.stage),
    Column("is_closed", lambda o: o.is_closed),
    Column("is_won", lambda o: o.is_won),
    Column("created_at", lambda o: _iso(o.created_at)),
    Column("closed_at", lambda o: _iso(o.closed_at)),
    Column("type", lambda o: o.type),
    Column("lead_source", lambda o: o.lead_source),
    Column("external_id", lambda o: o.external_id),
]
LEAD_COLUMNS = [
    Column("id", lambda lead: lead.pk),
    Column("company", lambda lead: lead.company),
    Column("status", lambda lead: lead.status),
    Column("source", lambda lead: lead.source),
    Column("partner", lambda lead: lead.partner.name if lead.partner else ""),
    Column("created_at", lambda lead: _iso(lead.created_at)),
    Column("converted_at", lambda lead: _iso(lead.converted_at)),
    Column("external_id", lambda lead: lead.external_id),
]


@login_required
def account_list(request: HttpRequest) -> HttpResponseBase:
    visible = access.accounts_visible_to(request.user)
    ctx = {
        "lifecycle_choices": AccountLifecycle.choices,
        "size_choices": SizeBand.choices,
        "sorts": list(ACCOUNT_SORTS),
    }
    return render_filtered_list(
        request,
        ("q", "lifecycle", "industry", "size_band", "country", "sort"),
        "name",
        lambda p: filter_accounts(visible, AccountFilters(**p)),
        ACCOUNT_COLUMNS,
        "crm/account_list.html",
        ctx,
        "accounts",
    )


@login_required
def account_details(request: HttpRequest, account_id: int) -> HttpResponse:
    account = access.get_account_for(request.user, account_id)
    opportunities = access.opportunities_visible_to(request.user).filter(account=account)
    ctx = {
        "account": account,
        "opportunities": opportunities[:50],
        "opportunity_count": opportunities.count(),
        "revenue": account.revenue_months.order_by("-month")[:12]
        if request.user.is_vendor_user  # type: ignore[union-attr]
        else [],
    }
    return render(request, "crm/account_details.html", ctx)


@login_required
def opportunity_list(request: HttpRequest) -> HttpResponseBase:
    visible = access.opportunities_visible_to(request.user).select_related("account")
    ctx = {
        "states": OPPORTUNITY_STATES,
        "type_choices": OpportunityType.choices,
        "sorts": list(OPPORTUNITY_SORTS),
    }
    return render_filtered_list(
        request,
        ("q", "state", "stage", "type", "partner", "account", "sort"),
        "-created",
        lambda p: filter_opportunities(visible, OpportunityFilters(**p)),
        OPPORTUNITY_COLUMNS,
        "crm/opportunity_list.html",
        ctx,
        "opportunities",
    )


@dataclass(frozen=True)
class StageStep:
    stage: str
    since: dt.datetime
    days: int | None  # None: the deal is still in (or closed in) this stage


def stage_timeline(opportunity: Opportunity, now: dt.datetime | None = None) -> list[StageStep]:
    """The imported stage history as consecutive steps. A history row is written on any
    amount or close-date change too, so repeats of the same stage merge into one step."""
    steps: list[tuple[str, dt.datetime]] = []
    for stage, changed_at in opportunity.stage_changes.values_list("stage", "changed_at"):
        if not steps or steps[-1][0] != stage:
            steps.append((stage, changed_at))
    now = now or timezone.now()
    timeline = []
    for i, (stage, since) in enumerate(steps):
        until = steps[i + 1][1] if i + 1 < len(steps) else None
        if until is None and not opportunity.is_closed:
            until = now  # still open: the days so far
        timeline.append(StageStep(stage, since, (until - since).days if until else None))
    return timeline


@login_required
def opportunity_details(request: HttpRequest, opportunity_id: int) -> HttpResponse:
    opportunity = access.get_opportunity_for(request.user, opportunity_id)
    ctx = {
        "opportunity": opportunity,
        "involvements": access.involvements_visible_to(request.user, opportunity),
        "stage_timeline": stage_timeline(opportunity),
    }
    return render(request, "crm/opportunity_details.html", ctx)


@login_required
def lead_list(request: HttpRequest) -> HttpResponseBase:
    visible = access.leads_visible_to(request.user).select_related("partner")
    ctx = {
        "status_choices": LeadStatus.choices,
        "source_choices": LeadSource.choices,
        "sorts": list(LEAD_SORTS),
    }
    return render_filtered_list(
        request,
        ("q", "status", "source", "partner", "sort"),
        "-created",
        lambda p: filter_leads(visible, LeadFilters(**p)),
        LEAD_COLUMNS,
        "crm/lead_list.html",
        ctx,
        "leads",
    )
