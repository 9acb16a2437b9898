"""Co-selling: deal registrations under versioned rules, lead routing to partners,
partner-to-partner referrals, and the notifications that tell people to act."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from mutualist.crm.models import Account, Lead, Opportunity, money_field
from mutualist.partners.models import Partner

USER = settings.AUTH_USER_MODEL


class RegistrationRules(models.Model):
    """One version of the deal-registration rules. Versions are never edited: a change is a new
    version, and every decision records the version that made it."""

    version = models.PositiveIntegerField(unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)
    # Named-account rule: a registration for an existing customer is rejected outright.
    reject_existing_customers = models.BooleanField(default=True)
    # A registration for a company with an open opportunity is a conflict for staff to review.
    conflict_on_open_opportunity = models.BooleanField(default=True)
    protection_days = models.PositiveSmallIntegerField(default=90)
    extension_days = models.PositiveSmallIntegerField(default=30)
    max_extensions = models.PositiveSmallIntegerField(default=1)
    decision_sla_hours = models.PositiveSmallIntegerField(default=48)
    reminder_days = models.PositiveSmallIntegerField(default=14)
    submissions_per_hour = models.PositiveSmallIntegerField(default=30)

    class Meta:
        ordering = ["-version"]
        verbose_name_plural = "registration rules"

    def __str__(self) -> str:
        return f"Registration rules v{self.version}"


class DealRegistration(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending review"
        CONFLICT = "conflict", "Conflict"
        REJECTED = "rejected", "Rejected"
        APPROVED = "approved", "Approved (protected)"
        EXPIRED = "expired", "Expired"
        WITHDRAWN = "withdrawn", "Withdrawn"

    class Appeal(models.TextChoices):
        NONE = "", "No appeal"
        OPEN = "open", "Appeal open"
        UPHELD = "upheld", "Decision upheld"
        OVERTURNED = "overturned", "Decision overturned"

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="registrations")
    submitted_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    # The server's clock decides who was first; never a client-sent time.
    submitted_at = models.DateTimeField(db_index=True)
    idempotency_key = models.CharField(max_length=100, blank=True)
    company_name = models.CharField(max_length=255)
    domain = models.CharField(max_length=253, blank=True)
    country = models.CharField(max_length=2)
    contact_name = models.CharField(max_length=200)
    contact_email = models.EmailField(blank=True)
    product = models.CharField(max_length=200)
    amount = money_field()
    currency = models.CharField(max_length=3)
    expected_close = models.DateField()
    notes = models.TextField(blank=True)
    # How the company was identified for the checks.
    domain_key = models.CharField(max_length=253, blank=True, db_index=True)
    name_key = models.CharField(max_length=255, db_index=True)

    status = models.CharField(max_length=16, choices=Status.choices, db_index=True)
    rules = models.ForeignKey(RegistrationRules, on_delete=models.PROTECT, related_name="+")
    # [{code, message, kind, id}] — what the check found; `kind`/`id` are for vendor staff only.
    reasons = models.JSONField(default=list)
    decided_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    protected_until = models.DateTimeField(null=True, blank=True, db_index=True)
    extensions_granted = models.PositiveSmallIntegerField(default=0)
    reminded_at = models.DateTimeField(null=True, blank=True)
    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    opportunity = models.ForeignKey(
        Opportunity, null=True, blank=True, on_delete=models.SET_NULL, related_name="registrations"
    )
    appeal = models.CharField(max_length=12, choices=Appeal.choices, blank=True, default="")
    appeal_text = models.TextField(blank=True)
    appealed_at = models.DateTimeField(null=True, blank=True)
    appeal_decided_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    appeal_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        indexes = [models.Index(fields=["name_key", "country", "status"])]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="registration_idempotency",
            )
        ]

    def __str__(self) -> str:
        return f"{self.company_name} ({self.get_status_display()})"


class RegistrationClaim(models.Model):
    """The company keys a live registration holds. The unique key makes "first complete
    registration wins" a database fact: two concurrent submissions cannot both insert it."""

    key = models.CharField(max_length=300, unique=True)
    registration = models.ForeignKey(
        DealRegistration, on_delete=models.CASCADE, related_name="claims"
    )

    def __str__(self) -> str:
        return self.key


class ExtensionRequest(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        DECLINED = "declined", "Declined"

    registration = models.ForeignKey(
        DealRegistration, on_delete=models.CASCADE, related_name="extensions"
    )
    requested_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField()
    reason = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"Extension of {self.registration_id} ({self.status})"


class LeadOffer(models.Model):
    """A lead routed to a partner, waiting for its answer within the SLA."""

    class Status(models.TextChoices):
        OFFERED = "offered", "Offered"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        EXPIRED = "expired", "Expired (no answer in time)"
        WITHDRAWN = "withdrawn", "Withdrawn"

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="offers")
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="lead_offers")
    offered_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    offered_at = models.DateTimeField(db_index=True)
    respond_by = models.DateTimeField(db_index=True)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.OFFERED, db_index=True
    )
    responded_at = models.DateTimeField(null=True, blank=True)
    responded_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decline_reason = models.TextField(blank=True)
    # Why this partner: [{factor, detail, points}] and the total.
    explanation = models.JSONField(default=list)
    score = models.FloatField(default=0)

    class Meta:
        ordering = ["-offered_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["lead"],
                condition=models.Q(status="offered"),
                name="one_open_offer_per_lead",
            )
        ]

    def __str__(self) -> str:
        return f"Lead {self.lead_id} → {self.partner_id} ({self.status})"


class Referral(models.Model):
    """One partner refers a customer opportunity to another; both see it; both are credited."""

    class Status(models.TextChoices):
        OFFERED = "offered", "Offered"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"

    from_partner = models.ForeignKey(
        Partner, on_delete=models.CASCADE, related_name="referrals_made"
    )
    to_partner = models.ForeignKey(
        Partner, on_delete=models.CASCADE, related_name="referrals_received"
    )
    created_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()
    company_name = models.CharField(max_length=255)
    domain = models.CharField(max_length=253, blank=True)
    country = models.CharField(max_length=2)
    amount = money_field(null=True, blank=True)
    currency = models.CharField(max_length=3, default="USD")
    note = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OFFERED)
    responded_at = models.DateTimeField(null=True, blank=True)
    opportunity = models.ForeignKey(
        Opportunity, null=True, blank=True, on_delete=models.SET_NULL, related_name="referrals"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.company_name}: {self.from_partner_id} → {self.to_partner_id}"


class Notification(models.Model):
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="notifications")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    verb = models.CharField(max_length=48)
    text = models.CharField(max_length=500)
    url = models.CharField(max_length=300, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.text


class Announcement(models.Model):
    """News from the vendor to its partners: to all, or to one tier or one partner type."""

    title = models.CharField(max_length=200)
    body = models.TextField()
    tier = models.CharField(max_length=16, blank=True)  # blank: every tier
    partner_type = models.CharField(max_length=32, blank=True)  # blank: every type
    published_at = models.DateTimeField(db_index=True)
    created_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-published_at", "-id"]

    def __str__(self) -> str:
        return self.title
