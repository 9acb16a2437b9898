"""A published fit scorecard for the demo ("Partner fit 2026": four reviewer-scored criteria and
the three computed ones, targeting the demo's most common segments), and assessments of the
demo's prospects by alliance1 and alliance2, who disagree now and then."""

from __future__ import annotations

import random

from django.db.models import Count

from mutualist.accounts.models import User
from mutualist.accounts.roles import Role
from mutualist.fit import actions
from mutualist.fit.models import Scorecard, ScorecardVersion
from mutualist.partners.models import Partner, Segment

NAME = "Partner fit 2026"
CRITERIA = [
    {"key": "strategic_fit", "name": "Strategic fit", "weight": 20, "evidence_required": True},
    {"key": "cultural_fit", "name": "Cultural fit", "weight": 10},
    {"key": "technology", "name": "Technology compatibility", "weight": 15},
    {"key": "innovation", "name": "Ability to innovate", "weight": 10},
    {
        "key": "market_reach",
        "name": "Market reach in target segments",
        "kind": "segment_coverage",
        "weight": 20,
    },
    {
        "key": "customer_overlap",
        "name": "Customer overlap",
        "kind": "customer_overlap",
        "weight": 15,
        "full_at": 20,
    },
    {
        "key": "deal_flow",
        "name": "Existing deal flow",
        "kind": "deal_flow",
        "weight": 10,
        "full_at": 10,
    },
]
MANUAL = [str(c["key"]) for c in CRITERIA if "kind" not in c]


def load(limit: int = 40) -> ScorecardVersion | None:
    cpo = User.objects.filter(role=Role.CPO, is_active=True).order_by("pk").first()
    reviewers = list(
        User.objects.filter(username__in=["alliance1", "alliance2"]).order_by("username")
    )
    if cpo is None or Scorecard.objects.filter(name=NAME).exists():
        return None
    common = Segment.objects.annotate(n=Count("partners")).filter(n__gt=0).order_by("-n", "pk")[:4]
    version = actions.create_scorecard(
        cpo,
        NAME,
        {
            "target_segments": [f"{s.kind}:{s.code}" for s in common],
            "criteria": CRITERIA,
            "gates": [{"criterion": "strategic_fit", "min": 2}],
        },
    )
    version = actions.publish(cpo, version)
    rng = random.Random(2026)
    early = Partner.objects.filter(status__in=actions.ASSESSABLE).order_by("pk")[:limit]
    for partner in early:
        base = {key: rng.randint(1, 5) for key in MANUAL}
        for n, reviewer in enumerate(reviewers):
            scores: dict[str, dict[str, object]] = {}
            for key, value in base.items():
                # The second reviewer sometimes sees it quite differently.
                if n and rng.random() < 0.25:
                    value = max(0, min(5, value + rng.choice((-2, 2))))
                evidence = "" if rng.random() < 0.2 else f"Discovery call notes ({key})"
                scores[key] = {"value": value, "evidence": evidence}
            actions.submit_assessment(reviewer, partner, version, scores)
    return version
