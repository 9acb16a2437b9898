"""Partners: profile, dated status and tier histories, and their deal-flow intensity.

Partners are few (at most thousands), so per-partner Python loops are fine here. What the
rest of the generator needs from this step is, per partner and month:

* ``eligible``: may the partner be attached to a deal created this month? Only partners
  that reached "active" qualify, only inside an active period, and (for lapsed partners)
  only up to ``LAPSE_MARGIN_DAYS`` before they lapsed, so later attachments on those deals
  still fall inside the active period;
* ``intensity``: expected deal flow, growing at the partner's planted yearly rate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import effects as fx
from . import names as nm
from .config import (
    INDUSTRIES,
    PARTNER_STATUSES,
    PARTNER_TYPES,
    PRACTICES,
    TECHNOLOGIES,
    TIERS,
    SynthConfig,
)
from .ids import ACCOUNT_PREFIX, PARTNER_RECORD_OFFSET, salesforce_ids
from .timeline import (
    DAY,
    FAR_FUTURE,
    NAT,
    YEAR,
    Array,
    Clock,
    categorical,
    rng_for,
    str_array,
    to_datetime,
)

PRIMARY_TYPE_WEIGHTS = (0.25, 0.18, 0.08, 0.15, 0.10, 0.12, 0.05, 0.07)  # PARTNER_TYPES order
SECOND_TYPE: dict[str, tuple[str, ...]] = {
    "reseller": ("msp", "distributor", "system_integrator"),
    "referral": ("affiliate", "reseller"),
    "affiliate": ("referral",),
    "system_integrator": ("msp", "isv", "reseller"),
    "msp": ("reseller", "system_integrator"),
    "isv": ("strategic_alliance", "system_integrator"),
    "distributor": ("reseller",),
    "strategic_alliance": ("isv", "system_integrator"),
}
PROGRAMS: dict[str, str] = {
    "reseller": "Reseller Program",
    "referral": "Referral Program",
    "affiliate": "Affiliate Program",
    "system_integrator": "SI Partner Program",
    "msp": "MSP Program",
    "isv": "Technology Alliance Program",
    "distributor": "Distribution Program",
    "strategic_alliance": "Strategic Alliance Program",
}
REASONS: dict[str, tuple[str, ...]] = {
    "prospect": ("inbound partner application", "outbound recruitment", "met at partner event"),
    "evaluating": ("qualified: complementary practice", "qualified: customer overlap"),
    "negotiating": ("commercial terms in review",),
    "onboarding": ("partner agreement signed",),
    "active": ("onboarding completed",),
    "reactivated": ("re-engaged after business review",),
    "inactive": ("no sourced pipeline for two quarters", "key contact left"),
    "exited": ("agreement terminated", "acquired by another company"),
}
_EARLY = ("prospect", "evaluating", "negotiating")
_STATUS_CODE = {s: i for i, s in enumerate(PARTNER_STATUSES)}


@dataclass
class PartnerFrame:
    """The partner tables plus the per-partner arrays later steps sample from."""

    table: dict[str, Array]
    status_history: dict[str, Array]
    tier_history: dict[str, Array]
    primary_type: Array  # index into PARTNER_TYPES
    growth: Array  # planted yearly growth of deal flow (meaningful for active partners)
    active_since: Array  # epoch seconds of first activation (NAT if never active)
    eligible: Array  # bool (P, M)
    eligible_end: Array  # int64 (P, M): end of the active period a month belongs to
    intensity: Array  # float (P, M): expected relative deal flow
    band_mix: Array  # float (P, 3): size-band preference of the partner's deals
    p_sourced: Array  # float (P,): P(sourced | partner deal)


@dataclass
class _Timeline:
    events: list[tuple[str, int, str]]  # (status, epoch seconds, reason), increasing
    active_periods: list[tuple[int, int]]  # [start, end) with FAR_FUTURE for "still active"


def build_partners(cfg: SynthConfig, clock: Clock) -> PartnerFrame:
    rng = rng_for(cfg.seed, "partners")
    n = cfg.partners
    status = _assign_statuses(rng, n)
    size = rng.lognormal(0.0, fx.PARTNER_SIZE_SIGMA, n)
    size[np.isin(status, [_STATUS_CODE["inactive"], _STATUS_CODE["exited"]])] *= 0.7
    early_joiners = _early_joiners(status, size)
    timelines = [
        _timeline(rng, PARTNER_STATUSES[s], clock, force_early=bool(e))
        for s, e in zip(status.tolist(), early_joiners.tolist(), strict=True)
    ]
    primary, types = _assign_types(rng, n)
    tiers, tier_history = _tiers(rng, status, size, timelines, clock)
    growth = _growth(rng, status)
    eligible, eligible_end = _eligibility(timelines, clock)
    intensity = _intensity(size, growth, eligible, clock)
    table = _partner_table(rng, cfg, status, primary, types, tiers, timelines)
    return PartnerFrame(
        table=table,
        status_history=_status_history_table(timelines),
        tier_history=tier_history,
        primary_type=primary,
        growth=growth,
        active_since=np.array(
            [t.active_periods[0][0] if t.active_periods else NAT for t in timelines],
            dtype=np.int64,
        ),
        eligible=eligible,
        eligible_end=eligible_end,
        intensity=intensity,
        band_mix=np.array([fx.PARTNER_BAND_MIX[PARTNER_TYPES[t]] for t in primary]).reshape(n, 3),
        p_sourced=np.array([fx.PARTNER_P_SOURCED[PARTNER_TYPES[t]] for t in primary]),
    )


def _assign_statuses(rng: np.random.Generator, n: int) -> Array:
    """Mostly active, ~12% inactive, a few exited and a few in every early stage."""
    counts = dict.fromkeys(PARTNER_STATUSES, 0)
    if n >= 16:
        for s in ("prospect", "evaluating", "negotiating", "onboarding"):
            counts[s] = max(1, round(0.03 * n))
        counts["exited"] = max(1, round(0.03 * n))
        counts["inactive"] = round(0.12 * n)
    else:  # tiny ecosystems: keep nearly everyone active so there is deal flow at all
        counts["inactive"] = n // 8
    counts["active"] = n - sum(counts.values())
    codes = np.repeat(np.arange(len(PARTNER_STATUSES)), [counts[s] for s in PARTNER_STATUSES])
    return rng.permutation(codes)


def _early_joiners(status: Array, size: Array) -> Array:
    """The largest active partners joined before the data starts, so that even the first
    month of data has eligible partners."""
    active = np.flatnonzero(status == _STATUS_CODE["active"])
    top = active[np.argsort(-size[active], kind="stable")[:3]]
    out = np.zeros(len(status), dtype=bool)
    out[top] = True
    return out


def _days(rng: np.random.Generator, lo: float, hi: float) -> int:
    return int(rng.uniform(lo, hi) * DAY)


def _reason(rng: np.random.Generator, key: str) -> str:
    options = REASONS[key]
    return options[int(rng.integers(len(options)))]


def _timeline(
    rng: np.random.Generator, status: str, clock: Clock, *, force_early: bool
) -> _Timeline:
    """The dated path prospect -> ... -> current status, with increasing times."""
    as_of, start = clock.as_of_ts, clock.start_ts
    if status in _EARLY:
        stage_at = as_of - _days(rng, 3, 100)
        return _Timeline(_backfill(rng, _EARLY.index(status), stage_at), [])
    if status == "onboarding":
        joined = as_of - _days(rng, 5, 80)
        return _Timeline(_backfill_joined(rng, joined), [])
    if status == "active":
        if force_early or rng.random() < 0.6:
            joined = start - _days(rng, 30, 4 * 365)
        else:
            joined = start + _days(rng, 0, max(1.0, (as_of - start) / DAY - 150))
    else:  # inactive, exited: joined early enough to have had an active spell
        latest = min(start + YEAR, as_of - int(2.5 * YEAR))
        joined = latest - _days(rng, 0, 3 * 365)
    events = _backfill_joined(rng, joined)
    # Onboarding takes 30-120 days, squeezed when a short date range leaves less room.
    active_at = joined + min(_days(rng, 30, 120), (as_of - joined) // 2)
    events.append(("active", active_at, _reason(rng, "active")))
    periods: list[tuple[int, int]] = []
    if status == "active":
        periods = _maybe_reactivated(rng, events, active_at, clock)
        return _Timeline(events, periods)
    # Lapse after a year of activity, preferably inside the data range, and early enough
    # for an exit to follow before the as-of date.
    lapse_hi = as_of - 120 * DAY
    lapse_lo = min(max(active_at + YEAR, start + YEAR // 2), lapse_hi)
    lapse_at = lapse_lo + int(rng.random() * (lapse_hi - lapse_lo))
    events.append(("inactive", lapse_at, _reason(rng, "inactive")))
    if status == "exited":
        room = (as_of - DAY - lapse_at) / DAY
        events.append(
            ("exited", lapse_at + _days(rng, 1, min(365.0, room)), _reason(rng, "exited"))
        )
    return _Timeline(events, [(active_at, lapse_at)])


def _maybe_reactivated(
    rng: np.random.Generator, events: list[tuple[str, int, str]], active_at: int, clock: Clock
) -> list[tuple[int, int]]:
    """Some active partners lapsed once and came back (active -> inactive -> active)."""
    lapse_lo, lapse_hi = active_at + 180 * DAY, clock.as_of_ts - 300 * DAY
    if lapse_hi <= lapse_lo or rng.random() >= 0.15:
        return [(active_at, FAR_FUTURE)]
    lapse_at = lapse_lo + int(rng.random() * (lapse_hi - lapse_lo))
    back_at = lapse_at + _days(rng, 60, 240)
    events.append(("inactive", lapse_at, _reason(rng, "inactive")))
    events.append(("active", back_at, _reason(rng, "reactivated")))
    return [(active_at, lapse_at), (back_at, FAR_FUTURE)]


def _backfill(rng: np.random.Generator, stage: int, stage_at: int) -> list[tuple[str, int, str]]:
    """Events prospect..``_EARLY[stage]`` ending at ``stage_at``, walking back in time."""
    gaps = {"evaluating": (10, 60), "negotiating": (14, 90), "onboarding": (14, 60)}
    order = (*_EARLY, "onboarding")
    times = [stage_at]
    for s in reversed(order[1 : stage + 1]):
        times.append(times[-1] - _days(rng, *gaps[s]))
    times.reverse()
    return [(order[i], t, _reason(rng, order[i])) for i, t in enumerate(times)]


def _backfill_joined(rng: np.random.Generator, joined: int) -> list[tuple[str, int, str]]:
    return _backfill(rng, 3, joined)


def _assign_types(rng: np.random.Generator, n: int) -> tuple[Array, list[str]]:
    """Primary type (weighted, every type present when n >= 16) plus an optional second."""
    w = np.array(PRIMARY_TYPE_WEIGHTS)
    primary = rng.choice(len(PARTNER_TYPES), size=n, p=w / w.sum())
    if n >= 16:
        primary[rng.permutation(n)[: len(PARTNER_TYPES)]] = np.arange(len(PARTNER_TYPES))
    types = []
    for p in primary.tolist():
        first = PARTNER_TYPES[p]
        if rng.random() < 0.35:
            options = SECOND_TYPE[first]
            types.append(f"{first},{options[int(rng.integers(len(options)))]}")
        else:
            types.append(first)
    return primary, types


def _subset(rng: np.random.Generator, vocab: tuple[str, ...], lo: int, hi: int) -> str:
    """A random 1..k subset in canonical vocabulary order, comma-separated."""
    k = int(rng.integers(lo, hi + 1))
    picked = np.sort(rng.choice(len(vocab), size=k, replace=False))
    return ",".join(vocab[i] for i in picked.tolist())


def _tiers(
    rng: np.random.Generator, status: Array, size: Array, timelines: list[_Timeline], clock: Clock
) -> tuple[list[str], dict[str, Array]]:
    """Current tier (bigger partners rank higher) and the dated upgrade path to it."""
    n = len(status)
    score = np.log(size) + rng.normal(0.0, 0.5, n)
    active = status == _STATUS_CODE["active"]
    rank = np.zeros(n)
    if active.any():
        order = np.argsort(np.argsort(score[active]))
        rank[active] = (order + 0.5) / active.sum()  # 0 = smallest active partner
    current: list[str] = []
    hist_p: list[int] = []
    hist_t: list[str] = []
    hist_at: list[int] = []
    for i in range(n):
        s = PARTNER_STATUSES[int(status[i])]
        if s in _EARLY:
            current.append("")
            continue
        if s == "onboarding":
            level = 0
        elif s == "active":
            level = int(np.searchsorted([0.35, 0.65, 0.87], rank[i], side="right"))
        else:
            level = int(rng.choice(3, p=[0.55, 0.35, 0.10]))
        current.append(TIERS[level])
        ev = timelines[i].events
        joined = next(t for st, t, _ in ev if st == "onboarding")
        hist_p.append(i)
        hist_t.append(TIERS[0])
        hist_at.append(joined)
        if level:
            active_at = next(t for st, t, _ in ev if st == "active")
            lapsed = [t for st, t, _ in ev if st == "inactive"]
            until = lapsed[-1] if s != "active" and lapsed else clock.as_of_ts - DAY
            ups = np.sort(rng.uniform(active_at, max(until, active_at + DAY), level))
            for k, t in enumerate(ups.astype(np.int64).tolist(), start=1):
                hist_p.append(i)
                hist_t.append(TIERS[k])
                hist_at.append(t)
    tier_history = {
        "partner_id": np.array(hist_p, dtype=np.int64),
        "tier": str_array(hist_t),
        "effective_from": to_datetime(np.array(hist_at, dtype=np.int64)),
    }
    return current, tier_history


def _growth(rng: np.random.Generator, status: Array) -> Array:
    """Planted yearly growth: varied for active partners (some negative), declining for
    partners that lapsed. Rounded so the recorded truth is the exact value used."""
    lo, hi = fx.ACTIVE_GROWTH_RANGE
    g = np.clip(rng.normal(fx.ACTIVE_GROWTH_MEAN, fx.ACTIVE_GROWTH_SD, len(status)), lo, hi)
    lapsed = status != _STATUS_CODE["active"]
    g[lapsed] = np.clip(rng.normal(-0.10, 0.20, int(lapsed.sum())), -0.5, 0.5)
    return np.round(g, 3)


def _eligibility(timelines: list[_Timeline], clock: Clock) -> tuple[Array, Array]:
    lo, hi = clock.lo, clock.hi
    n, m = len(timelines), clock.months
    eligible = np.zeros((n, m), dtype=bool)
    end = np.full((n, m), FAR_FUTURE, dtype=np.int64)
    margin = fx.LAPSE_MARGIN_DAYS * DAY
    for i, tl in enumerate(timelines):
        for a, b in tl.active_periods:
            inside = (lo >= a) & ((b == FAR_FUTURE) | (hi + margin <= b))
            eligible[i] |= inside
            end[i, inside] = b
    return eligible, end


def _intensity(size: Array, growth: Array, eligible: Array, clock: Clock) -> Array:
    """Expected deal flow per partner-month: size x (1 + g)^(years relative to the as-of
    month), zero outside eligibility, scaled for partial months."""
    years = (np.arange(clock.months) - (clock.months - 1)) / 12.0
    trend = (1.0 + growth[:, None]) ** years[None, :]
    return size[:, None] * trend * eligible * clock.month_weight[None, :]


def _partner_table(
    rng: np.random.Generator,
    cfg: SynthConfig,
    status: Array,
    primary: Array,
    types: list[str],
    tiers: list[str],
    timelines: list[_Timeline],
) -> dict[str, Array]:
    n = cfg.partners
    names = nm.partner_names(rng, n)
    country = nm.draw_countries(rng, n, partner=True)
    joined = [next((t for s, t, _ in tl.events if s == "onboarding"), NAT) for tl in timelines]
    joined = [
        t if PARTNER_STATUSES[int(s)] not in _EARLY else NAT
        for t, s in zip(joined, status, strict=False)
    ]
    ids = np.arange(n, dtype=np.int64)
    return {
        "id": ids,
        "external_id": salesforce_ids(ACCOUNT_PREFIX, ids + 1 + PARTNER_RECORD_OFFSET),
        "name": names.name,
        "legal_name": nm.legal_names(rng, names.name, country),
        "domain": nm.domains(names.domain_label, country),
        "country": categorical(nm.COUNTRY_CODES, country),
        "region": categorical([nm.COUNTRIES[c][1] for c in range(len(nm.COUNTRIES))], country),
        "types": str_array(types),
        "industries": str_array([_subset(rng, INDUSTRIES, 1, 3) for _ in range(n)]),
        "technologies": str_array([_subset(rng, TECHNOLOGIES, 1, 4) for _ in range(n)]),
        "practices": str_array([_subset(rng, PRACTICES, 1, 3) for _ in range(n)]),
        "status": categorical(PARTNER_STATUSES, status),
        "tier": str_array(tiers),
        "joined_at": to_datetime(np.array(joined, dtype=np.int64)),
        "status_since": to_datetime(np.array([tl.events[-1][1] for tl in timelines])),
        "owner": rng.integers(0, cfg.alliance_managers, n).astype(np.int64),
    }


def _status_history_table(timelines: list[_Timeline]) -> dict[str, Array]:
    pid = [i for i, tl in enumerate(timelines) for _ in tl.events]
    return {
        "partner_id": np.array(pid, dtype=np.int64),
        "status": str_array([s for tl in timelines for s, _, _ in tl.events]),
        "changed_at": to_datetime(np.array([t for tl in timelines for _, t, _ in tl.events])),
        "reason": str_array([r for tl in timelines for _, _, r in tl.events]),
    }


def program_of(primary_type: Array) -> Array:
    """Partner program name per partner, from its primary type."""
    return categorical([PROGRAMS[t] for t in PARTNER_TYPES], primary_type)
