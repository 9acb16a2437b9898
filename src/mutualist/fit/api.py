"""Partner fit over HTTP (vendor staff only; a partner's people get 404): ranked prospects, one
partner's score with its explanation, submitting an assessment, and (the CPO) creating
scorecards, replacing a draft version's criteria and publishing it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from mutualist.accounts.access import acting_user
from mutualist.fit import access, actions
from mutualist.fit.models import ScorecardVersion
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


class CriterionIn(Schema):
    key: str = Field("", description="lower-case letters, digits and _ (default: from the name)")
    name: str
    kind: str = Field("manual", description="manual, segment_coverage, customer_overlap, deal_flow")
    scale_max: int = 5
    weight: int = Field(..., description="the weights of a version sum to 100")
    gate_min: float | None = Field(None, description="a gate: below this the partner fails")
    evidence_required: bool = False
    full_at: int = Field(1, description="computed kinds: the value scoring the top of the scale")


class CriteriaIn(Schema):
    target_segments: list[str] = Field([], description='segments as kind:code ("industry:retail")')
    criteria: list[CriterionIn] = []


class ScorecardIn(CriteriaIn):
    name: str


class CriterionOut(Schema):
    key: str
    name: str
    kind: str
    scale_max: int
    weight: int
    gate_min: float | None
    evidence_required: bool
    full_at: int


class VersionOut(Schema):
    id: int
    scorecard_id: int
    scorecard: str
    number: int
    published: bool
    published_at: datetime | None
    target_segments: list[str]
    weight_total: int
    criteria: list[CriterionOut]


def _version_out(version: ScorecardVersion) -> dict[str, Any]:
    criteria = [
        {
            "key": c.key,
            "name": c.name,
            "kind": c.kind,
            "scale_max": c.scale_max,
            "weight": c.weight,
            "gate_min": None if c.gate_min is None else float(c.gate_min),
            "evidence_required": c.evidence_required,
            "full_at": c.full_at,
        }
        for c in version.criteria.all()
    ]
    return {
        "id": version.pk,
        "scorecard_id": version.scorecard_id,
        "scorecard": version.scorecard.name,
        "number": version.number,
        "published": version.published,
        "published_at": version.published_at,
        "target_segments": list(version.target_segments),
        "weight_total": sum(c["weight"] for c in criteria),
        "criteria": criteria,
    }


def _rows(payload: CriteriaIn) -> list[dict[str, Any]]:
    return [c.model_dump() for c in payload.criteria]


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
    partners = prospects(request.user, status, "" if segment_id is None else str(segment_id))
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


@router.post("/fit/scorecards", response={201: VersionOut})
def create_scorecard(request: HttpRequest, payload: ScorecardIn) -> Any:
    """A new scorecard (the CPO) with its first version, a draft: the weights sum to 100."""
    access.require_staff(request.user)
    version = actions.create_scorecard_from_table(
        acting_user(request), payload.name, payload.target_segments, _rows(payload)
    )
    return Status(201, _version_out(version))


@router.put("/fit/versions/{version_id}/criteria", response=VersionOut)
def set_criteria(request: HttpRequest, version_id: int, payload: CriteriaIn) -> Any:
    """Replace a draft version's target segments and criteria, all at once (the CPO). A
    published version never changes (409): make a new version."""
    version = access.get_version_for(request.user, version_id)
    version = actions.set_criteria_table(
        acting_user(request), version, payload.target_segments, _rows(payload)
    )
    return _version_out(version)


@router.post("/fit/versions/{version_id}/publish", response=VersionOut)
def publish_version(request: HttpRequest, version_id: int) -> Any:
    """Publish a draft (the CPO): prospects are scored against it from now on."""
    version = access.get_version_for(request.user, version_id)
    return _version_out(actions.publish(acting_user(request), version))


__all__ = ["router"]
