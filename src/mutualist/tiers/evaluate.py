"""Eligibility, computed on a schedule (`mutualist tiers evaluate`) and kept apart from assignment.

For each active partner, the highest level whose rules all hold is its eligible tier. When that
differs from the tier in force, a `Proposal` waits for the partner's owner or the CPO: an
upgrade takes effect the day after the evaluation, a downgrade after the program's grace
period. A partner who is eligible for its tier again before a pending change takes effect has
that change superseded, as has a pending change whose target the partner no longer meets.
Nothing here changes a partner's tier.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from mutualist.audit.log import record
from mutualist.cosell.notify import deciders_for, notify
from mutualist.partners.choices import Status, Tier
from mutualist.partners.models import Partner
from mutualist.tiers.actions import tier_on
from mutualist.tiers.choices import OPEN_STATUSES, Operator, ProposalStatus
from mutualist.tiers.metrics import METRICS, Measures
from mutualist.tiers.models import Evaluation, Level, Program, Proposal


def passes(value: float | None, operator: str, threshold: Decimal) -> bool:
    """A missing value (no data, or a rate with too small a sample) never passes."""
    if value is None:
        return False
    if operator == Operator.AT_MOST:
        return value <= float(threshold)
    return value >= float(threshold)


def check_levels(
    levels: list[Level], measures: Measures, partner_id: int
) -> tuple[str, list[dict[str, Any]]]:
    """(eligible tier, one detail per rule). `levels` come best first."""
    details: list[dict[str, Any]] = []
    eligible: str | None = None
    for level in levels:
        met = True
        for rule in level.rules.all():
            value = measures.value(rule.metric, partner_id)
            ok = passes(value, rule.operator, rule.threshold)
            met = met and ok
            details.append(
                {
                    "level": level.name,
                    "tier": level.tier,
                    "rule_id": rule.pk,
                    "metric": rule.metric,
                    "label": METRICS[rule.metric].label,
                    "operator": rule.operator,
                    "threshold": float(rule.threshold),
                    "value": value,
                    "passed": ok,
                }
            )
        if met and eligible is None:
            eligible = level.tier
    return eligible or Tier.NONE.value, details


def _proposal_url(proposal: Proposal) -> str:
    try:
        return reverse("tier-proposal", args=[proposal.pk])
    except NoReverseMatch:  # the tiers pages are not mounted (a CLI-only set-up)
        return ""


class _Ranks:
    def __init__(self, levels: list[Level]) -> None:
        self.by_tier = {level.tier: level.rank for level in levels}

    def __call__(self, tier: str) -> int:
        return self.by_tier.get(tier, -1)


def _propose(
    program: Program, evaluation: Evaluation, ranks: _Ranks, now: dt.datetime
) -> Proposal | None:
    """Keep, supersede or make the partner's proposal so that it matches this evaluation."""
    partner, eligible = evaluation.partner, evaluation.eligible_tier
    open_ones = Proposal.objects.select_for_update(of=("self",)).filter(
        partner=partner, program=program, status__in=OPEN_STATUSES
    )
    changing = eligible != evaluation.current_tier
    for stale in list(open_ones.exclude(to_tier=eligible) if changing else open_ones):
        stale.status = ProposalStatus.SUPERSEDED
        stale.decision_note = (
            f"Superseded by the evaluation of {evaluation.as_of}: eligible for "
            f"{eligible or 'no tier'}."
        )
        stale.save(update_fields=["status", "decision_note"])
        record(None, "tiers.proposal.supersede", stale, after={"status": stale.status})
    if eligible == evaluation.current_tier or open_ones.filter(to_tier=eligible).exists():
        return None
    downgrade = ranks(eligible) < ranks(evaluation.current_tier)
    effective = evaluation.as_of + dt.timedelta(days=program.grace_days if downgrade else 1)
    proposal = Proposal.objects.create(
        partner=partner,
        program=program,
        evaluation=evaluation,
        from_tier=evaluation.current_tier,
        to_tier=eligible,
        reason=_reason(evaluation),
        proposed_at=now,
        effective_on=effective,
        grace_until=effective if downgrade else None,
    )
    record(
        None,
        "tiers.proposal.create",
        proposal,
        after={"from": proposal.from_tier, "to": eligible, "effective_on": effective},
    )
    change = "downgrade" if downgrade else "upgrade"
    notify(
        deciders_for(partner),
        "tier.proposed",
        f"{partner.name}: {change} to {eligible or 'no tier'} proposed (effective {effective}); "
        "approve or reject it.",
        _proposal_url(proposal),
    )
    return proposal


def _reason(evaluation: Evaluation) -> str:
    failed = [
        d for d in evaluation.details if d["tier"] == evaluation.current_tier and not d["passed"]
    ]
    met = [d for d in evaluation.details if d["tier"] == evaluation.eligible_tier]
    shown = failed or met
    parts = [
        f"{d['metric']} {'n/a' if d['value'] is None else round(d['value'], 2)} "
        f"{d['operator']} {d['threshold']:g}"
        for d in shown[:4]
    ]
    return f"Evaluation of {evaluation.as_of}: " + ("; ".join(parts) or "level without rules")


def evaluate(program: Program, as_of: dt.date, now: Any = None) -> list[Evaluation]:
    """Evaluate every active partner in `program` on `as_of` and reconcile its proposals.

    Metric values are read before the transaction (the scorecards run in the metrics engine);
    the evaluations and proposals are then written in one transaction.
    """
    now = now or timezone.now()
    levels = list(program.levels.prefetch_related("rules").order_by("-rank"))
    ranks = _Ranks(levels)
    measures = Measures(as_of)
    partners = list(Partner.objects.filter(status=Status.ACTIVE).order_by("pk"))
    rows = []
    for partner in partners:
        eligible, details = check_levels(levels, measures, partner.pk)
        rows.append(
            Evaluation(
                partner=partner,
                program=program,
                as_of=as_of,
                eligible_tier=eligible,
                current_tier=tier_on(partner, as_of),
                details=details,
                computed_at=now,
            )
        )
    with transaction.atomic():
        Program.objects.select_for_update(of=("self",)).get(
            pk=program.pk
        )  # one evaluation at a time
        evaluations = []
        made = 0
        for row in rows:
            row.save()
            evaluations.append(row)
            made += _propose(program, row, ranks, now) is not None
        record(
            None,
            "tiers.evaluate",
            program,
            after={"as_of": as_of, "partners": len(rows), "proposals": made},
        )
    return evaluations
