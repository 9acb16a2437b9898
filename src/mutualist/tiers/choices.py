"""Closed vocabularies of tier governance."""

from __future__ import annotations

from django.db import models

from mutualist.partners.choices import Tier

# The tiers a program level can stand for ("no tier" is what a partner has below every level).
LEVEL_TIERS = tuple(t for t in Tier.values if t)


class Operator(models.TextChoices):
    AT_LEAST = ">=", "at least"
    AT_MOST = "<=", "at most"


class BenefitKind(models.TextChoices):
    DISCOUNT = "discount", "Discount (%)"
    MDF_RATE = "mdf_rate", "MDF accrual rate (% of sourced revenue)"
    DEALREG_PRIORITY = "dealreg_priority", "Deal-registration priority (1 = first)"


class ProposalStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    APPLIED = "applied", "Applied"
    SUPERSEDED = "superseded", "Superseded"


# A proposal in these states still decides something; a new evaluation leaves it alone (or
# supersedes it when the partner's eligibility moved again).
OPEN_STATUSES = (ProposalStatus.PROPOSED, ProposalStatus.APPROVED)
