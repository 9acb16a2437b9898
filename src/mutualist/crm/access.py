"""Who may see which CRM records. A partner's people see only what their partner took part in.

- accounts: those with an opportunity the partner is involved in;
- opportunities: those the partner is involved in (and of its involvements, only its own);
- leads: those routed to or referred by the partner.
Vendor staff see everything. Unseen records are a 404.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from mutualist.crm.models import Account, Lead, Opportunity, PartnerInvolvement


def _is_authenticated(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def _partner_opportunity_ids(partner_id: int) -> QuerySet[PartnerInvolvement, Any]:
    return PartnerInvolvement.objects.filter(partner_id=partner_id).values("opportunity_id")


def opportunities_visible_to(user: Any) -> QuerySet[Opportunity]:
    if not _is_authenticated(user):
        return Opportunity.objects.none()
    if user.is_partner_user:
        return Opportunity.objects.filter(id__in=_partner_opportunity_ids(user.partner_id))
    return Opportunity.objects.all()


def accounts_visible_to(user: Any) -> QuerySet[Account]:
    if not _is_authenticated(user):
        return Account.objects.none()
    if user.is_partner_user:
        account_ids = Opportunity.objects.filter(
            id__in=_partner_opportunity_ids(user.partner_id)
        ).values("account_id")
        return Account.objects.filter(id__in=account_ids)
    return Account.objects.all()


def leads_visible_to(user: Any) -> QuerySet[Lead]:
    if not _is_authenticated(user):
        return Lead.objects.none()
    if user.is_partner_user:
        return Lead.objects.filter(partner_id=user.partner_id)
    return Lead.objects.all()


def involvements_visible_to(user: Any, opportunity: Opportunity) -> QuerySet[PartnerInvolvement]:
    """A partner sees its own involvement on a deal, never which other partners are on it."""
    involvements = opportunity.involvements.select_related("partner")
    if user.is_partner_user:
        return involvements.filter(partner_id=user.partner_id)
    return involvements


def _get_or_404(queryset: QuerySet[Any], pk: int, what: str) -> Any:
    try:
        return queryset.get(pk=pk)
    except queryset.model.DoesNotExist:
        raise Http404(f"No such {what}.") from None


def get_account_for(user: Any, account_id: int) -> Account:
    return _get_or_404(accounts_visible_to(user), account_id, "account")


def get_opportunity_for(user: Any, opportunity_id: int) -> Opportunity:
    opportunities = opportunities_visible_to(user).select_related("account")
    return _get_or_404(opportunities, opportunity_id, "opportunity")


def get_lead_for(user: Any, lead_id: int) -> Lead:
    return _get_or_404(leads_visible_to(user).select_related("partner"), lead_id, "lead")
