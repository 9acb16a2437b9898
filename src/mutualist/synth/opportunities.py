"""Opportunities and partner involvements: where the planted effects are drawn.

Generation order matters for honesty of the truth:

1. Deals come from two streams. The *partner stream* samples (partner, month) cells from
   each partner's growing deal-flow intensity, so per-partner growth is real; the *direct
   stream* follows the business trend. Partner deals lean to large size bands (the
   confounder), direct deals to small ones.
2. Timing (creation, cycle length, partner attachment) is drawn next. The bucket a deal
   ends up in is what the data *shows*: an influenced partner that could not yet have been
   attached by the as-of date leaves the deal unattributed.
3. Outcomes (ACV, win) are drawn from that observable bucket and the size band, with the
   planted lifts in ``effects.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from . import effects as fx
from . import names as nm
from .accounts import AccountBase
from .config import (
    BUCKETS,
    OPEN_STAGES,
    OPP_LEAD_SOURCES,
    OPP_TYPES,
    PARTNER_TYPES,
    ROLES,
    SIZE_BANDS,
    STAGES,
    SynthConfig,
)
from .ids import OPPORTUNITY_PARTNER_PREFIX, OPPORTUNITY_PREFIX, salesforce_ids
from .partners import PartnerFrame
from .timeline import (
    DAY,
    FAR_FUTURE,
    HOUR,
    NAT,
    YEAR,
    Array,
    Clock,
    categorical,
    draw_codes,
    lognormal_days,
    rng_for,
    to_datetime,
)

UNATTRIBUTED, INFLUENCED, SOURCED = 0, 1, 2  # codes into BUCKETS
assert BUCKETS == ("unattributed", "influenced", "sourced")
WINDOW = fx.ATTRIBUTION_WINDOW_DAYS * DAY
_ROLE = {r: i for i, r in enumerate(ROLES)}
_TYPE = {t: i for i, t in enumerate(PARTNER_TYPES)}
# Lead sources of deals no partner sourced (never "Partner Referral").
_DIRECT_LEAD_SOURCES = np.array([0.0, 0.35, 0.10, 0.10, 0.15, 0.15, 0.15])
# How likely a partner type is picked as the *second* partner on a deal, or attached after
# close: implementation and technology partners.
_HELPER_WEIGHT = {
    "isv": 3.0,
    "system_integrator": 3.0,
    "msp": 2.0,
    "strategic_alliance": 1.5,
    "reseller": 0.5,
    "distributor": 0.3,
    "referral": 0.2,
    "affiliate": 0.2,
}


@dataclass
class OppFrame:
    """Opportunity and involvement tables plus generator-side arrays for later steps."""

    table: dict[str, Array]
    involvements: dict[str, Array]
    band: Array  # size band code per opportunity
    bucket: Array  # observable attribution bucket code per opportunity
    created: Array  # epoch seconds
    closed: Array  # epoch seconds, NAT when open
    partner: Array  # primary partner per opportunity from the generator (-1: none)
    opp_type: Array  # code into OPP_TYPES
    stats: dict[str, int]


@dataclass
class _Deals:
    """Per-deal arrays while the frame is being built (all the same length)."""

    partner: Array
    month: Array
    band: Array
    intent: Array
    created: Array

    def take(self, order: Array) -> _Deals:
        return _Deals(*(getattr(self, f.name)[order] for f in fields(self)))


def build_opportunities(
    cfg: SynthConfig, clock: Clock, accounts: AccountBase, partners: PartnerFrame
) -> OppFrame:
    rng = rng_for(cfg.seed, "opportunities")
    deals = _streams(rng, cfg.opportunities, clock, partners)
    # Salesforce Ids grow over time, so rows are ordered by creation: id order = time order.
    deals = deals.take(np.argsort(deals.created, kind="stable"))
    account = _pick_accounts(rng, accounts, deals.band)
    duration = _durations(rng, deals, clock)
    close = deals.created + duration
    is_closed = close < clock.as_of_ts
    closed = np.where(is_closed, close, NAT)
    end_obs = np.where(is_closed, close, clock.as_of_ts - 1)  # last pre-close moment seen
    primary = _primary_attachments(rng, deals, end_obs, partners)
    bucket = primary.bucket
    acv, amount = _deal_size(rng, deals.band, bucket)
    is_won = _outcomes(rng, deals.band, bucket, is_closed)
    stage = _stages(rng, is_closed, is_won, deals.created, duration, clock)
    opp_type = _opportunity_types(rng, account, deals.created, closed, is_won, cfg.accounts)
    extra = _extra_involvements(rng, deals, bucket, primary, end_obs, partners)
    post = _post_close_involvements(rng, bucket, closed, primary.has_row, clock, partners)
    created_year = deals.created.astype("datetime64[s]").astype("datetime64[Y]").astype(int)
    table = {
        "account_id": account.astype(np.int64),
        "name": nm.opportunity_names(rng, accounts.name[account], created_year + 1970),
        "amount": amount,
        "currency": categorical([cfg.currency], np.zeros(len(bucket), dtype=np.int64)),
        "acv": acv,
        "stage": categorical(STAGES, stage),
        "is_closed": is_closed,
        "is_won": is_won,
        "created_at": to_datetime(deals.created),
        "closed_at": to_datetime(closed),
        "type": categorical(OPP_TYPES, opp_type),
        "lead_source": categorical(OPP_LEAD_SOURCES, _lead_sources(rng, bucket, primary.has_row)),
    }
    ids = np.arange(len(bucket), dtype=np.int64)
    return OppFrame(
        table={"id": ids, "external_id": salesforce_ids(OPPORTUNITY_PREFIX, ids + 1)} | table,
        involvements=_involvement_table(primary, extra, post),
        band=deals.band,
        bucket=bucket,
        created=deals.created,
        closed=closed,
        partner=np.where(bucket != UNATTRIBUTED, deals.partner, -1),
        opp_type=opp_type,
        stats={
            "partner_stream": int((deals.partner >= 0).sum()),
            "influenced_not_yet_attached": int(primary.not_yet_attached),
            "sourced_without_involvement": int(((bucket == SOURCED) & ~primary.has_row).sum()),
            "stale_open": int((duration >= FAR_FUTURE).sum()),
            "post_close_attachments": len(post.opp),
            "extra_involvements": len(extra.opp),
        },
    )


def _streams(rng: np.random.Generator, n: int, clock: Clock, partners: PartnerFrame) -> _Deals:
    lam = partners.intensity
    total = float(lam.sum())
    n_partner = round(n * fx.PARTNER_STREAM_SHARE) if total > 0 else 0
    cell = rng.choice(lam.size, size=n_partner, p=(lam / max(total, 1e-300)).ravel())
    p, m_p = np.divmod(cell, clock.months)
    band_p = draw_codes(rng, partners.band_mix[p])
    intent_p = np.where(rng.random(n_partner) < partners.p_sourced[p], SOURCED, INFLUENCED)
    n_direct = n - n_partner
    m_d = clock.trend_months(rng, n_direct, fx.DIRECT_YEARLY_GROWTH)
    band_d = rng.choice(len(SIZE_BANDS), size=n_direct, p=np.array(fx.DIRECT_BAND_MIX))
    month = np.concatenate([m_p, m_d]).astype(np.int64)
    return _Deals(
        partner=np.concatenate([p, np.full(n_direct, -1)]).astype(np.int64),
        month=month,
        band=np.concatenate([band_p, band_d]).astype(np.int64),
        intent=np.concatenate([intent_p, np.full(n_direct, UNATTRIBUTED)]).astype(np.int64),
        created=clock.uniform_in_month(rng, month),
    )


def _pick_accounts(rng: np.random.Generator, accounts: AccountBase, band: Array) -> Array:
    """An account of the deal's size band, favouring accounts with high activity."""
    out = np.empty(len(band), dtype=np.int64)
    for b in range(len(SIZE_BANDS)):
        rows = np.flatnonzero(band == b)
        pool = np.flatnonzero(accounts.band == b)
        w = accounts.activity[pool]
        out[rows] = pool[rng.choice(len(pool), size=len(rows), p=w / w.sum())]
    return out


def _durations(rng: np.random.Generator, deals: _Deals, clock: Clock) -> Array:
    """Lognormal sales cycles (seconds); partner deals' median is 20% shorter. Influenced
    deals cannot close before the partner joined (after the window)."""
    median = np.array([fx.CYCLE_MEDIAN_DAYS[b] for b in SIZE_BANDS])[deals.band]
    partner_median = median * fx.PARTNER_CYCLE_MULTIPLIER
    shift = fx.ATTRIBUTION_WINDOW_DAYS + 1.0
    infl_median = np.maximum(partner_median - shift, fx.INFLUENCED_MIN_REMAINDER_DAYS)
    med = np.select(
        [deals.intent == SOURCED, deals.intent == INFLUENCED], [partner_median, infl_median], median
    )
    d = lognormal_days(rng, med, fx.CYCLE_SIGMA)
    d = np.where(deals.intent == INFLUENCED, d + shift * DAY, d)
    d = np.maximum(d, HOUR).astype(np.int64)
    # A few old deals nobody closed out: open far past any plausible cycle (stale pipeline).
    stale = (deals.created < clock.as_of_ts - YEAR) & (rng.random(len(d)) < fx.STALE_OPEN_SHARE)
    d[stale] = FAR_FUTURE
    return d


@dataclass
class _Attachments:
    """Involvement rows of one kind (primary, extra or post-close)."""

    opp: Array
    partner: Array
    role: Array
    attached: Array
    is_primary: Array


@dataclass
class _Primary(_Attachments):
    bucket: Array  # per opportunity
    has_row: Array  # per opportunity: a primary involvement row exists
    not_yet_attached: int


def _uniform_between(rng: np.random.Generator, lo: Array, hi: Array) -> Array:
    return lo + (rng.random(len(lo)) * (hi - lo)).astype(np.int64)


def _primary_attachments(
    rng: np.random.Generator, deals: _Deals, end_obs: Array, partners: PartnerFrame
) -> _Primary:
    n = len(deals.intent)
    attached = np.full(n, NAT, dtype=np.int64)
    src = np.flatnonzero(deals.intent == SOURCED)
    # Sourced: attached at or before created + window (and never after close).
    hi = np.minimum(deals.created[src] + WINDOW, end_obs[src])
    attached[src] = _uniform_between(rng, deals.created[src], hi)
    # Influenced: after the window, before close, before the partner lapsed.
    inf = np.flatnonzero(deals.intent == INFLUENCED)
    lo = deals.created[inf] + WINDOW + HOUR
    lapse = partners.eligible_end[deals.partner[inf], deals.month[inf]] - DAY
    hi = np.minimum(end_obs[inf], lapse)
    feasible = hi > lo
    attached[inf[feasible]] = _uniform_between(rng, lo[feasible], hi[feasible])
    bucket = deals.intent.copy()
    bucket[inf[~feasible]] = UNATTRIBUTED  # partner not attached yet as of the data's end
    # A few sourced deals only say so through LeadSource: no involvement row at all.
    no_row = (bucket == SOURCED) & (rng.random(n) < fx.SOURCED_WITHOUT_INVOLVEMENT)
    has_row = (bucket != UNATTRIBUTED) & ~no_row
    rows = np.flatnonzero(has_row)
    return _Primary(
        opp=rows,
        partner=deals.partner[rows],
        role=_primary_roles(rng, bucket[rows], partners.primary_type[deals.partner[rows]]),
        attached=attached[rows],
        is_primary=np.ones(len(rows), dtype=bool),
        bucket=bucket,
        has_row=has_row,
        not_yet_attached=int((~feasible).sum()),
    )


def _primary_roles(rng: np.random.Generator, bucket: Array, ptype: Array) -> Array:
    """Role of the attributed partner, by bucket and partner type."""
    referral_like = np.isin(ptype, [_TYPE["referral"], _TYPE["affiliate"]])
    sourced_role = np.where(referral_like, _ROLE["referral"], _ROLE["sourced"])
    infl = np.full(len(ptype), _ROLE["influenced"])
    infl[ptype == _TYPE["isv"]] = _ROLE["technology"]
    infl[ptype == _TYPE["strategic_alliance"]] = _ROLE["co_sell"]
    infl[ptype == _TYPE["msp"]] = _ROLE["delivery"]
    si = ptype == _TYPE["system_integrator"]
    infl[si] = np.where(rng.random(int(si.sum())) < 0.6, _ROLE["co_sell"], _ROLE["delivery"])
    return np.where(bucket == SOURCED, sourced_role, infl)


def _helper_roles(rng: np.random.Generator, ptype: Array) -> Array:
    role = np.full(len(ptype), _ROLE["co_sell"])
    role[ptype == _TYPE["isv"]] = _ROLE["technology"]
    role[np.isin(ptype, [_TYPE["msp"], _TYPE["system_integrator"]])] = _ROLE["delivery"]
    return role


def _helper_weights(partners: PartnerFrame) -> Array:
    w = np.array([_HELPER_WEIGHT[t] for t in PARTNER_TYPES])[partners.primary_type]
    return w[:, None] * partners.eligible


def sample_partners(rng: np.random.Generator, weights: Array, months: Array) -> Array:
    """One partner per row, drawn with ``weights[:, month]`` (-1 where a month has none).

    Loops over months, not rows: each month is one cumulative sum and one searchsorted.
    """
    out = np.full(len(months), -1, dtype=np.int64)
    for m in np.unique(months).tolist():
        rows = np.flatnonzero(months == m)
        cum = np.cumsum(weights[:, m])
        if cum[-1] <= 0:
            continue
        pick = np.searchsorted(cum, rng.random(len(rows)) * cum[-1], side="right")
        out[rows] = np.minimum(pick, len(cum) - 1)
    return out


def _extra_involvements(
    rng: np.random.Generator,
    deals: _Deals,
    bucket: Array,
    primary: _Primary,
    end_obs: Array,
    partners: PartnerFrame,
) -> _Attachments:
    """A second, non-primary partner (delivery/technology/co-sell) on some partner deals,
    attached after the window and before close."""
    cand = np.flatnonzero(primary.has_row & (rng.random(len(bucket)) < fx.EXTRA_INVOLVEMENT_SHARE))
    helper = sample_partners(rng, _helper_weights(partners), deals.month[cand])
    ok = (helper >= 0) & (helper != deals.partner[cand])
    cand, helper = cand[ok], helper[ok]
    lo = deals.created[cand] + WINDOW + HOUR
    lapse = partners.eligible_end[helper, deals.month[cand]] - DAY
    hi = np.minimum(end_obs[cand], lapse)
    ok = hi > lo
    cand, helper, lo, hi = cand[ok], helper[ok], lo[ok], hi[ok]
    return _Attachments(
        opp=cand,
        partner=helper,
        role=_helper_roles(rng, partners.primary_type[helper]),
        attached=_uniform_between(rng, lo, hi),
        is_primary=np.zeros(len(cand), dtype=bool),
    )


def _post_close_involvements(
    rng: np.random.Generator,
    bucket: Array,
    closed: Array,
    has_row: Array,
    clock: Clock,
    partners: PartnerFrame,
) -> _Attachments:
    """The pitfall: partners attached *after* the deal closed (typically implementation
    partners added after a win). They must not earn attribution."""
    share = np.where(
        bucket == UNATTRIBUTED, fx.POST_CLOSE_SHARE_DIRECT, fx.POST_CLOSE_SHARE_PARTNER
    )
    cand = np.flatnonzero((closed != NAT) & (rng.random(len(bucket)) < share))
    attached = closed[cand] + HOUR + (rng.random(len(cand)) * 90 * DAY).astype(np.int64)
    ok = attached < clock.as_of_ts
    cand, attached = cand[ok], attached[ok]
    helper = sample_partners(rng, _helper_weights(partners), clock.month_of(attached))
    ok = helper >= 0
    cand, attached, helper = cand[ok], attached[ok], helper[ok]
    role = np.where(rng.random(len(cand)) < 0.7, _ROLE["delivery"], _ROLE["technology"])
    return _Attachments(
        opp=cand,
        partner=helper,
        role=role,
        attached=attached,
        # The only involvement of a direct deal is its primary one (one primary per deal).
        is_primary=~has_row[cand],
    )


def _involvement_table(*parts: _Attachments) -> dict[str, Array]:
    opp = np.concatenate([p.opp for p in parts]).astype(np.int64)
    attached = np.concatenate([p.attached for p in parts]).astype(np.int64)
    partner = np.concatenate([p.partner for p in parts]).astype(np.int64)
    role = np.concatenate([p.role for p in parts]).astype(np.int64)
    primary = np.concatenate([p.is_primary for p in parts]).astype(bool)
    order = np.lexsort((opp, attached))  # chronological, like Salesforce Ids
    opp, attached, partner, role, primary = (
        opp[order],
        attached[order],
        partner[order],
        role[order],
        primary[order],
    )
    keep, primary = _first_of_each_role(opp, partner, role, primary)
    n = len(keep)
    ids = np.arange(n, dtype=np.int64)
    return {
        "id": ids,
        "external_id": salesforce_ids(OPPORTUNITY_PARTNER_PREFIX, ids + 1),
        "opportunity_id": opp[keep],
        "partner_id": partner[keep],
        "role": categorical(ROLES, role[keep]),
        "attached_at": to_datetime(attached[keep]),
        "is_primary": primary[keep],
    }


def _first_of_each_role(
    opp: Array, partner: Array, role: Array, primary: Array
) -> tuple[Array, Array]:
    """A partner holds a role on a deal once: a later attachment of the same partner in the
    same role (a helper re-added after close, say) is dropped, keeping the earliest, and the
    kept row stays primary if any of its duplicates was."""
    key = (opp * (int(partner.max(initial=0)) + 1) + partner) * (len(ROLES) + 1) + role
    _, first, group = np.unique(key, return_index=True, return_inverse=True)
    any_primary = np.zeros(len(first), dtype=bool)
    np.logical_or.at(any_primary, group, primary)
    keep = np.sort(first)
    merged = primary.copy()
    merged[first] = any_primary
    return keep, merged


def _deal_size(rng: np.random.Generator, band: Array, bucket: Array) -> tuple[Array, Array]:
    """ACV lognormal by band (partner deals x1.2); amount = ACV x term (1-3 years)."""
    median = np.array([fx.ACV_MEDIAN[b] for b in SIZE_BANDS])[band]
    lift = np.where(bucket != UNATTRIBUTED, fx.PARTNER_ACV_MULTIPLIER, 1.0)
    raw = np.exp(np.log(median) + fx.ACV_SIGMA * rng.standard_normal(len(band))) * lift
    term_mix = np.array([fx.TERM_MIX[b] for b in SIZE_BANDS])[band]
    term = draw_codes(rng, term_mix) + 1
    amount = np.maximum(np.round(raw * term, 2), 0.01)
    return np.round(amount / term, 2), amount


def _outcomes(rng: np.random.Generator, band: Array, bucket: Array, is_closed: Array) -> Array:
    """Won: P = base win rate of the size band + the bucket's planted lift."""
    p_win = (
        np.array([fx.BASE_WIN[b] for b in SIZE_BANDS])[band]
        + np.array([fx.WIN_LIFT[b] for b in BUCKETS])[bucket]
    )
    return is_closed & (rng.random(len(bucket)) < p_win)


def _stages(
    rng: np.random.Generator,
    is_closed: Array,
    is_won: Array,
    created: Array,
    duration: Array,
    clock: Clock,
) -> Array:
    """Closed deals are Closed Won/Lost; open deals sit at a stage matching how far through
    their (future) cycle they are; stale ones anywhere."""
    progress = (clock.as_of_ts - created) / duration.astype(float)
    n_open = len(OPEN_STAGES)
    stage = np.minimum((progress * n_open).astype(np.int64), n_open - 1)
    stale = duration >= FAR_FUTURE
    stage[stale] = rng.integers(0, n_open, int(stale.sum()))
    stage[is_closed] = np.where(is_won[is_closed], n_open, n_open + 1)
    return stage


def _opportunity_types(
    rng: np.random.Generator,
    account: Array,
    created: Array,
    closed: Array,
    is_won: Array,
    n_accounts: int,
) -> Array:
    """New business until the account's first win; afterwards expansion or renewal."""
    first_win = np.full(n_accounts, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first_win, account[is_won], closed[is_won])
    existing = created > first_win[account]
    renewal = rng.random(len(account)) < fx.RENEWAL_SHARE
    return np.where(existing, np.where(renewal, 2, 1), 0).astype(np.int64)


def _lead_sources(rng: np.random.Generator, bucket: Array, has_row: Array) -> Array:
    """Sourced deals mostly say "Partner Referral" (always, when there is no involvement
    row); no other deal ever does, so LeadSource alone never mis-attributes."""
    p = _DIRECT_LEAD_SOURCES / _DIRECT_LEAD_SOURCES.sum()
    source = rng.choice(len(OPP_LEAD_SOURCES), size=len(bucket), p=p)
    sourced = bucket == SOURCED
    says_partner = sourced & (
        ~has_row | (rng.random(len(bucket)) < fx.SOURCED_PARTNER_REFERRAL_LEAD_SOURCE)
    )
    source[says_partner] = OPP_LEAD_SOURCES.index("Partner Referral")
    return source
