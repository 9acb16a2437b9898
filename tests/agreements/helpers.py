"""Builders for agreement tests (and the access matrix): a template, approvers, a signed one."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from mutualist.accounts import actions as account_actions
from mutualist.accounts.models import User
from mutualist.accounts.roles import Role
from mutualist.agreements import actions
from mutualist.agreements.models import Agreement, AgreementTemplate
from mutualist.partners.models import Partner
from tests.conftest import PASSWORD

START = dt.date(2026, 1, 1)


def template_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Reseller standard",
        "agreement_type": "reseller",
        "terms": {
            "territory": "North America",
            "exclusivity": False,
            "term_months": 12,
            "renewal": "manual",
            "discount_pct": "20",
            "commission_pct": "0",
            "mdf_eligible": True,
        },
        "responsibilities": {
            "vendor": ["Provide sales training", "Register deals within 2 days"],
            "partner": ["Keep two certified sellers", "Report pipeline monthly"],
        },
        "kpis": [
            {
                "name": "Sourced pipeline",
                "metric_key": "sourced_pipeline",
                "target": "500000",
                "unit": "USD",
                "cadence": "quarterly",
            },
            {"name": "Certified sellers", "target": "2", "unit": "people", "cadence": "annual"},
        ],
        "required_approvals": ["approver_legal", "approver_finance", "approver_ops"],
        "coverage": None,
    }
    data.update(overrides)
    return data


@dataclass
class Approvers:
    legal: User
    finance: User
    ops: User

    def all(self) -> list[User]:
        return [self.legal, self.finance, self.ops]


def make_approvers(prefix: str = "") -> Approvers:
    return Approvers(
        *(
            account_actions.create_user(None, f"{prefix}{name}", PASSWORD, role)
            for name, role in (
                ("legal", Role.APPROVER_LEGAL),
                ("finance", Role.APPROVER_FINANCE),
                ("ops", Role.APPROVER_OPS),
            )
        )
    )


def make_template(actor: User, **overrides: Any) -> AgreementTemplate:
    return actions.create_template(actor, template_data(**overrides))


def in_review(actor: User, partner: Partner, template: AgreementTemplate) -> Agreement:
    agreement = actions.draft(actor, partner, template, f"{partner.name} reseller 2026", START)
    return actions.submit(actor, agreement)


def signed(actor: User, partner: Partner, approvers: Approvers) -> Agreement:
    """A signed agreement with the partner (the template is made, by a CPO, if none exists)."""
    cpo = User.objects.filter(role=Role.CPO, is_active=True).first() or actor
    template = AgreementTemplate.objects.first() or make_template(cpo)
    agreement = in_review(actor, partner, template)
    for approver in approvers.all():
        actions.approve(approver, agreement, 1)
    agreement.refresh_from_db()
    return agreement
