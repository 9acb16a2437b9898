from __future__ import annotations

from django.conf import settings
from django.db import models

from mutualist.partners.choices import PartnerType, Region, SegmentKind, Status, Tier


class Segment(models.Model):
    """A sub-ecosystem a partner can belong to: an industry, technology, practice or geography."""

    kind = models.CharField(max_length=16, choices=SegmentKind.choices)
    code = models.SlugField(max_length=64)
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["kind", "name"]
        constraints = [models.UniqueConstraint(fields=["kind", "code"], name="segment_kind_code")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.name}"


class Partner(models.Model):
    name = models.CharField(max_length=200, db_index=True)
    legal_name = models.CharField(max_length=300, blank=True)
    domain = models.CharField(
        max_length=253, blank=True, db_index=True, help_text="Main web domain"
    )
    other_domains = models.JSONField(default=list, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2")
    region = models.CharField(max_length=8, choices=Region.choices, blank=True)
    # Stored delimited (",reseller,isv,") so `types__contains=",isv,"` filters whole codes on
    # every database; JSON containment lookups do not work on SQLite.
    types = models.CharField(max_length=300, blank=True, db_index=True)
    segments = models.ManyToManyField(Segment, blank=True, related_name="partners")
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PROSPECT, db_index=True
    )
    status_since = models.DateTimeField()
    tier = models.CharField(max_length=16, choices=Tier.choices, blank=True, db_index=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_partners",
        help_text="The alliance manager who owns the relationship.",
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def type_list(self) -> list[str]:
        return split_types(self.types)

    @property
    def type_labels(self) -> list[str]:
        return [PartnerType(t).label for t in self.type_list if t in PartnerType.values]


def join_types(types: list[str]) -> str:
    return "," + ",".join(sorted(set(types))) + "," if types else ""


def split_types(stored: str) -> list[str]:
    return [t for t in stored.split(",") if t]


class PartnerExternalId(models.Model):
    """The partner's id in a source system (salesforce, hubspot, synth, …)."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="external_ids")
    source_system = models.CharField(max_length=32)
    external_id = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source_system", "external_id"], name="partner_external_id_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source_system}:{self.external_id}"


class StatusChange(models.Model):
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=16, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=Status.choices)
    changed_at = models.DateTimeField()
    reason = models.CharField(max_length=500, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["partner", "changed_at", "id"]

    def __str__(self) -> str:
        return f"{self.partner} → {self.to_status} at {self.changed_at:%Y-%m-%d}"


class TierChange(models.Model):
    """Dated tier history: the tier in force from `effective_from` until the next entry."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="tier_changes")
    tier = models.CharField(max_length=16, choices=Tier.choices, blank=True)
    effective_from = models.DateTimeField()
    reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["partner", "effective_from", "id"]

    def __str__(self) -> str:
        return f"{self.partner}: {self.tier or 'no tier'} from {self.effective_from:%Y-%m-%d}"
