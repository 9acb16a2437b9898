"""Closed vocabularies of the partner registry."""

from __future__ import annotations

from django.db import models


class PartnerType(models.TextChoices):
    RESELLER = "reseller", "Reseller"
    REFERRAL = "referral", "Referral partner"
    AFFILIATE = "affiliate", "Affiliate / ambassador"
    SYSTEM_INTEGRATOR = "system_integrator", "System integrator"
    MSP = "msp", "Managed service provider"
    ISV = "isv", "ISV / technology partner"
    DISTRIBUTOR = "distributor", "Distributor"
    STRATEGIC_ALLIANCE = "strategic_alliance", "Strategic alliance"


class Status(models.TextChoices):
    PROSPECT = "prospect", "Prospect"
    EVALUATING = "evaluating", "Evaluating"
    NEGOTIATING = "negotiating", "Negotiating"
    ONBOARDING = "onboarding", "Onboarding"
    ACTIVE = "active", "Active"
    INACTIVE = "inactive", "Inactive"
    EXITED = "exited", "Exited"


# Allowed lifecycle moves. Going back one step (a stalled negotiation, a lapsed partner
# reactivated) is allowed; skipping ahead is not, so the dated history stays complete.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.PROSPECT: frozenset({Status.EVALUATING, Status.EXITED}),
    Status.EVALUATING: frozenset({Status.NEGOTIATING, Status.PROSPECT, Status.EXITED}),
    Status.NEGOTIATING: frozenset({Status.ONBOARDING, Status.EVALUATING, Status.EXITED}),
    Status.ONBOARDING: frozenset({Status.ACTIVE, Status.NEGOTIATING, Status.EXITED}),
    Status.ACTIVE: frozenset({Status.INACTIVE, Status.EXITED}),
    Status.INACTIVE: frozenset({Status.ACTIVE, Status.EXITED}),
    Status.EXITED: frozenset({Status.PROSPECT}),
}


class Tier(models.TextChoices):
    NONE = "", "No tier"
    REGISTERED = "registered", "Registered"
    SILVER = "silver", "Silver"
    GOLD = "gold", "Gold"
    PLATINUM = "platinum", "Platinum"


class SegmentKind(models.TextChoices):
    INDUSTRY = "industry", "Industry"
    TECHNOLOGY = "technology", "Technology"
    PRACTICE = "practice", "Practice"
    GEOGRAPHY = "geography", "Geography"


class Region(models.TextChoices):
    NA = "NA", "North America"
    EMEA = "EMEA", "Europe, Middle East and Africa"
    APAC = "APAC", "Asia-Pacific"
    LATAM = "LATAM", "Latin America"
