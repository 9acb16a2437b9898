"""Partner fit: scorecards the CPO defines (versioned; a version's criteria are frozen once it is
published), and the assessments reviewers make of prospects against a published version. The
score itself is computed on read (`fit.score`), never stored."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from mutualist.partners.models import Partner

USER = settings.AUTH_USER_MODEL
WEIGHT_TOTAL = 100


class CriterionKind(models.TextChoices):
    MANUAL = "manual", "Scored by reviewers"
    SEGMENT_COVERAGE = "segment_coverage", "Coverage of the target segments"
    CUSTOMER_OVERLAP = "customer_overlap", "Customers in common"
    DEAL_FLOW = "deal_flow", "Existing deal flow"


COMPUTED_KINDS = (
    CriterionKind.SEGMENT_COVERAGE,
    CriterionKind.CUSTOMER_OVERLAP,
    CriterionKind.DEAL_FLOW,
)


class Scorecard(models.Model):
    name = models.CharField(max_length=200, unique=True)
    created_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ScorecardVersion(models.Model):
    """One version of a scorecard. Drafts (`published_at` empty) may change; a published version
    never does, so a score always names the criteria that produced it."""

    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    # ["industry:retail", "technology:cloud"]: what segment coverage is measured against.
    target_segments = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField()
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["scorecard", "number"]
        constraints = [
            models.UniqueConstraint(fields=["scorecard", "number"], name="fit_version_number")
        ]

    def __str__(self) -> str:
        return f"{self.scorecard} v{self.number}"

    @property
    def published(self) -> bool:
        return self.published_at is not None


class Criterion(models.Model):
    """A weighted criterion on a 0..`scale_max` scale. With `gate_min` it is also a gate: a
    partner below the minimum fails the scorecard whatever its total. Computed kinds reach the
    top of the scale at `full_at` (customers in common, deals); segment coverage is a share."""

    version = models.ForeignKey(ScorecardVersion, on_delete=models.CASCADE, related_name="criteria")
    position = models.PositiveSmallIntegerField(default=0)
    key = models.SlugField(max_length=40)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=CriterionKind.choices)
    scale_max = models.PositiveSmallIntegerField(default=5)
    weight = models.PositiveSmallIntegerField()
    gate_min = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    evidence_required = models.BooleanField(default=False)
    full_at = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["version", "position", "pk"]
        constraints = [models.UniqueConstraint(fields=["version", "key"], name="fit_criterion_key")]

    def __str__(self) -> str:
        return f"{self.version}: {self.key}"

    @property
    def computed(self) -> bool:
        return self.kind != CriterionKind.MANUAL


class Assessment(models.Model):
    """One reviewer's scores of one partner against one version (one per reviewer and version).
    `scores` maps each manual criterion's key to {"value": number, "evidence": "notes, links"}."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="fit_assessments")
    version = models.ForeignKey(
        ScorecardVersion, on_delete=models.PROTECT, related_name="assessments"
    )
    reviewer = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="fit_assessments")
    scores = models.JSONField(default=dict)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["partner", "version", "reviewer"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "version", "reviewer"], name="fit_assessment_one_per_reviewer"
            )
        ]

    def __str__(self) -> str:
        return f"{self.partner} by {self.reviewer} ({self.version})"
