"""A partner's fit against a published scorecard version, computed on read with its explanation:
each criterion's value and contribution, the gates, missing evidence, and how far the reviewers
disagree. Computed criteria come from data: the partner's segments against the version's target
segments, the customers we share (its mapped accounts resolved to companies that are our
customers), and the deals it is already on."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count

from mutualist.crm.models import PartnerInvolvement
from mutualist.fit.models import Assessment, Criterion, CriterionKind, ScorecardVersion
from mutualist.overlaps.models import AccountResolution, PartnerAccount
from mutualist.partners.models import Partner

DISAGREEMENT_POINTS = 2


@dataclass
class Facts:
    """The data behind the computed criteria, for a set of partners."""

    segments: dict[int, set[str]] = field(default_factory=dict)
    overlap: dict[int, int] = field(default_factory=dict)
    deals: dict[int, int] = field(default_factory=dict)


def facts_for(partner_ids: Iterable[int]) -> Facts:
    ids = list(partner_ids)
    segments: dict[int, set[str]] = defaultdict(set)
    for pid, kind, code in Partner.segments.through.objects.filter(partner_id__in=ids).values_list(
        "partner_id", "segment__kind", "segment__code"
    ):
        segments[pid].add(f"{kind}:{code}")
    customers = AccountResolution.objects.filter(
        account__lifecycle="customer", company__isnull=False
    ).values("company_id")
    overlap = dict(
        PartnerAccount.objects.filter(partner_id__in=ids, company_id__in=customers)
        .values("partner_id")
        .annotate(n=Count("company_id", distinct=True))
        .values_list("partner_id", "n")
    )
    deals = dict(
        PartnerInvolvement.objects.filter(partner_id__in=ids)
        .values("partner_id")
        .annotate(n=Count("opportunity_id", distinct=True))
        .values_list("partner_id", "n")
    )
    return Facts(dict(segments), overlap, deals)


def _computed(
    criterion: Criterion, partner_id: int, version: ScorecardVersion, facts: Facts
) -> tuple[float, str]:
    """The criterion's value on its scale, and what it was computed from."""
    scale = criterion.scale_max
    if criterion.kind == CriterionKind.SEGMENT_COVERAGE:
        targets = list(version.target_segments)
        has = [t for t in targets if t in facts.segments.get(partner_id, set())]
        share = len(has) / len(targets) if targets else 0.0
        note = f"covers {len(has)} of {len(targets)} target segments"
        return share * scale, note + (f" ({', '.join(has)})" if has else "")
    count = (
        facts.overlap if criterion.kind == CriterionKind.CUSTOMER_OVERLAP else facts.deals
    ).get(partner_id, 0)
    what = "customers in common" if criterion.kind == CriterionKind.CUSTOMER_OVERLAP else "deals"
    return min(count / criterion.full_at, 1.0) * scale, (
        f"{count} {what}; {criterion.full_at} or more score {scale}"
    )


def explain(
    partner: Partner,
    version: ScorecardVersion,
    assessments: list[Assessment],
    facts: Facts,
    criteria: list[Criterion] | None = None,
) -> dict[str, Any]:
    """The score of one partner against one version, with its explanation."""
    criteria = list(version.criteria.all()) if criteria is None else criteria
    rows: list[dict[str, Any]] = []
    missing_evidence: list[dict[str, str]] = []
    for c in criteria:
        row: dict[str, Any] = {
            "key": c.key,
            "name": c.name,
            "kind": c.kind,
            "weight": c.weight,
            "scale_max": c.scale_max,
            "gate_min": None if c.gate_min is None else float(c.gate_min),
            "value": None,
            "contribution": 0.0,
            "source": "",
            "scores": [],
            "spread": None,
        }
        if c.computed:
            value, row["source"] = _computed(c, partner.pk, version, facts)
            row["value"] = round(value, 2)
        else:
            given = [
                (a.reviewer.get_username(), a.scores[c.key])
                for a in assessments
                if c.key in a.scores
            ]
            row["scores"] = [
                {"reviewer": who, "value": s["value"], "evidence": s.get("evidence", "")}
                for who, s in given
            ]
            values = [float(s["value"]) for _, s in given]
            if values:
                row["value"] = round(statistics.fmean(values), 2)
                row["spread"] = {
                    "min": min(values),
                    "max": max(values),
                    "stdev": round(statistics.pstdev(values), 2),
                    "disagreement": max(values) - min(values) >= DISAGREEMENT_POINTS,
                }
                row["source"] = f"mean of {len(values)} reviewer{'s' * (len(values) != 1)}"
            else:
                row["source"] = "not scored yet"
            if c.evidence_required:
                missing_evidence += [
                    {"criterion": c.key, "reviewer": who}
                    for who, s in given
                    if not str(s.get("evidence", "")).strip()
                ]
        if row["value"] is not None:
            row["contribution"] = round(c.weight * row["value"] / c.scale_max, 2)
        rows.append(row)
    gates = [
        {
            "criterion": r["key"],
            "min": r["gate_min"],
            "value": r["value"],
            "passed": r["value"] is not None and r["value"] >= r["gate_min"],
        }
        for r in rows
        if r["gate_min"] is not None
    ]
    return {
        "partner_id": partner.pk,
        "partner": partner.name,
        "status": partner.status,
        "version_id": version.pk,
        "version": str(version),
        "total": round(sum(r["contribution"] for r in rows), 1),
        "gates_passed": all(g["passed"] for g in gates),
        "gates": gates,
        "criteria": rows,
        "missing_evidence": missing_evidence,
        "reviewers": len({a.reviewer_id for a in assessments}),
        "complete": all(r["value"] is not None for r in rows),
        "disagreements": [
            r["key"] for r in rows if r["spread"] is not None and r["spread"]["disagreement"]
        ],
    }


def score_partner(partner: Partner, version: ScorecardVersion) -> dict[str, Any]:
    assessments = list(
        Assessment.objects.filter(partner=partner, version=version).select_related("reviewer")
    )
    return explain(partner, version, assessments, facts_for([partner.pk]))


def rank(partners: Iterable[Partner], version: ScorecardVersion) -> list[dict[str, Any]]:
    """Scores of `partners`, best first: those passing every gate, then by total, then name."""
    partners = list(partners)
    facts = facts_for(p.pk for p in partners)
    criteria = list(version.criteria.all())
    by_partner: dict[int, list[Assessment]] = defaultdict(list)
    for a in Assessment.objects.filter(
        version=version, partner_id__in=[p.pk for p in partners]
    ).select_related("reviewer"):
        by_partner[a.partner_id].append(a)
    scores = [explain(p, version, by_partner[p.pk], facts, criteria) for p in partners]
    scores.sort(key=lambda s: (not s["gates_passed"], -s["total"], s["partner"], s["partner_id"]))
    for i, s in enumerate(scores, start=1):
        s["rank"] = i
    return scores


def current_version() -> ScorecardVersion | None:
    """The most recently published version: the one prospects are scored against."""
    return (
        ScorecardVersion.objects.filter(published_at__isnull=False)
        .select_related("scorecard")
        .order_by("-published_at", "-pk")
        .first()
    )
