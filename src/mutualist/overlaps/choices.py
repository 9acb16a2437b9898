"""The vocabulary of account mapping: sides, standard populations, sharing levels, fields."""

from __future__ import annotations

from django.db import models


class Side(models.TextChoices):
    VENDOR = "vendor", "Vendor"
    PARTNER = "partner", "Partner"


class Base(models.TextChoices):
    """The standard populations (Crossbeam's three); custom populations narrow one of them."""

    CUSTOMERS = "customers", "Customers"
    OPEN_OPPORTUNITIES = "open_opportunities", "Open opportunities"
    PROSPECTS = "prospects", "Prospects"


class Level(models.TextChoices):
    """What the other side of a partnership sees of one population, most open first."""

    FULL = "full", "Full records (including accounts we do not share)"
    OVERLAPS = "overlaps", "Overlapping accounts only"
    COUNTS = "counts", "Counts only"
    HIDDEN = "hidden", "Hidden"


class Mode(models.TextChoices):
    OPEN = "open", "Open (the platform matches names and domains)"
    BLIND = "blind", "Blind (keyed hashes only: exact matches)"


class AccountStatus(models.TextChoices):
    """A partner's account list says, per account, which standard population it is in."""

    CUSTOMER = "customer", "Customer"
    OPEN_OPPORTUNITY = "open_opportunity", "Open opportunity"
    PROSPECT = "prospect", "Prospect"


STATUS_BASE = {
    AccountStatus.CUSTOMER: Base.CUSTOMERS,
    AccountStatus.OPEN_OPPORTUNITY: Base.OPEN_OPPORTUNITIES,
    AccountStatus.PROSPECT: Base.PROSPECTS,
}

# Fields a side may share per population; the sharing rule picks a subset.
SHAREABLE_FIELDS = {
    Side.VENDOR: ("name", "domain", "country", "industry", "size_band", "open_amount"),
    Side.PARTNER: ("name", "domain", "country", "industry", "status"),
}
DEFAULT_FIELDS = ("name", "domain", "country")
# Counts under this are shown as "fewer than N" and populations smaller than this are not
# counted at all, so that a tiny population cannot be used to test one account's membership.
DEFAULT_MIN_COUNT = 5
MIN_COUNT_FLOOR = 3
