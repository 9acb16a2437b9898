"""Configuration of the synthetic ecosystem and the closed vocabularies it draws from.

The vocabularies mirror the codes used by the Django apps (``partners.choices`` and
``crm.choices``) but are restated here because ``mutualist.synth`` must not import Django.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SynthConfig:
    """Sizes, seed and date range of one synthetic ecosystem."""

    partners: int = 60
    accounts: int = 2_000
    opportunities: int = 8_000
    seed: int = 7
    start: dt.date = dt.date(2022, 1, 1)  # first opportunity creation date
    end: dt.date = dt.date(2026, 10, 31)  # last date of data (as-of, inclusive)
    alliance_managers: int = 4  # partner owners are indices 0..n-1
    currency: str = "USD"

    def __post_init__(self) -> None:
        # Fail early with a clear message instead of deep inside a numpy call.
        if self.partners < 1:
            raise ValueError("partners must be >= 1")
        if self.accounts < 3:
            raise ValueError("accounts must be >= 3 (one per size band)")
        if self.opportunities < 1:
            raise ValueError("opportunities must be >= 1")
        if self.alliance_managers < 1:
            raise ValueError("alliance_managers must be >= 1")
        if (self.end - self.start).days < 90:
            raise ValueError("end must be at least 90 days after start")
        if len(self.currency) != 3:
            raise ValueError("currency must be an ISO 4217 code")

    def to_json(self) -> dict[str, Any]:
        """The config as plain JSON types (dates as ISO strings)."""
        return {
            "partners": self.partners,
            "accounts": self.accounts,
            "opportunities": self.opportunities,
            "seed": self.seed,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "alliance_managers": self.alliance_managers,
            "currency": self.currency,
        }


SIZES: dict[str, SynthConfig] = {
    "small": SynthConfig(),
    "medium": SynthConfig(partners=300, accounts=40_000, opportunities=200_000),
    "large": SynthConfig(partners=1_000, accounts=150_000, opportunities=1_000_000),
}

PARTNER_TYPES: tuple[str, ...] = (
    "reseller",
    "referral",
    "affiliate",
    "system_integrator",
    "msp",
    "isv",
    "distributor",
    "strategic_alliance",
)
INDUSTRIES: tuple[str, ...] = (
    "financial_services",
    "healthcare",
    "manufacturing",
    "retail",
    "public_sector",
    "technology",
    "energy",
    "media",
)
TECHNOLOGIES: tuple[str, ...] = (
    "aws",
    "azure",
    "gcp",
    "salesforce",
    "sap",
    "snowflake",
    "kubernetes",
    "servicenow",
)
PRACTICES: tuple[str, ...] = (
    "data_analytics",
    "security",
    "cloud_migration",
    "crm_implementation",
    "managed_services",
    "ai_ml",
)
PARTNER_STATUSES: tuple[str, ...] = (
    "prospect",
    "evaluating",
    "negotiating",
    "onboarding",
    "active",
    "inactive",
    "exited",
)
TIERS: tuple[str, ...] = ("registered", "silver", "gold", "platinum")
SIZE_BANDS: tuple[str, ...] = ("smb", "mid_market", "enterprise")
LIFECYCLES: tuple[str, ...] = ("prospect", "customer", "churned")
OPEN_STAGES: tuple[str, ...] = (
    "Prospecting",
    "Qualification",
    "Needs Analysis",
    "Value Proposition",
    "Id. Decision Makers",
    "Perception Analysis",
    "Proposal/Price Quote",
    "Negotiation/Review",
)
STAGES: tuple[str, ...] = (*OPEN_STAGES, "Closed Won", "Closed Lost")
OPP_TYPES: tuple[str, ...] = ("new_business", "expansion", "renewal")
OPP_LEAD_SOURCES: tuple[str, ...] = (
    "Partner Referral",
    "Web",
    "Phone Inquiry",
    "Purchased List",
    "Cold Call",
    "Trade Show",
    "Other",
)
ROLES: tuple[str, ...] = ("sourced", "influenced", "co_sell", "referral", "delivery", "technology")
LEAD_STATUSES: tuple[str, ...] = ("open", "working", "converted", "disqualified")
LEAD_SOURCES: tuple[str, ...] = ("partner_referral", "inbound", "cold_outbound", "event")
COST_CATEGORIES: tuple[str, ...] = (
    "sales",
    "marketing",
    "partner_team",
    "mdf",
    "commissions",
    "tooling",
)
# Attribution buckets, in the order of their integer codes.
BUCKETS: tuple[str, ...] = ("unattributed", "influenced", "sourced")
