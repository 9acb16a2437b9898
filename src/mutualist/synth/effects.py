"""Planted effects: the generative parameters that the metrics engine should recover.

Everything the generator draws "by design" lives here so that ``truth.py`` can record the
exact numbers that were planted next to what the generated data realises.
"""

from __future__ import annotations

# --- attribution ---------------------------------------------------------------------------
# A partner sources a deal if it is attached (role sourced/referral) no later than this
# many days after the opportunity was created.
ATTRIBUTION_WINDOW_DAYS = 30

# Share of opportunities generated from partner activity (the rest are direct deals). Some
# partner-stream deals end up unattributed because the partner could not yet be attached
# before the as-of date; the realised split is recorded in truth.
PARTNER_STREAM_SHARE = 0.30
# Sourced deals that carry only lead_source "Partner Referral" and no involvement row: a
# real-world data-quality quirk the attribution rule must still count as sourced.
SOURCED_WITHOUT_INVOLVEMENT = 0.04
# Probability that a sourced deal's LeadSource says "Partner Referral".
SOURCED_PARTNER_REFERRAL_LEAD_SOURCE = 0.70

# --- size bands and confounding ------------------------------------------------------------
ACCOUNT_BAND_SHARE = (0.60, 0.28, 0.12)  # smb, mid_market, enterprise
# Direct deals are mostly small ...
DIRECT_BAND_MIX = (0.62, 0.28, 0.10)
# ... while partners pile onto large deals (per primary partner type, see partners.py).
PARTNER_BAND_MIX: dict[str, tuple[float, float, float]] = {
    "referral": (0.45, 0.35, 0.20),
    "affiliate": (0.50, 0.35, 0.15),
    "reseller": (0.30, 0.40, 0.30),
    "msp": (0.30, 0.40, 0.30),
    "distributor": (0.30, 0.40, 0.30),
    "system_integrator": (0.12, 0.35, 0.53),
    "isv": (0.15, 0.35, 0.50),
    "strategic_alliance": (0.05, 0.30, 0.65),
}
# P(a partner-stream deal is sourced rather than influenced), by primary partner type.
PARTNER_P_SOURCED: dict[str, float] = {
    "referral": 0.85,
    "affiliate": 0.80,
    "reseller": 0.70,
    "distributor": 0.60,
    "msp": 0.55,
    "system_integrator": 0.40,
    "isv": 0.35,
    "strategic_alliance": 0.40,
}

# --- win rate ------------------------------------------------------------------------------
# Base (direct) win probability per size band: big deals are harder to win. This is the
# confounder: partners attach to big deals, so a naive comparison understates their lift.
BASE_WIN: dict[str, float] = {"smb": 0.24, "mid_market": 0.19, "enterprise": 0.12}
# Additive lift per bucket, identical in every band, so the stratified effect is exact.
WIN_LIFT: dict[str, float] = {"unattributed": 0.0, "influenced": 0.07, "sourced": 0.12}

# --- deal size -----------------------------------------------------------------------------
ACV_MEDIAN: dict[str, float] = {"smb": 9_000.0, "mid_market": 36_000.0, "enterprise": 140_000.0}
ACV_SIGMA = 0.55  # lognormal sigma of ACV within a band
PARTNER_ACV_MULTIPLIER = 1.20  # sourced and influenced deals, conditional on band
# Contract term in years (1, 2, 3) per band; amount = ACV * term.
TERM_MIX: dict[str, tuple[float, float, float]] = {
    "smb": (0.70, 0.20, 0.10),
    "mid_market": (0.40, 0.35, 0.25),
    "enterprise": (0.20, 0.35, 0.45),
}

# --- cycle time ----------------------------------------------------------------------------
CYCLE_MEDIAN_DAYS: dict[str, float] = {"smb": 35.0, "mid_market": 60.0, "enterprise": 110.0}
CYCLE_SIGMA = 0.60
PARTNER_CYCLE_MULTIPLIER = 0.80  # partner deals: median 20% shorter
# An influenced partner joins after the attribution window, so an influenced deal cannot
# close before day 30: its duration is window + 1 day + lognormal(median - window - 1 day),
# with this floor (days) on that remainder's median.
INFLUENCED_MIN_REMAINDER_DAYS = 10.0
STALE_OPEN_SHARE = 0.004  # deals > 1 year old that never got closed out (pitfall)

# --- post-close attachments (pitfall) -------------------------------------------------------
POST_CLOSE_SHARE_DIRECT = 0.02  # of closed unattributed deals
POST_CLOSE_SHARE_PARTNER = 0.01  # of closed partner deals
EXTRA_INVOLVEMENT_SHARE = 0.25  # partner deals that also get a second (non-primary) partner

# --- revenue, churn and expansion ----------------------------------------------------------
# Monthly churn hazard and organic monthly MRR growth of a customer account, by whether
# its first won deal was partner-attributed (sourced or influenced).
CHURN_HAZARD: dict[str, float] = {"partner": 0.010, "direct": 0.018}
EXPANSION_RATE: dict[str, float] = {"partner": 0.016, "direct": 0.009}
EXPANSION_RATE_SD = 0.004  # per-account spread of the organic growth rate
RENEWAL_SHARE = 0.30  # of deals created after an account's first win

# --- leads ---------------------------------------------------------------------------------
LEADS_PER_OPPORTUNITY = 0.5
LEAD_SOURCE_MIX: dict[str, float] = {
    "partner_referral": 0.18,
    "inbound": 0.37,
    "cold_outbound": 0.30,
    "event": 0.15,
}
LEAD_CONVERSION_RATE: dict[str, float] = {
    "partner_referral": 0.34,
    "inbound": 0.22,
    "cold_outbound": 0.08,
    "event": 0.15,
}
LEAD_CONVERSION_MEDIAN_DAYS: dict[str, float] = {
    "partner_referral": 18.0,
    "inbound": 30.0,
    "cold_outbound": 45.0,
    "event": 35.0,
}
LEAD_CONVERSION_SIGMA = 0.70

# --- partner growth ------------------------------------------------------------------------
# Planted year-over-year growth of an active partner's deal flow (and hence won revenue).
ACTIVE_GROWTH_MEAN = 0.12
ACTIVE_GROWTH_SD = 0.30
ACTIVE_GROWTH_RANGE = (-0.45, 0.90)
PARTNER_SIZE_SIGMA = 1.0  # lognormal spread of partner deal-flow volume (few big partners)
# An inactive/exited partner stops getting deals this many days before it lapsed, so that
# every late attachment on its deals still falls inside its active period.
LAPSE_MARGIN_DAYS = 270

# --- business trend ------------------------------------------------------------------------
DIRECT_YEARLY_GROWTH = 0.25  # direct pipeline and lead volume grow 25% a year
