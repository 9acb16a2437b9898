"""Partner agreements: templates, agreements drafted from them, their versions, the stakeholders'
approvals of a version, and the KPI targets a signed agreement sets for its partner."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from mutualist.partners.models import Partner


class AgreementType(models.TextChoices):
    RESELLER = "reseller", "Reseller"
    REFERRAL = "referral", "Referral"
    TECHNOLOGY = "technology", "Technology"
    SERVICES = "services", "Services"
    DISTRIBUTION = "distribution", "Distribution"


class Cadence(models.TextChoices):
    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly"
    ANNUAL = "annual", "Annual"


class AgreementTemplate(models.Model):
    """The starting point of an agreement: default terms, each side's responsibilities, KPIs,
    who signs off and which fields each approver's sign-off covers."""

    name = models.CharField(max_length=200, unique=True)
    agreement_type = models.CharField(max_length=16, choices=AgreementType.choices)
    description = models.TextField(blank=True)
    terms = models.JSONField(default=dict)
    responsibilities = models.JSONField(default=dict)  # {"vendor": [...], "partner": [...]}
    kpis = models.JSONField(default=list)  # [{name, metric_key, target, unit, cadence}]
    required_approvals = models.JSONField(default=list)  # ["approver_legal", ...]
    coverage = models.JSONField(default=dict)  # {"approver_legal": ["territory", ...]}
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Agreement(models.Model):
    """An agreement with one partner. Its content lives in versions; the newest is current."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        IN_REVIEW = "in_review", "In review"
        SIGNED = "signed", "Signed"
        EXPIRED = "expired", "Expired"
        TERMINATED = "terminated", "Terminated"

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="agreements")
    template = models.ForeignKey(
        AgreementTemplate, on_delete=models.PROTECT, related_name="agreements"
    )
    title = models.CharField(max_length=200)
    agreement_type = models.CharField(max_length=16, choices=AgreementType.choices)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    start_on = models.DateField()
    end_on = models.DateField(db_index=True)
    renewal_notice_days = models.PositiveIntegerField(default=60)
    # Copied from the template when drafted, so a later template change does not move the goal
    # posts of agreements already in review.
    required_approvals = models.JSONField(default=list)
    coverage = models.JSONField(default=dict)
    current_version = models.PositiveIntegerField(default=1)
    signed_at = models.DateTimeField(null=True, blank=True)
    terminated_at = models.DateTimeField(null=True, blank=True)
    termination_reason = models.CharField(max_length=500, blank=True)
    # The agreement this one renews (drafted from its terms to start the day after it ends).
    renews = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="renewals"
    )
    # The end date a renewal reminder went out for: one reminder per end date.
    reminded_for = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.title} ({self.partner})"


class AgreementVersion(models.Model):
    """One state of an agreement's content. Edits add a version; none is ever changed."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    terms = models.JSONField(default=dict)
    responsibilities = models.JSONField(default=dict)
    kpis = models.JSONField(default=list)
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["agreement", "number"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "number"], name="agreement_version_number")
        ]

    def __str__(self) -> str:
        return f"{self.agreement.title} v{self.number}"


class Approval(models.Model):
    """A stakeholder's sign-off of one version, in one approver role. When a new version leaves
    the fields the role covers unchanged, the sign-off is carried to it (same approver and time);
    when it changes them, the sign-off is reset and says why."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="approvals")
    version = models.ForeignKey(
        AgreementVersion, on_delete=models.CASCADE, related_name="approvals"
    )
    role = models.CharField(max_length=32)
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField()
    carried_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reset_at = models.DateTimeField(null=True, blank=True)
    reset_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["agreement", "version__number", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "version", "role"], name="approval_one_per_version_role"
            )
        ]

    def __str__(self) -> str:
        return f"{self.role} on {self.version}"


class Target(models.Model):
    """A KPI target the partner committed to in a signed agreement, tracked on the partner."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="targets")
    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="targets")
    version = models.ForeignKey(AgreementVersion, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    metric_key = models.CharField(max_length=64, blank=True)
    target = models.DecimalField(max_digits=18, decimal_places=2)
    unit = models.CharField(max_length=32, blank=True)
    cadence = models.CharField(max_length=16, choices=Cadence.choices)
    period_start = models.DateField()
    period_end = models.DateField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["partner", "agreement", "name"]

    def __str__(self) -> str:
        return f"{self.partner}: {self.name} {self.target} {self.unit} ({self.cadence})"
