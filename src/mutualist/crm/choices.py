from __future__ import annotations

from django.db import models


class SizeBand(models.TextChoices):
    SMB = "smb", "SMB"
    MID_MARKET = "mid_market", "Mid-market"
    ENTERPRISE = "enterprise", "Enterprise"


class AccountLifecycle(models.TextChoices):
    PROSPECT = "prospect", "Prospect"
    CUSTOMER = "customer", "Customer"
    CHURNED = "churned", "Churned"


class OpportunityType(models.TextChoices):
    NEW_BUSINESS = "new_business", "New business"
    EXPANSION = "expansion", "Expansion"
    RENEWAL = "renewal", "Renewal"


class InvolvementRole(models.TextChoices):
    SOURCED = "sourced", "Sourced"
    INFLUENCED = "influenced", "Influenced"
    CO_SELL = "co_sell", "Co-sell"
    REFERRAL = "referral", "Referral"
    DELIVERY = "delivery", "Delivery"
    TECHNOLOGY = "technology", "Technology"


class LeadStatus(models.TextChoices):
    OPEN = "open", "Open"
    WORKING = "working", "Working"
    CONVERTED = "converted", "Converted"
    DISQUALIFIED = "disqualified", "Disqualified"


class LeadSource(models.TextChoices):
    PARTNER_REFERRAL = "partner_referral", "Partner referral"
    INBOUND = "inbound", "Inbound"
    COLD_OUTBOUND = "cold_outbound", "Cold outbound"
    EVENT = "event", "Event"
    OTHER = "other", "Other"


class CostCategory(models.TextChoices):
    SALES = "sales", "Sales"
    MARKETING = "marketing", "Marketing"
    PARTNER_TEAM = "partner_team", "Partner team"
    MDF = "mdf", "Market development funds"
    COMMISSIONS = "commissions", "Commissions"
    TOOLING = "tooling", "Tooling"
