"""A realistic tier program for the demo: Registered, Silver, Gold and Platinum, with revenue
and won-deal thresholds set from the demo ecosystem's own distribution (so that each level has
members), benefits with validity dates, a few recorded certifications, and one evaluation run,
so that the proposals queue has work in it."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

from django.utils import timezone

from mutualist.accounts.models import User
from mutualist.accounts.roles import Role
from mutualist.partners.choices import Status
from mutualist.partners.models import Partner
from mutualist.tiers import actions
from mutualist.tiers.evaluate import evaluate
from mutualist.tiers.metrics import revenue_by_partner, trailing_year
from mutualist.tiers.models import Program

# Share of active partners at or above each level's sourced-revenue threshold.
SHARES = {"silver": 0.55, "gold": 0.3, "platinum": 0.12}
BENEFITS = {
    "registered": {"discount": 5, "dealreg_priority": 4},
    "silver": {"discount": 10, "mdf_rate": 1, "dealreg_priority": 3},
    "gold": {"discount": 15, "mdf_rate": 2, "dealreg_priority": 2},
    "platinum": {"discount": 20, "mdf_rate": 3, "dealreg_priority": 1},
}


def _nice(value: float) -> Decimal:
    """Round down to two significant figures: 184,312 -> 180,000."""
    if value <= 0:
        return Decimal(0)
    step = 10 ** (int(math.log10(value)) - 1)
    return Decimal(int(value // step) * step)


def _quantile(values: list[float], share: float) -> float:
    """The value that `share` of `values` reach or exceed."""
    ordered = sorted(values, reverse=True)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)] if ordered else 0.0


def _won_deals(as_of: dt.date) -> dict[int, int]:
    from mutualist.insights.service import board_for

    board = board_for(trailing_year(as_of), as_of)
    return {p["partner_id"]: int(p["won_deals"]) for p in board["leaderboard"]["partners"]}


def load(as_of: dt.date | None = None) -> Program | None:
    cpo = User.objects.filter(role=Role.CPO, is_active=True).order_by("pk").first()
    if cpo is None or Program.objects.exists():
        return None
    as_of = as_of or timezone.now().date()
    active = list(Partner.objects.filter(status=Status.ACTIVE).values_list("pk", flat=True))
    revenue = revenue_by_partner(trailing_year(as_of))
    sourced = [revenue.get(pk, {}).get("sourced_revenue", 0.0) for pk in active]
    deals = _won_deals(as_of)
    won = [float(deals.get(pk, 0)) for pk in active]
    program = actions.create_program(cpo, {"name": "Partner Network", "grace_days": 90})
    actions.add_level(cpo, program, {"tier": "registered", "rank": 1, "name": "Registered"})
    for rank, tier in enumerate(("silver", "gold", "platinum"), start=2):
        rules = [
            {
                "metric": "sourced_revenue",
                "threshold": _nice(_quantile(sourced, SHARES[tier])),
                "note": f"about the top {SHARES[tier]:.0%} of active partners",
            },
            {"metric": "won_deals", "threshold": max(1, int(_quantile(won, SHARES[tier] + 0.1)))},
        ]
        if tier == "platinum":
            rules.append({"metric": "certifications", "threshold": 2, "note": "recorded by staff"})
        actions.add_level(
            cpo, program, {"tier": tier, "rank": rank, "name": tier.title(), "rules": rules}
        )
    year_start = as_of.replace(month=1, day=1)
    for level in program.levels.all():
        for kind, value in BENEFITS[level.tier].items():
            actions.add_benefit(
                cpo, level, {"kind": kind, "value": value, "valid_from": year_start}
            )
    gold = program.levels.get(tier="gold")
    actions.add_benefit(
        cpo,
        gold,
        {
            "kind": "discount",
            "value": 12,
            "valid_from": year_start.replace(year=year_start.year - 1),
            "valid_to": year_start - dt.timedelta(days=1),
        },
    )
    top = sorted(active, key=lambda pk: -revenue.get(pk, {}).get("sourced_revenue", 0.0))
    for i, pk in enumerate(top[:8]):
        partner = Partner.objects.get(pk=pk)
        actions.record_fact(
            cpo, partner, "certifications", 3 - i % 2, as_of - dt.timedelta(days=40)
        )
    evaluate(program, as_of)
    return program
