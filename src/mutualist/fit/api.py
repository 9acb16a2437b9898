"""Partner fit over HTTP (vendor staff only; a partner's people get 404): ranked prospects, one
partner's score with its explanation, and submitting an assessment."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.pagination import paginate

from mutualist.accounts.access import acting_user
from mutualist.fit import access, actions
from mutualist.fit.score import rank, score_partner
from mutualist.fit.views import prospects, version_from
from mutualist.lib.pagination import PagePagination

router = Router(tags=["fit"])


class ReviewerScoreOut(Schema):
    reviewer: str
    value: float
    evidence: str


class SpreadOut(Schema):
    min: float
    max: float
    stdev: float
    disagreement: bool


class CriterionScoreOut(Schema):
    key: str
    name: str
    kind: str
    weight: int
    scale_max: int
    gate_min: float | None
    value: float | None
    contribution: float
    source: str
    scores: list[ReviewerScoreOut]
    spread: SpreadOut | None


class GateOut(Schema):
    criterion: str
    min: float
    value: float | None
    passed: bool


class MissingEvidenceOut(Schema):
    criterion: str
    reviewer: str


class ProspectOut(Schema):
    rank: int
    partner_id: int
    partner: str
    status: str
    version_id: int
    total: float
    gates_passed: bool
    reviewers: int
    complete: bool
    disagreements: list[str]


class FitOut(Schema):
    partner_id: int
    partner: str
    status: str
    version_id: int | None = None
    version: str | None = None
    total: float | None = None
    gates_passed: bool | None = None
    gates: list[GateOut] = []
    criteria: list[CriterionScoreOut] = []
    missing_evidence: list[MissingEvidenceOut] = []
    reviewers: int = 0
    complete: bool = False
    disagreements: list[str] = []


class ScoreIn(Schema):
    criterion: str
    value: float | None = None
    evidence: str = ""


class AssessmentIn(Schema):
    version_id: int | None = Field(None, description="a published version (default: the current)")
    scores: list[ScoreIn] = []


@router.get("/fit/prospects", response=list[ProspectOut])
@paginate(PagePagination)
def list_prospects(
    request: HttpRequest,
    status: str = "",
    segment_id: int | None = None,
    version_id: int | None = None,
) -> Any:
    """Prospects (prospect, evaluating, negotiating) ranked by fit: those passing every gate
    first, then by score. Empty when no scorecard is published."""
    access.require_staff(request.user)
    version = version_from(request.user, "" if version_id is None else str(version_id))
    partners = prospects(status, "" if segment_id is None else str(segment_id))
    return rank(partners, version) if version is not None else []


@router.get("/fit/partners/{partner_id}", response=FitOut)
def partner_fit(request: HttpRequest, partner_id: int, version_id: int | None = None) -> Any:
    """A partner's score with its explanation: each criterion's value and contribution, the
    gates, missing evidence and the reviewers' spread."""
    partner = access.get_partner_for(request.user, partner_id)
    version = version_from(request.user, "" if version_id is None else str(version_id))
    if version is None:
        return {"partner_id": partner.pk, "partner": partner.name, "status": partner.status}
    return score_partner(partner, version)


@router.post("/fit/partners/{partner_id}/assessments", response=FitOut)
def submit_assessment(request: HttpRequest, partner_id: int, payload: AssessmentIn) -> Any:
    """Record (or replace) the caller's scores of a prospect (alliance managers and the CPO)
    and answer with the partner's new score."""
    partner = access.get_partner_for(request.user, partner_id)
    version = version_from(
        request.user, "" if payload.version_id is None else str(payload.version_id)
    )
    scores = {s.criterion: {"value": s.value, "evidence": s.evidence} for s in payload.scores}
    assessment = actions.submit_assessment(acting_user(request), partner, version, scores)
    return score_partner(partner, assessment.version)


__all__ = ["router"]
