"""Tier governance over HTTP: programs, evaluations and proposals to read; approve and reject
for the partner's owner and the CPO; a partner's dated tier history. The CPO creates programs,
levels, rules and benefits; the partner's owner or the CPO records facts (certifications, CSAT)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Max, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Status
from ninja.pagination import paginate

from mutualist.accounts.access import acting_user
from mutualist.insights.service import parse_day
from mutualist.lib.errors import ValidationFailed
from mutualist.lib.pagination import PagePagination
from mutualist.tiers import access, actions
from mutualist.tiers.choices import ProposalStatus
from mutualist.tiers.models import Level, Program, Proposal
from mutualist.tiers.schemas import (
    BenefitIn,
    BenefitOut,
    DecisionIn,
    EvaluationOut,
    FactIn,
    FactOut,
    LevelIn,
    LevelOut,
    ProgramIn,
    ProgramOut,
    ProposalOut,
    RulesIn,
    TierHistoryOut,
    TierRuleOut,
)

router = Router(tags=["tiers"])


def _level_out(level: Level) -> dict[str, Any]:
    return {
        "id": level.pk,
        "tier": level.tier,
        "rank": level.rank,
        "name": level.name,
        "rules": list(level.rules.all()),
        "benefits": list(level.benefits.all()),
    }


def _program_out(program: Program) -> dict[str, Any]:
    return {
        "id": program.pk,
        "name": program.name,
        "active": program.active,
        "grace_days": program.grace_days,
        "levels": [_level_out(level) for level in program.levels.all()],
    }


class _Programs:
    def __init__(self, rows: QuerySet[Program]) -> None:
        self.rows = rows

    def count(self) -> int:
        return int(self.rows.count())

    def __getitem__(self, page: slice) -> list[dict[str, Any]]:
        return [_program_out(p) for p in self.rows[page]]


@router.get("/tiers/programs", response=list[ProgramOut])
@paginate(PagePagination)
def list_programs(request: HttpRequest, active: bool | None = None) -> Any:
    """Tier programs with their levels, rules and benefits (public to every signed-in user)."""
    rows = access.programs_visible_to(request.user).prefetch_related(
        "levels__rules", "levels__benefits"
    )
    if active is not None:
        rows = rows.filter(active=active)
    return _Programs(rows.order_by("pk"))


@router.get("/tiers/evaluations", response=list[EvaluationOut])
@paginate(PagePagination)
def list_evaluations(
    request: HttpRequest,
    program_id: int | None = None,
    partner_id: int | None = None,
    eligible_tier: str | None = None,
    latest: bool = True,
) -> Any:
    """Evaluations, by default only each program's most recent run. A partner's people get
    their own partner's only."""
    rows = access.evaluations_visible_to(request.user)
    if program_id is not None:
        rows = rows.filter(program_id=program_id)
    if partner_id is not None:
        rows = rows.filter(partner_id=partner_id)
    if eligible_tier is not None:
        rows = rows.filter(eligible_tier=eligible_tier)
    if latest:
        runs = rows.values("program_id").annotate(newest=Max("computed_at"))
        newest = {r["program_id"]: r["newest"] for r in runs}
        keep = [
            pk
            for pk, program, computed in rows.values_list("pk", "program_id", "computed_at")
            if newest.get(program) == computed
        ]
        rows = rows.filter(pk__in=keep)
    return rows.order_by("program_id", "partner_id", "-computed_at", "-pk")


@router.get("/tiers/proposals", response=list[ProposalOut])
@paginate(PagePagination)
def list_proposals(request: HttpRequest, status: str = "", partner_id: int | None = None) -> Any:
    """Tier-change proposals (vendor staff; a partner's people get an empty list)."""
    rows = access.proposals_visible_to(request.user)
    if status:
        if status not in ProposalStatus.values:
            raise ValidationFailed(
                {"status": f"unknown status; use one of: {', '.join(ProposalStatus.values)}"}
            )
        rows = rows.filter(status=status)
    if partner_id is not None:
        rows = rows.filter(partner_id=partner_id)
    return rows.order_by("-proposed_at", "-pk")


def _decided(proposal: Proposal) -> Proposal:
    proposal.refresh_from_db()
    return proposal


@router.post("/tiers/proposals/{proposal_id}/approve", response=ProposalOut)
def approve(request: HttpRequest, proposal_id: int, payload: DecisionIn) -> Any:
    """Approve (the partner's owner or the CPO). Applied at once when its day has come."""
    proposal = access.get_proposal_for(request.user, proposal_id)
    return _decided(actions.approve(acting_user(request), proposal, payload.note))


@router.post("/tiers/proposals/{proposal_id}/reject", response=ProposalOut)
def reject(request: HttpRequest, proposal_id: int, payload: DecisionIn) -> Any:
    """Reject with a note saying why (the partner's owner or the CPO)."""
    proposal = access.get_proposal_for(request.user, proposal_id)
    return _decided(actions.reject(acting_user(request), proposal, payload.note))


@router.get("/partners/{partner_id}/tier-history", response=TierHistoryOut)
def tier_history(request: HttpRequest, partner_id: int, on: str | None = None) -> Any:
    """The partner's tier and benefits on a day (`on`, default today) and its dated history."""
    partner = access.get_partner_tier_for(request.user, partner_id)
    day: dt.date = parse_day("on", on) or timezone.now().date()
    return {
        "partner_id": partner.pk,
        "tier": actions.tier_on(partner, day),
        "on": day,
        "benefits": actions.benefits_on(partner, day),
        "history": list(partner.tier_changes.order_by("effective_from", "pk")),
    }


# Writing programs, levels, rules and benefits: the CPO only (other staff 403, a partner's
# people 404, checked before the program or level is looked up).


@router.post("/tiers/programs", response={201: ProgramOut})
def create_program(request: HttpRequest, payload: ProgramIn) -> Any:
    """A new program (`grace_days`: how long a downgrade waits, default 90)."""
    program = actions.create_program(acting_user(request), payload.dict())
    return Status(201, _program_out(program))


@router.post("/tiers/programs/{program_id}/levels", response={201: LevelOut})
def add_level(request: HttpRequest, program_id: int, payload: LevelIn) -> Any:
    """A level of the program with its rules, all or nothing."""
    access.require_can_manage_programs(request.user)
    program = access.get_program_for(request.user, program_id)
    level = actions.add_level(acting_user(request), program, payload.dict())
    return Status(201, _level_out(level))


@router.put("/tiers/levels/{level_id}/rules", response=list[TierRuleOut])
def replace_rules(request: HttpRequest, level_id: int, payload: RulesIn) -> Any:
    """Set the level's rules to exactly `rules`; one unknown metric refuses them all."""
    access.require_can_manage_programs(request.user)
    level = access.get_level_for(request.user, level_id)
    if payload.rules is None:
        raise ValidationFailed(
            {"rules": "is required; give the level's complete rules ([] removes them all)"}
        )
    rules = [rule.dict() for rule in payload.rules]
    return actions.replace_rules(acting_user(request), level, rules)


@router.post("/tiers/levels/{level_id}/benefits", response={201: BenefitOut})
def add_benefit(request: HttpRequest, level_id: int, payload: BenefitIn) -> Any:
    """A benefit of the level, valid from `valid_from` to `valid_to` (open-ended if empty)."""
    access.require_can_manage_programs(request.user)
    level = access.get_level_for(request.user, level_id)
    return Status(201, actions.add_benefit(acting_user(request), level, payload.dict()))


@router.post("/partners/{partner_id}/facts", response={201: FactOut})
def record_fact(request: HttpRequest, partner_id: int, payload: FactIn) -> Any:
    """Record a measure a rule can test (`key`: certifications or csat) as of a day (default
    today); the partner's owner or the CPO."""
    partner = access.get_partner_tier_for(request.user, partner_id)
    fact = actions.record_fact(
        acting_user(request), partner, payload.key, payload.value, payload.as_of, payload.note
    )
    return Status(201, fact)


__all__ = ["router"]
