"""The vendor's CRM as mutualist sees it: accounts, opportunities and who partnered on them."""

from __future__ import annotations

from typing import Any

from django.db import models

from mutualist.crm.choices import (
    AccountLifecycle,
    CostCategory,
    InvolvementRole,
    LeadSource,
    LeadStatus,
    OpportunityType,
    SizeBand,
)
from mutualist.partners.models import Partner


def money_field(**kwargs: Any) -> models.DecimalField[Any, Any]:
    """Money amounts: decimal (never float) with cents; the currency is a sibling field."""
    return models.DecimalField(max_digits=18, decimal_places=2, **kwargs)


class ExternalRecord(models.Model):
    """A record that came from a source system, upserted on (source_system, external_id)."""

    source_system = models.CharField(max_length=32, blank=True, default="")
    external_id = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        abstract = True


def external_id_unique(name: str) -> models.UniqueConstraint:
    return models.UniqueConstraint(
        fields=["source_system", "external_id"],
        condition=~models.Q(external_id=""),
        name=name,
    )


class Account(ExternalRecord):
    """A customer or prospect company."""

    name = models.CharField(max_length=255, db_index=True)
    domain = models.CharField(max_length=253, blank=True, db_index=True)
    country = models.CharField(max_length=2, blank=True)
    industry = models.CharField(max_length=64, blank=True, db_index=True)
    size_band = models.CharField(max_length=16, choices=SizeBand.choices, blank=True)
    lifecycle = models.CharField(
        max_length=16, choices=AccountLifecycle.choices, default=AccountLifecycle.PROSPECT
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]
        constraints = [external_id_unique("account_external_id_unique")]

    def __str__(self) -> str:
        return self.name


# An account's and an opportunity's own data, in the order bulk writes (imports, the demo
# load) list them.
ACCOUNT_DATA_FIELDS = (
    "name",
    "domain",
    "country",
    "industry",
    "size_band",
    "lifecycle",
    "created_at",
)

OPPORTUNITY_DATA_FIELDS = (
    "name",
    "amount",
    "currency",
    "acv",
    "stage",
    "is_closed",
    "is_won",
    "created_at",
    "closed_at",
    "type",
    "lead_source",
)


class Opportunity(ExternalRecord):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="opportunities")
    name = models.CharField(max_length=255)
    amount = money_field(null=True, blank=True)
    currency = models.CharField(max_length=3, default="USD")
    # Annual contract value: amount over the term in years; null when the term is unknown.
    acv = money_field(null=True, blank=True)
    stage = models.CharField(max_length=64, db_index=True)
    is_closed = models.BooleanField(default=False)
    is_won = models.BooleanField(default=False)
    created_at = models.DateTimeField(db_index=True)
    closed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    type = models.CharField(
        max_length=16, choices=OpportunityType.choices, default=OpportunityType.NEW_BUSINESS
    )
    lead_source = models.CharField(max_length=64, blank=True)
    partners = models.ManyToManyField(
        Partner, through="PartnerInvolvement", related_name="opportunities"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "opportunities"
        constraints = [
            external_id_unique("opportunity_external_id_unique"),
            models.CheckConstraint(
                name="won_implies_closed",
                condition=models.Q(is_won=False) | models.Q(is_closed=True),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PartnerInvolvement(models.Model):
    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="involvements"
    )
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="involvements")
    role = models.CharField(max_length=16, choices=InvolvementRole.choices)
    attached_at = models.DateTimeField()
    is_primary = models.BooleanField(default=False)

    class Meta:
        ordering = ["attached_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["opportunity", "partner", "role"], name="involvement_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.partner} ({self.role}) on {self.opportunity}"


class StageChange(ExternalRecord):
    """One entry of an opportunity's stage history (Salesforce OpportunityHistory): the deal
    entered `stage` at `changed_at`, with the amount, close date and probability it then had.

    CloseDate on the opportunity is editable; these timestamps are when things happened."""

    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="stage_changes"
    )
    stage = models.CharField(max_length=64)
    amount = money_field(null=True, blank=True)
    close_date = models.DateField(null=True, blank=True)
    probability = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    changed_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["changed_at", "id"]
        constraints = [external_id_unique("stage_change_external_id_unique")]

    def __str__(self) -> str:
        return f"{self.opportunity_id} entered {self.stage} at {self.changed_at:%Y-%m-%d %H:%M}"


class Lead(ExternalRecord):
    company = models.CharField(max_length=255)
    created_at = models.DateTimeField(db_index=True)
    converted_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=LeadStatus.choices, default=LeadStatus.OPEN)
    source = models.CharField(max_length=32, choices=LeadSource.choices, default=LeadSource.OTHER)
    partner = models.ForeignKey(
        Partner, null=True, blank=True, on_delete=models.SET_NULL, related_name="leads"
    )
    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="leads"
    )
    # Where and what the lead is, for routing it to a partner (the account's, when it has one).
    # A database default too: the bulk loaders name their columns and leave these out.
    country = models.CharField(max_length=2, blank=True, default="", db_default="")
    industry = models.CharField(max_length=64, blank=True, default="", db_default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [external_id_unique("lead_external_id_unique")]

    def __str__(self) -> str:
        return self.company


class RevenueMonth(models.Model):
    """An account's monthly recurring revenue in one month (first day of the month)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="revenue_months")
    month = models.DateField()
    mrr = money_field()
    currency = models.CharField(max_length=3, default="USD")

    class Meta:
        ordering = ["account", "month"]
        constraints = [
            models.UniqueConstraint(fields=["account", "month"], name="revenue_month_unique")
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.month:%Y-%m}: {self.mrr} {self.currency}"


class Cost(models.Model):
    month = models.DateField(db_index=True)
    category = models.CharField(max_length=16, choices=CostCategory.choices)
    amount = money_field()
    currency = models.CharField(max_length=3, default="USD")
    partner = models.ForeignKey(
        Partner, null=True, blank=True, on_delete=models.SET_NULL, related_name="costs"
    )
    program = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["month", "category"]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.category}: {self.amount} {self.currency}"


class ExchangeRate(models.Model):
    """How many units of the reporting currency one unit of `currency` was worth in `month`
    (finance's monthly average rate). The board converts amounts with it."""

    month = models.DateField()  # first day of the month
    currency = models.CharField(max_length=3)
    rate = models.DecimalField(max_digits=18, decimal_places=8)

    class Meta:
        ordering = ["currency", "month"]
        constraints = [
            models.UniqueConstraint(fields=["month", "currency"], name="exchange_rate_month")
        ]

    def __str__(self) -> str:
        return f"{self.currency} {self.month:%Y-%m}: {self.rate}"
