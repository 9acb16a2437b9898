"""Monthly go-to-market costs by category, sized against the generated business.

* sales, marketing: scale with the pipeline created that month (headcount follows
  pipeline), so early months cost more than they earn, as in a growing company;
* partner_team: alliance managers' loaded salaries plus a per-active-partner cost;
* mdf: quarterly market development funds to gold/platinum partners (per partner);
* commissions: direct sales commission (no partner) plus, per partner, the program's
  commission rate on the partner-sourced revenue it closed that month;
* tooling: a base plus a share of revenue.
"""

from __future__ import annotations

import numpy as np

from .config import COST_CATEGORIES, PARTNER_TYPES, TIERS, SynthConfig
from .opportunities import SOURCED, OppFrame
from .partners import PROGRAMS, PartnerFrame
from .timeline import NAT, Array, Clock, categorical, rng_for, str_array, to_datetime

COMMISSION_RATE: dict[str, float] = {
    "reseller": 0.20,
    "distributor": 0.15,
    "msp": 0.12,
    "referral": 0.10,
    "affiliate": 0.08,
    "system_integrator": 0.05,
    "isv": 0.05,
    "strategic_alliance": 0.05,
}
# Quarterly MDF per funded partner, as a share of the average partner's quarterly
# partner-attributed won revenue (so MDF stays proportionate at every config size).
MDF_SHARE = {"gold": 0.025, "platinum": 0.05}
MANAGER_MONTHLY_COST = 12_500.0
PER_PARTNER_MONTHLY_COST = 800.0
_CAT = {c: i for i, c in enumerate(COST_CATEGORIES)}


def build_costs(
    cfg: SynthConfig,
    clock: Clock,
    partners: PartnerFrame,
    opps: OppFrame,
    revenue: dict[str, Array],
) -> dict[str, Array]:
    rng = rng_for(cfg.seed, "costs")
    m = clock.months
    month_rev = np.bincount(
        clock.month_of(revenue["month"].astype(np.int64)), weights=revenue["mrr"], minlength=m
    )
    pipeline = np.bincount(clock.month_of(opps.created), minlength=m).astype(float)
    avg_acv = float(opps.table["acv"].mean())
    noise = rng.lognormal(0.0, 0.06, (4, m))
    years = np.arange(m) / 12.0
    general = {
        "sales": 0.10 * pipeline * avg_acv * noise[0],
        "marketing": 0.04 * pipeline * avg_acv * noise[1],
        "partner_team": (
            cfg.alliance_managers * MANAGER_MONTHLY_COST * 1.04**years
            + PER_PARTNER_MONTHLY_COST * partners.eligible.sum(axis=0)
        )
        * noise[2],
        "tooling": (15_000.0 + 0.02 * month_rev) * noise[3],
        "commissions": _direct_commissions(clock, opps),
    }
    parts = [
        (np.arange(m), np.full(m, _CAT[c]), np.full(m, -1), v * clock.month_weight)
        for c, v in general.items()
    ]
    parts.append(_mdf(rng, clock, partners, opps))
    parts.append(_partner_commissions(clock, partners, opps))
    month, cat, partner, amount = (np.concatenate([p[k] for p in parts]) for k in range(4))
    keep = amount > 0
    month, cat, partner, amount = month[keep], cat[keep], partner[keep], amount[keep]
    order = np.lexsort((partner, cat, month))
    month, cat, partner, amount = month[order], cat[order], partner[order], amount[order]
    programs = np.concatenate([[""], [PROGRAMS[t] for t in PARTNER_TYPES]])
    program_code = np.where(partner >= 0, partners.primary_type[np.maximum(partner, 0)] + 1, 0)
    return {
        "month": to_datetime(clock.edges[month]),
        "category": categorical(COST_CATEGORIES, cat),
        "amount": np.round(amount, 2),
        "currency": categorical([cfg.currency], np.zeros(len(month), dtype=np.int64)),
        "partner_id": partner.astype(np.int64),
        "program": str_array(programs.tolist())[program_code],
    }


def _won_by_month(clock: Clock, opps: OppFrame, mask: Array) -> tuple[Array, Array]:
    """Close month and amount of the won deals selected by ``mask``."""
    sel = mask & opps.table["is_won"] & (opps.closed != NAT)
    return clock.month_of(opps.closed[sel]), opps.table["amount"][sel]


def _direct_commissions(clock: Clock, opps: OppFrame) -> Array:
    # Direct reps are paid on everything partners did not source (influenced deals too).
    month, amount = _won_by_month(clock, opps, opps.bucket != SOURCED)
    return 0.08 * np.bincount(month, weights=amount, minlength=clock.months)


def _partner_commissions(
    clock: Clock, partners: PartnerFrame, opps: OppFrame
) -> tuple[Array, Array, Array, Array]:
    """Program commission on each partner's sourced, won revenue (per partner and month)."""
    inv = opps.involvements
    sourcing = inv["is_primary"] & np.isin(inv["role"], ["sourced", "referral"])
    opp = inv["opportunity_id"][sourcing]
    won = opps.table["is_won"][opp]
    opp, partner = opp[won], inv["partner_id"][sourcing][won]
    month = clock.month_of(opps.closed[opp])
    m, n = clock.months, len(partners.growth)
    total = np.bincount(partner * m + month, weights=opps.table["amount"][opp], minlength=n * m)
    rate = np.array([COMMISSION_RATE[t] for t in PARTNER_TYPES])[partners.primary_type]
    cell = np.flatnonzero(total)
    p, mo = np.divmod(cell, m)
    return mo, np.full(len(cell), _CAT["commissions"]), p, total[cell] * rate[p]


def _mdf(
    rng: np.random.Generator, clock: Clock, partners: PartnerFrame, opps: OppFrame
) -> tuple[Array, Array, Array, Array]:
    """Quarterly MDF to partners that are gold or platinum *at that time* and eligible."""
    attributed = opps.table["amount"][opps.table["is_won"] & (opps.bucket != 0)].sum()
    quarterly = 3.0 * float(attributed) / max(int(partners.eligible.sum()), 1)
    level = _tier_level_by_month(clock, partners)
    quarter_start = (
        clock.edges[:-1].astype("datetime64[s]").astype("datetime64[M]").astype(int) % 3
    ) == 0
    gold, platinum = TIERS.index("gold"), TIERS.index("platinum")
    funded = (level >= gold) & partners.eligible & quarter_start[None, :]
    p, mo = np.nonzero(funded)
    share = np.where(level[p, mo] == platinum, MDF_SHARE["platinum"], MDF_SHARE["gold"])
    amount = share * quarterly * rng.lognormal(0.0, 0.4, len(p))
    return mo, np.full(len(p), _CAT["mdf"]), p, amount


def _tier_level_by_month(clock: Clock, partners: PartnerFrame) -> Array:
    hist = partners.tier_history
    n, m = len(partners.growth), clock.months
    level = np.full((n, m), -1, dtype=np.int64)
    col = np.clip(clock.month_of(hist["effective_from"].astype(np.int64)) + 1, 0, m)
    tier = np.array([TIERS.index(t) for t in hist["tier"].tolist()], dtype=np.int64)
    inside = col < m
    np.maximum.at(level, (hist["partner_id"][inside], col[inside]), tier[inside])
    return np.maximum.accumulate(level, axis=1)
