"""Account mapping: a registry of companies, each side's accounts resolved to it, and the rules
that decide what one side of a partnership sees of the other's."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from mutualist.crm.models import Account
from mutualist.overlaps.choices import (
    DEFAULT_MIN_COUNT,
    AccountStatus,
    Base,
    Level,
    Mode,
    Side,
)
from mutualist.partners.models import Partner


class Company(models.Model):
    """One real company. The vendor's accounts are resolved to companies once, when they arrive;
    a partner's accounts are matched to the same registry, so an overlap is a join on company."""

    name = models.CharField(max_length=255)
    # The normalised name (legal forms, punctuation, case removed): with the country, how a
    # company without a domain is found, e.g. by the deal-registration check.
    name_key = models.CharField(max_length=255, blank=True)
    domain = models.CharField(max_length=253, blank=True, db_index=True)
    country = models.CharField(max_length=2, blank=True)
    registration_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "companies"
        indexes = [models.Index(fields=["name_key", "country"])]

    def __str__(self) -> str:
        return self.name


class CompanyDomain(models.Model):
    """Another registrable domain of a company (a brand, a country site, an acquired business):
    an account or partner record with it is that company, exactly. Added when an operator merges
    two companies, or by hand in the admin."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="aliases")
    domain = models.CharField(max_length=253, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain


class MatchFields(models.Model):
    """How a record was resolved to its company: the engine's confidence tier and reason."""

    company = models.ForeignKey(Company, null=True, blank=True, on_delete=models.SET_NULL)
    confidence = models.CharField(max_length=8, blank=True)  # exact | high | medium
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        abstract = True


class AccountResolution(MatchFields):
    account = models.OneToOneField(Account, on_delete=models.CASCADE, related_name="resolution")

    def __str__(self) -> str:
        return f"{self.account_id} → company {self.company_id} ({self.confidence or 'new'})"


class Partnership(models.Model):
    """Account mapping with one partner: both sides must opt in before anything is shown."""

    partner = models.OneToOneField(Partner, on_delete=models.CASCADE, related_name="mapping")
    vendor_opted_in_at = models.DateTimeField(null=True, blank=True)
    vendor_opted_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    partner_opted_in_at = models.DateTimeField(null=True, blank=True)
    partner_opted_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    mode = models.CharField(max_length=8, choices=Mode.choices, default=Mode.OPEN)
    # Blind mode: HMAC key agreed for this partnership (hex); rotating it voids the tokens.
    blind_key = models.CharField(max_length=64, blank=True)
    key_rotated_at = models.DateTimeField(null=True, blank=True)
    min_count = models.PositiveSmallIntegerField(default=DEFAULT_MIN_COUNT)

    def __str__(self) -> str:
        return f"Account mapping with {self.partner}"

    @property
    def is_active(self) -> bool:
        return self.vendor_opted_in_at is not None and self.partner_opted_in_at is not None


class Population(models.Model):
    """A named set of one side's accounts: a standard one, or a standard one narrowed by filter."""

    side = models.CharField(max_length=8, choices=Side.choices)
    partner = models.ForeignKey(
        Partner, null=True, blank=True, on_delete=models.CASCADE, related_name="populations"
    )
    key = models.SlugField(max_length=48)
    name = models.CharField(max_length=80)
    base = models.CharField(max_length=24, choices=Base.choices)
    country = models.CharField(max_length=2, blank=True)
    industry = models.CharField(max_length=64, blank=True)
    is_standard = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_standard", "id"]
        constraints = [
            models.UniqueConstraint(fields=["side", "partner", "key"], name="population_key"),
            models.CheckConstraint(
                condition=(models.Q(side=Side.VENDOR, partner__isnull=True))
                | models.Q(side=Side.PARTNER, partner__isnull=False),
                name="population_owner_matches_side",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SharingRule(models.Model):
    """What the other side sees of one of this side's populations. No rule means counts only."""

    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="rules")
    population = models.ForeignKey(Population, on_delete=models.CASCADE, related_name="rules")
    level = models.CharField(max_length=8, choices=Level.choices, default=Level.COUNTS)
    fields = models.JSONField(default=list)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["partnership", "population"], name="one_rule")
        ]

    def __str__(self) -> str:
        return f"{self.population}: {self.level}"


class AccountList(models.Model):
    """One upload of a partner's accounts (a CSV, or keyed hashes in blind mode). The newest
    succeeded list is the partner's current one; processing runs in the background."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed (nothing stored)"

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="account_lists")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    is_blind = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    stage = models.CharField(max_length=64, blank=True)
    progress = models.FloatField(default=0.0)
    row_count = models.PositiveIntegerField(default=0)
    matched_count = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)
    upload_path = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-uploaded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.partner} accounts #{self.pk} ({self.status})"


class PartnerAccount(MatchFields):
    """One account of a partner's current list. In blind mode only the id and status are known."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="mapped_accounts")
    account_list = models.ForeignKey(AccountList, on_delete=models.CASCADE, related_name="accounts")
    external_id = models.CharField(max_length=128)
    name = models.CharField(max_length=255, blank=True)
    domain = models.CharField(max_length=253, blank=True)
    country = models.CharField(max_length=2, blank=True)
    industry = models.CharField(max_length=64, blank=True)
    registration_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=16, choices=AccountStatus.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["partner", "external_id"], name="partner_account_id")
        ]
        indexes = [models.Index(fields=["partner", "company"])]

    def __str__(self) -> str:
        return self.name or self.external_id


class BlindToken(models.Model):
    """A keyed hash of one normalised identity of a partner's account (blind mode)."""

    account = models.ForeignKey(PartnerAccount, on_delete=models.CASCADE, related_name="tokens")
    kind = models.CharField(max_length=16)
    token = models.CharField(max_length=64, db_index=True)

    def __str__(self) -> str:
        return f"{self.kind} token of {self.account_id}"


class LinkReview(models.Model):
    """A person's decision on a medium-confidence link of a partner record to a company. Kept
    across re-uploads and re-matching, so nobody decides the same pair twice."""

    class Decision(models.TextChoices):
        CONFIRMED = "confirmed", "Confirmed: the same company"
        REJECTED = "rejected", "Rejected: different companies"

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="link_reviews")
    external_id = models.CharField(max_length=128)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="link_reviews")
    decision = models.CharField(max_length=16, choices=Decision.choices)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "external_id", "company"], name="link_review_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.external_id} → {self.company_id}: {self.decision}"
