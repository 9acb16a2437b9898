"""A published scorecard over the shared personas: two manual criteria (one a gate, one needing
evidence) and the three computed ones, with two prospects to score."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from mutualist.fit import actions
from mutualist.fit.models import ScorecardVersion
from mutualist.partners.models import Partner, Segment
from tests.conftest import World, make_partner


def definition() -> dict[str, Any]:
    return {
        "target_segments": ["industry:retail", "technology:cloud"],
        "criteria": [
            {"key": "strategic", "name": "Strategic fit", "weight": 40, "evidence_required": True},
            {"key": "culture", "name": "Cultural fit", "weight": 20},
            {"key": "reach", "name": "Market reach", "kind": "segment_coverage", "weight": 20},
            {
                "key": "overlap",
                "name": "Customer overlap",
                "kind": "customer_overlap",
                "weight": 10,
                "full_at": 2,
            },
            {"key": "deals", "name": "Deal flow", "kind": "deal_flow", "weight": 10, "full_at": 4},
        ],
        "gates": [{"criterion": "strategic", "min": 3}],
    }


@dataclass
class Fit:
    world: World
    version: ScorecardVersion
    hooli: Partner
    wayne: Partner


def prospect(name: str, status: str = "prospect") -> Partner:
    partner = make_partner(name, None)
    partner.status = status
    partner.save(update_fields=["status"])
    return partner


@pytest.fixture
def fit(world: World) -> Fit:
    retail, _ = Segment.objects.get_or_create(
        kind="industry", code="retail", defaults={"name": "Retail"}
    )
    Segment.objects.get_or_create(kind="technology", code="cloud", defaults={"name": "Cloud"})
    version = actions.create_scorecard(world.cpo, "Partner fit", definition())
    version = actions.publish(world.cpo, version)
    hooli = prospect("Hooli")
    hooli.segments.add(retail)
    wayne = prospect("Wayne", "evaluating")
    return Fit(world, version, hooli, wayne)


def scores(strategic: float, culture: float, evidence: str = "call notes") -> dict[str, Any]:
    return {
        "strategic": {"value": strategic, "evidence": evidence},
        "culture": {"value": culture, "evidence": ""},
    }


def scorecard_for_matrix(world: World) -> dict[str, int]:
    """For the access matrix: a published scorecard (`scorecard_id`) and its version
    (`version_id`)."""
    Segment.objects.get_or_create(kind="industry", code="retail", defaults={"name": "Retail"})
    Segment.objects.get_or_create(kind="technology", code="cloud", defaults={"name": "Cloud"})
    version = actions.create_scorecard(world.cpo, "Matrix fit", definition())
    actions.publish(world.cpo, version)
    return {"scorecard_id": version.scorecard_id, "version_id": version.pk}
