"""Agreements in the demo: two templates and agreements in several states, so each page works:
one signed with targets for the first demo partner with logins, one in review with legal's
sign-off for the second, one signed and ending soon (a renewal reminder), and a draft."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from mutualist.accounts.models import User
from mutualist.agreements import actions
from mutualist.agreements.models import Agreement, AgreementTemplate
from mutualist.partners.models import Partner

RESELLER: dict[str, Any] = {
    "name": "Reseller agreement (standard)",
    "agreement_type": "reseller",
    "description": "Resale of the platform with a partner discount, MDF and quarterly reviews.",
    "terms": {
        "territory": "North America",
        "exclusivity": False,
        "term_months": 12,
        "renewal": "manual",
        "discount_pct": "25",
        "commission_pct": "0",
        "mdf_eligible": True,
    },
    "responsibilities": {
        "vendor": [
            "Provide quarterly sales and technical enablement",
            "Accept or reject deal registrations within 2 business days",
            "Give the partner a named alliance manager",
        ],
        "partner": [
            "Keep at least two certified sellers and one certified engineer",
            "Register every opportunity before the first customer meeting",
            "Share a pipeline forecast every month",
        ],
    },
    "kpis": [
        {
            "name": "Sourced pipeline",
            "metric_key": "sourced_pipeline",
            "target": "750000",
            "unit": "USD",
            "cadence": "quarterly",
        },
        {
            "name": "Closed-won revenue",
            "metric_key": "won_revenue",
            "target": "1200000",
            "unit": "USD",
            "cadence": "annual",
        },
        {
            "name": "Certified people",
            "metric_key": "certifications",
            "target": "3",
            "unit": "people",
            "cadence": "annual",
        },
    ],
    "required_approvals": ["approver_legal", "approver_finance", "approver_ops"],
    "coverage": None,
}
REFERRAL: dict[str, Any] = {
    "name": "Referral agreement",
    "agreement_type": "referral",
    "description": "Commission on referred customers that close within 12 months.",
    "terms": {
        "territory": "Worldwide",
        "exclusivity": False,
        "term_months": 24,
        "renewal": "auto",
        "discount_pct": "0",
        "commission_pct": "10",
        "mdf_eligible": False,
    },
    "responsibilities": {
        "vendor": ["Pay commission within 45 days of the customer's first payment"],
        "partner": ["Introduce qualified customers through the referral form"],
    },
    "kpis": [
        {
            "name": "Qualified referrals",
            "metric_key": "leads_referred",
            "target": "5",
            "unit": "referrals",
            "cadence": "quarterly",
        },
    ],
    "required_approvals": ["approver_legal", "approver_finance"],
    "coverage": {
        "approver_legal": [
            "territory",
            "exclusivity",
            "term_months",
            "renewal",
            "responsibilities",
        ],
        "approver_finance": ["commission_pct", "discount_pct", "mdf_eligible", "kpis"],
    },
}


def _partner(username: str) -> Partner | None:
    user = User.objects.filter(username=username).select_related("partner").first()
    return user.partner if user is not None else None


def _sign(agreement: Agreement, roles: list[str]) -> None:
    agreement.refresh_from_db()
    for role in roles:
        approver = User.objects.filter(role=role, is_active=True).order_by("pk").first()
        if approver is not None:
            actions.approve(approver, agreement, agreement.current_version)
            agreement.refresh_from_db()


def load() -> None:
    cpo = User.objects.get(username="cpo")
    if AgreementTemplate.objects.exists():
        return  # loaded already
    reseller = actions.create_template(cpo, RESELLER)
    referral = actions.create_template(cpo, REFERRAL)
    first, second = _partner("partner1-admin"), _partner("partner2-admin")
    today = timezone.localdate()
    if first is not None:
        signed = actions.draft(
            cpo,
            first,
            reseller,
            f"{first.name} reseller agreement",
            today.replace(day=1) - dt.timedelta(days=90),
        )
        actions.edit(
            cpo,
            signed,
            {"terms": {"discount_pct": "27.5"}},
            "Negotiated: 2.5 points more discount for MDF co-funding",
        )
        actions.submit(cpo, signed)
        _sign(signed, reseller.required_approvals)
    if second is not None:
        reviewing = actions.draft(cpo, second, reseller, f"{second.name} reseller agreement", today)
        actions.submit(cpo, reviewing)
        _sign(reviewing, ["approver_legal"])
        ending = actions.draft(
            cpo,
            second,
            referral,
            f"{second.name} referral programme",
            today - dt.timedelta(days=700),
        )
        actions.submit(cpo, ending)
        _sign(ending, referral.required_approvals)
    others = Partner.objects.exclude(pk__in=[p.pk for p in (first, second) if p is not None])
    third = others.order_by("pk").first()
    if third is not None:
        actions.draft(
            cpo, third, referral, f"{third.name} referral agreement", today + dt.timedelta(days=14)
        )
    actions.reminders()
