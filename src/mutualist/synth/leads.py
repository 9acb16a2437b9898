"""Leads: partner referrals convert more often and faster than cold outbound.

Partner-referral leads are drawn from the same (partner, month) deal-flow intensity as the
partner deals, so a growing partner also refers more leads. A converted lead points at the
account of an opportunity created soon after the conversion (for partner referrals, one
the same partner sourced), so leads, accounts and deals tell a consistent story.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import effects as fx
from . import names as nm
from .config import LEAD_SOURCES, LEAD_STATUSES, SynthConfig
from .ids import LEAD_PREFIX, salesforce_ids
from .opportunities import SOURCED, OppFrame
from .partners import PartnerFrame
from .timeline import DAY, NAT, Array, Clock, categorical, lognormal_days, rng_for, to_datetime

PARTNER_REFERRAL = LEAD_SOURCES.index("partner_referral")
_STATUS = {s: i for i, s in enumerate(LEAD_STATUSES)}


@dataclass
class LeadFrame:
    table: dict[str, Array]
    account: Array  # converted account per lead (-1 when not converted)
    converted: Array  # epoch seconds, NAT when not converted


def build_leads(
    cfg: SynthConfig,
    clock: Clock,
    partners: PartnerFrame,
    opps: OppFrame,
    account_name: Array,
) -> LeadFrame:
    rng = rng_for(cfg.seed, "leads")
    n = round(cfg.opportunities * fx.LEADS_PER_OPPORTUNITY)
    source, partner, created = _draw(rng, n, clock, partners)
    order = np.argsort(created, kind="stable")  # chronological Ids, as in Salesforce
    source, partner, created = source[order], partner[order], created[order]
    median = np.array([fx.LEAD_CONVERSION_MEDIAN_DAYS[s] for s in LEAD_SOURCES])[source]
    rate = np.array([fx.LEAD_CONVERSION_RATE[s] for s in LEAD_SOURCES])[source]
    will_convert = rng.random(n) < rate
    at = created + lognormal_days(rng, median, fx.LEAD_CONVERSION_SIGMA).astype(np.int64)
    is_converted = will_convert & (at < clock.as_of_ts)
    converted = np.where(is_converted, at, NAT)
    status = _statuses(rng, is_converted, will_convert, created, clock)
    account = _converted_accounts(rng, partner, converted, opps, cfg.accounts)
    company = nm.random_company_names(rng, n)
    company[is_converted] = account_name[account[is_converted]]
    ids = np.arange(n, dtype=np.int64)
    table = {
        "id": ids,
        "external_id": salesforce_ids(LEAD_PREFIX, ids + 1),
        "company": company,
        "created_at": to_datetime(created),
        "converted_at": to_datetime(converted),
        "status": categorical(LEAD_STATUSES, status),
        "source": categorical(LEAD_SOURCES, source),
        "partner_id": partner,
        "account_id": account,
    }
    return LeadFrame(table=table, account=account, converted=converted)


def _draw(
    rng: np.random.Generator, n: int, clock: Clock, partners: PartnerFrame
) -> tuple[Array, Array, Array]:
    mix = np.array([fx.LEAD_SOURCE_MIX[s] for s in LEAD_SOURCES])
    source = rng.choice(len(LEAD_SOURCES), size=n, p=mix / mix.sum())
    lam = partners.intensity
    if lam.sum() <= 0:  # no partner was ever eligible: nobody can refer a lead
        source[source == PARTNER_REFERRAL] = LEAD_SOURCES.index("inbound")
    month = clock.trend_months(rng, n, fx.DIRECT_YEARLY_GROWTH)
    partner = np.full(n, -1, dtype=np.int64)
    ref = np.flatnonzero(source == PARTNER_REFERRAL)
    if len(ref):
        cell = rng.choice(lam.size, size=len(ref), p=(lam / lam.sum()).ravel())
        partner[ref], month[ref] = np.divmod(cell, clock.months)
    return source, partner, clock.uniform_in_month(rng, month)


def _statuses(
    rng: np.random.Generator,
    is_converted: Array,
    will_convert: Array,
    created: Array,
    clock: Clock,
) -> Array:
    """Converted; still being worked (will convert later); old non-converters mostly
    disqualified, with a few forgotten open ones; recent ones open or working."""
    n = len(created)
    u = rng.random(n)
    old = created < clock.as_of_ts - 60 * DAY
    status = np.where(u < 0.5, _STATUS["open"], _STATUS["working"])
    old_status = np.select(
        [u < 0.85, u < 0.95], [_STATUS["disqualified"], _STATUS["working"]], _STATUS["open"]
    )
    status = np.where(old, old_status, status)
    status[will_convert & ~is_converted] = _STATUS["working"]
    status[is_converted] = _STATUS["converted"]
    return status


def _converted_accounts(
    rng: np.random.Generator, partner: Array, converted: Array, opps: OppFrame, n_accounts: int
) -> Array:
    """For each converted lead, the account of an opportunity created just after the
    conversion: one the same partner sourced for referrals, a non-sourced one otherwise."""
    account = np.full(len(partner), -1, dtype=np.int64)
    conv = converted != NAT
    sourced = opps.bucket == SOURCED
    direct_pool = np.flatnonzero(~sourced)
    _match(rng, account, np.flatnonzero(conv & (partner < 0)), converted, direct_pool, opps)
    referred = np.flatnonzero(conv & (partner >= 0))
    fallback = np.flatnonzero(sourced)
    by_partner = np.argsort(partner[referred], kind="stable")
    referred = referred[by_partner]
    starts = np.searchsorted(partner[referred], np.unique(partner[referred]))
    for rows in np.split(referred, starts[1:]) if len(referred) else []:
        pool = np.flatnonzero(sourced & (opps.partner == partner[rows[0]]))
        _match(rng, account, rows, converted, pool if len(pool) else fallback, opps)
    missing = conv & (account < 0)  # no suitable opportunity at all (tiny configs)
    account[missing] = rng.integers(0, n_accounts, int(missing.sum()))
    return account


def _match(
    rng: np.random.Generator,
    account: Array,
    rows: Array,
    converted: Array,
    pool: Array,
    opps: OppFrame,
) -> None:
    """Opportunities are sorted by creation, so a pool of their indices is too."""
    if not len(rows) or not len(pool):
        return
    j = np.searchsorted(opps.created[pool], converted[rows]) + rng.integers(0, 3, len(rows))
    account[rows] = opps.table["account_id"][pool[np.minimum(j, len(pool) - 1)]]
