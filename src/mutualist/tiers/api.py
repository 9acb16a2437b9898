"""Tier governance over HTTP: programs, evaluations and proposals to read; approve and reject
for the partner's owner and the CPO; a partner's dated tier history."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Max, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from ninja import Router
from ninja.pagination import paginate

from mutualist.accounts.access import acting_user
from mutualist.insights.service import parse_day
from mutualist.lib.errors import ValidationFailed
from mutualist.lib.pagination import PagePagination
from mutualist.tiers import access, actions
from mutualist.tiers.choices import ProposalStatus
from mutualist.tiers.models import Program, Proposal
from mutualist.tiers.schemas import (
    DecisionIn,
    EvaluationOut,
    ProgramOut,
    ProposalOut,
    TierHistoryOut,
)

router = Router(tags=["tiers"])


def _program_out(program: Program) -> dict[str, Any]:
    return {
        "id": program.pk,
        "name": program.name,
        "active": program.active,
        "grace_days": program.grace_days,
        "levels": [
            {
                "id": level.pk,
                "tier": level.tier,
                "rank": level.rank,
                "name": level.name,
                "rules": list(level.rules.all()),
                "benefits": list(level.benefits.all()),
            }
            for level in program.levels.all()
        ],
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


__all__ = ["router"]
