"""Value maps where CRMs and orgs differ, with defaults from Salesforce's standard picklists.

An org overrides any of them with a TOML file (`--config org.toml`):

    [lead_sources]            # LeadSource value -> partner_referral | inbound | cold_outbound | event | other
    "Partner Referral" = "partner_referral"
    [partner_roles]           # OpportunityPartner.Role -> sourced | influenced | co_sell | referral | delivery | technology
    "Reseller" = "sourced"
    [stages]                  # StageName -> open | won | lost (used when IsClosed/IsWon are absent)
    "Closed Won" = "won"
    [settings]
    default_currency = "USD"
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from mutualist.lib.errors import ValidationFailed

LEAD_SOURCES = {
    "partner referral": "partner_referral",
    "partner": "partner_referral",
    "seminar - partner": "partner_referral",
    "referral": "partner_referral",
    "external referral": "partner_referral",
    "web": "inbound",
    "online form": "inbound",
    "phone inquiry": "inbound",
    "advertisement": "inbound",
    "public relations": "inbound",
    "word of mouth": "inbound",
    "employee referral": "inbound",
    "cold call": "cold_outbound",
    "purchased list": "cold_outbound",
    "outbound": "cold_outbound",
    "trade show": "event",
    "seminar - internal": "event",
    "webinar": "event",
}
PARTNER_ROLES = {
    "reseller": "sourced",
    "distributor": "sourced",
    "referral": "referral",
    "influencer": "influenced",
    "consultant": "influenced",
    "agency": "influenced",
    "co-sell": "co_sell",
    "system integrator": "delivery",
    "installation partner": "delivery",
    "technology partner": "technology",
    "supplier": "technology",
    "vendor": "technology",
    "manufacturer": "technology",
}
STAGES = {
    "closed won": "won",
    "closed lost": "lost",
}
OPPORTUNITY_TYPES = {
    "new business": "new_business",
    "new customer": "new_business",
    "existing business": "expansion",
    "existing customer - upgrade": "expansion",
    "upsell": "expansion",
    "expansion": "expansion",
    "renewal": "renewal",
    "existing customer - replacement": "renewal",
}
LEAD_STATUSES = {
    "open - not contacted": "open",
    "new": "open",
    "open": "open",
    "working - contacted": "working",
    "working": "working",
    "qualified": "working",
    "nurturing": "working",
    "closed - converted": "converted",
    "converted": "converted",
    "closed - not converted": "disqualified",
    "unqualified": "disqualified",
    "disqualified": "disqualified",
}
# Account.Type values that mark a partner account, and the partner type they suggest.
PARTNER_ACCOUNT_TYPES = {
    "channel partner / reseller": "reseller",
    "reseller": "reseller",
    "technology partner": "isv",
    "installation partner": "system_integrator",
    "partner": "referral",
    "distributor": "distributor",
}
INDUSTRIES = {
    "finance": "financial_services",
    "banking": "financial_services",
    "insurance": "financial_services",
    "financial services": "financial_services",
    "healthcare": "healthcare",
    "manufacturing": "manufacturing",
    "retail": "retail",
    "government": "public_sector",
    "education": "public_sector",
    "technology": "technology",
    "communications": "technology",
    "energy": "energy",
    "utilities": "energy",
    "media": "media",
    "entertainment": "media",
}
ALLOWED = {
    "lead_sources": {"partner_referral", "inbound", "cold_outbound", "event", "other"},
    "partner_roles": {"sourced", "influenced", "co_sell", "referral", "delivery", "technology"},
    "stages": {"open", "won", "lost"},
}


@dataclass
class ValueMaps:
    lead_sources: dict[str, str] = field(default_factory=lambda: dict(LEAD_SOURCES))
    partner_roles: dict[str, str] = field(default_factory=lambda: dict(PARTNER_ROLES))
    stages: dict[str, str] = field(default_factory=lambda: dict(STAGES))
    default_currency: str = "USD"

    def lead_source(self, value: str) -> str:
        return self.lead_sources.get(value.strip().lower(), "other")

    def partner_role(self, value: str) -> str | None:
        return self.partner_roles.get(value.strip().lower())

    def stage_outcome(self, stage: str) -> str:
        return self.stages.get(stage.strip().lower(), "open")


def load_value_maps(path: Path | None) -> ValueMaps:
    """Defaults, overridden by the TOML file if given; errors name the file, table and key."""
    maps = ValueMaps()
    if path is None:
        return maps
    try:
        config = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationFailed({str(path): f"cannot be read: {exc}"}) from None
    except tomllib.TOMLDecodeError as exc:
        raise ValidationFailed({str(path): f"is not valid TOML: {exc}"}) from None
    errors: dict[str, str] = {}
    for table, entries in config.items():
        if table == "settings":
            maps.default_currency = str(entries.get("default_currency", maps.default_currency))
            continue
        if table not in ALLOWED:
            errors[f"{path.name} [{table}]"] = (
                f"unknown table; use {', '.join(sorted([*ALLOWED, 'settings']))}"
            )
            continue
        target: dict[str, str] = getattr(maps, table)
        for key, value in entries.items():
            if value not in ALLOWED[table]:
                errors[f'{path.name} [{table}] "{key}"'] = (
                    f"{value!r} is not allowed; use one of {', '.join(sorted(ALLOWED[table]))}"
                )
            target[key.strip().lower()] = value
    if errors:
        raise ValidationFailed(errors)
    return maps
