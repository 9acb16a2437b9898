"""Ground truth: the planted parameters next to what the generated tables realise.

Every "realised" number here is recomputed *from the tables alone* (plus the config), the
way a metrics engine would see them, never from generator internals: if the generator and
the data disagreed, the truth would say so. All values are plain JSON types.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import effects as fx
from .config import BUCKETS, COST_CATEGORIES, LEAD_SOURCES, LIFECYCLES, SIZE_BANDS, SynthConfig
from .timeline import DAY, NAT, Array, Clock

if TYPE_CHECKING:
    from .generate import Ecosystem

Tables = Mapping[str, Mapping[str, Array]]
WINDOW = fx.ATTRIBUTION_WINDOW_DAYS * DAY
ATTRIBUTION_RULE = (
    "sourced: an involvement with role sourced or referral attached at or before "
    "created_at + 30 days (and not after close), or lead_source 'Partner Referral'; "
    "influenced: not sourced, and an involvement attached after created_at + 30 days and "
    "at or before closed_at (any time for open deals); unattributed: everything else. "
    "Involvements attached after closed_at never count."
)


def _ts(col: Array) -> Array:
    return np.asarray(col).astype("datetime64[s]").view(np.int64)


def _rate(num: int, den: int) -> float | None:
    return round(num / den, 6) if den else None


def _median(x: Array) -> float | None:
    return round(float(np.median(x)), 4) if len(x) else None


def attribution_buckets(tables: Tables) -> Array:
    """Bucket code per opportunity (index into ``BUCKETS``) by ``ATTRIBUTION_RULE``."""
    opp, inv = tables["opportunities"], tables["involvements"]
    n = len(opp["id"])
    created, closed = _ts(opp["created_at"]), _ts(opp["closed_at"])
    o = inv["opportunity_id"]
    attached = _ts(inv["attached_at"])
    pre_close = (closed[o] == NAT) | (attached <= closed[o])
    in_window = attached <= created[o] + WINDOW
    sourcing_role = np.isin(inv["role"], ["sourced", "referral"])
    sourced = np.zeros(n, dtype=bool)
    sourced[o[pre_close & in_window & sourcing_role]] = True
    sourced |= opp["lead_source"] == "Partner Referral"
    influenced = np.zeros(n, dtype=bool)
    influenced[o[pre_close & ~in_window]] = True
    return np.where(sourced, 2, np.where(influenced & ~sourced, 1, 0)).astype(np.int8)


def post_close_attachments(tables: Tables) -> int:
    opp, inv = tables["opportunities"], tables["involvements"]
    closed = _ts(opp["closed_at"])[inv["opportunity_id"]]
    return int(((closed != NAT) & (_ts(inv["attached_at"]) > closed)).sum())


def partner_attached_accounts(tables: Tables, bucket: Array) -> Array:
    """Per account: was its first won deal (by close time) partner-attributed?"""
    opp = tables["opportunities"]
    n_acc = len(tables["accounts"]["id"])
    won = np.flatnonzero(opp["is_won"])
    order = won[np.lexsort((_ts(opp["closed_at"])[won], opp["account_id"][won]))]
    acc = opp["account_id"][order]
    first = np.ones(len(acc), dtype=bool)
    first[1:] = acc[1:] != acc[:-1]
    out = np.zeros(n_acc, dtype=bool)
    out[acc[first]] = bucket[order[first]] != 0
    return out


def build_truth(
    cfg: SynthConfig, tables: Tables, growth: Mapping[str, float], stats: Mapping[str, int]
) -> dict[str, Any]:
    clock = Clock.from_config(cfg)
    bucket = attribution_buckets(tables)
    band = _band_of_opportunities(tables)
    truth: dict[str, Any] = {
        "config": cfg.to_json(),
        "as_of": np.datetime64(clock.as_of_ts - 1, "s").item().isoformat(),
        "counts": {name: len(next(iter(cols.values()))) for name, cols in tables.items()},
        "attribution": _attribution(bucket, tables, stats),
        "win_rate": _win_rate(tables, bucket, band),
        "confounding": _confounding(tables, bucket, band),
        "acv": _acv(tables, bucket, band),
        "cycle_days": _cycle_days(tables, bucket, band, clock),
        "churn": _churn(tables, bucket, clock),
        "nrr": _nrr(tables, bucket, clock),
        "lead_conversion_days": _leads(tables, clock),
        "partner_growth": {k: float(v) for k, v in growth.items()},
        "partner_growth_realised": _partner_growth(tables, bucket, growth, clock),
        "post_close_attachments": post_close_attachments(tables),
        "lifecycle": _lifecycle(tables),
        "costs": _costs(tables),
    }
    return _plain(truth)


def _band_of_opportunities(tables: Tables) -> Array:
    acc_band = tables["accounts"]["size_band"]
    codes = np.zeros(len(acc_band), dtype=np.int8)
    for i, b in enumerate(SIZE_BANDS):
        codes[acc_band == b] = i
    return codes[tables["opportunities"]["account_id"]]


def _attribution(bucket: Array, tables: Tables, stats: Mapping[str, int]) -> dict[str, Any]:
    inv = tables["involvements"]
    by_opp = np.zeros(len(bucket), dtype=bool)
    by_opp[inv["opportunity_id"][np.isin(inv["role"], ["sourced", "referral"])]] = True
    return {
        "rule": ATTRIBUTION_RULE,
        "window_days": fx.ATTRIBUTION_WINDOW_DAYS,
        "counts": {b: int((bucket == i).sum()) for i, b in enumerate(BUCKETS)},
        "sourced_by_lead_source_only": int(((bucket == 2) & ~by_opp).sum()),
        "influenced_not_yet_attached_as_of": int(stats["influenced_not_yet_attached"]),
        "partner_stream_share_planted": fx.PARTNER_STREAM_SHARE,
        "stale_open_deals": int(stats["stale_open"]),
    }


def _win_counts(closed: Array, won: Array, mask: Array) -> dict[str, Any]:
    n, w = int((closed & mask).sum()), int((won & mask).sum())
    return {"closed": n, "won": w, "rate": _rate(w, n)}


def _win_rate(tables: Tables, bucket: Array, band: Array) -> dict[str, Any]:
    opp = tables["opportunities"]
    closed, won = opp["is_closed"], opp["is_won"]
    planted = {
        b: {k: round(fx.BASE_WIN[b] + fx.WIN_LIFT[k], 4) for k in BUCKETS} for b in SIZE_BANDS
    }
    return {
        "definition": "won / closed (open deals excluded)",
        "planted": planted,
        "planted_lift_vs_unattributed": dict(fx.WIN_LIFT),
        "realised": {k: _win_counts(closed, won, bucket == i) for i, k in enumerate(BUCKETS)},
        "realised_by_band": {
            b: {
                k: _win_counts(closed, won, (bucket == i) & (band == j))
                for i, k in enumerate(BUCKETS)
            }
            for j, b in enumerate(SIZE_BANDS)
        },
    }


def _confounding(tables: Tables, bucket: Array, band: Array) -> dict[str, Any]:
    opp = tables["opportunities"]
    closed, won = opp["is_closed"], opp["is_won"].astype(float)
    partner = bucket != 0
    base = np.array([fx.BASE_WIN[b] for b in SIZE_BANDS])[band]
    planted_p = base + np.array([fx.WIN_LIFT[k] for k in BUCKETS])[bucket]

    def mean(x: Array, m: Array) -> float:
        return float(x[m].mean()) if m.any() else float("nan")

    naive = mean(won, closed & partner) - mean(won, closed & ~partner)
    expected_naive = mean(planted_p, closed & partner) - mean(planted_p, closed & ~partner)
    n_partner = int((closed & partner).sum())
    strat = planted_strat = 0.0
    weights = {}
    for j, b in enumerate(SIZE_BANDS):
        p_m, u_m = closed & partner & (band == j), closed & ~partner & (band == j)
        w = int(p_m.sum()) / n_partner if n_partner else 0.0
        weights[b] = round(w, 6)
        if w and u_m.any():
            strat += w * (mean(won, p_m) - mean(won, u_m))
            planted_strat += w * (mean(planted_p, p_m) - mean(planted_p, u_m))
    share = {
        b: _rate(int((closed & partner & (band == j)).sum()), int((closed & (band == j)).sum()))
        for j, b in enumerate(SIZE_BANDS)
    }
    return {
        "description": (
            "Partners attach more often to large deals (enterprise accounts), and large "
            "deals have a lower base win rate. The naive partner-vs-unattributed win-rate "
            "difference therefore understates the within-size-band (stratified) difference."
        ),
        "partner_share_of_closed_by_band": share,
        "stratum_weights": weights,
        "weighting": "share of closed partner deals per size band (effect on the treated)",
        "naive_difference_realised": round(naive, 6),
        "stratified_difference_realised": round(strat, 6),
        "naive_difference_expected_from_planted": round(expected_naive, 6),
        "stratified_difference_planted": round(planted_strat, 6),
        "direction": "naive < stratified",
    }


def _acv(tables: Tables, bucket: Array, band: Array) -> dict[str, Any]:
    opp = tables["opportunities"]
    won = opp["is_won"]
    log_acv = np.log(opp["acv"])
    out: dict[str, Any] = {}
    log_ratio, weight = 0.0, 0
    for j, b in enumerate(SIZE_BANDS):
        p_m, u_m = won & (bucket != 0) & (band == j), won & (bucket == 0) & (band == j)
        if not (p_m.any() and u_m.any()):
            continue
        lr = float(log_acv[p_m].mean() - log_acv[u_m].mean())
        out[b] = {
            "partner_won": int(p_m.sum()),
            "unattributed_won": int(u_m.sum()),
            "partner_median": _median(opp["acv"][p_m]),
            "unattributed_median": _median(opp["acv"][u_m]),
            "geometric_mean_ratio": round(float(np.exp(lr)), 6),
        }
        log_ratio += lr * int(p_m.sum())
        weight += int(p_m.sum())
    return {
        "definition": "ACV of closed-won deals; partner = sourced or influenced",
        "planted_partner_multiplier": fx.PARTNER_ACV_MULTIPLIER,
        "planted_median_by_band_unattributed": dict(fx.ACV_MEDIAN),
        "realised_by_band": out,
        "realised_multiplier_within_band": (
            round(float(np.exp(log_ratio / weight)), 6) if weight else None
        ),
    }


def _cycle_days(tables: Tables, bucket: Array, band: Array, clock: Clock) -> dict[str, Any]:
    opp = tables["opportunities"]
    created, closed = _ts(opp["created_at"]), _ts(opp["closed_at"])
    # Only cohorts old enough that nearly all their deals have closed: younger cohorts
    # are censored (their long deals are still open) and would bias medians down.
    cutoff = clock.as_of_ts - 548 * DAY
    mature = opp["is_won"] & (created < cutoff)
    days = (closed - created) / DAY
    shift = fx.ATTRIBUTION_WINDOW_DAYS + 1.0
    planted: dict[str, Any] = {}
    realised: dict[str, Any] = {}
    for j, b in enumerate(SIZE_BANDS):
        med = fx.CYCLE_MEDIAN_DAYS[b]
        partner = med * fx.PARTNER_CYCLE_MULTIPLIER
        planted[b] = {
            "unattributed": med,
            "sourced": round(partner, 4),
            "influenced": round(shift + max(partner - shift, fx.INFLUENCED_MIN_REMAINDER_DAYS), 4),
        }
        realised[b] = {
            k: {
                "won": int((mature & (band == j) & (bucket == i)).sum()),
                "median_days": _median(days[mature & (band == j) & (bucket == i)]),
            }
            for i, k in enumerate(BUCKETS)
        }
    return {
        "definition": (
            "closed_at - created_at of won deals created at least 18 months before as-of; "
            "influenced deals cannot close before the partner joins after the 30-day window"
        ),
        "planted_partner_multiplier": fx.PARTNER_CYCLE_MULTIPLIER,
        "planted_median_days": planted,
        "realised": realised,
    }


def _churn(tables: Tables, bucket: Array, clock: Clock) -> dict[str, Any]:
    rev = tables["revenue_months"]
    flag = partner_attached_accounts(tables, bucket)
    acc = rev["account_id"]
    month = clock.month_of(_ts(rev["month"]))
    key = acc * (clock.months + 2) + month
    has_next = np.isin(key + 1, key)
    at_risk = month < clock.months - 1  # the last month has no observable successor
    event = at_risk & ~has_next
    realised = {}
    for name, grp in (("partner", flag[acc]), ("direct", ~flag[acc])):
        n_risk, n_ev = int((at_risk & grp).sum()), int((event & grp).sum())
        realised[name] = {
            "account_months_at_risk": n_risk,
            "churn_events": n_ev,
            "monthly_hazard": _rate(n_ev, n_risk),
        }
    return {
        "definition": (
            "groups by whether the account's first won deal was partner-attributed; churn = "
            "a revenue month not followed by one for the same account (last data month excluded)"
        ),
        "planted_monthly_hazard": dict(fx.CHURN_HAZARD),
        "realised": realised,
        "accounts": {
            "partner": int(flag.sum()),
            "direct": int(_has_won(tables).sum() - flag.sum()),
        },
    }


def _has_won(tables: Tables) -> Array:
    opp = tables["opportunities"]
    out = np.zeros(len(tables["accounts"]["id"]), dtype=bool)
    out[opp["account_id"][opp["is_won"]]] = True
    return out


def _nrr(tables: Tables, bucket: Array, clock: Clock) -> dict[str, Any]:
    rev = tables["revenue_months"]
    flag = partner_attached_accounts(tables, bucket)
    month = clock.month_of(_ts(rev["month"]))
    last = clock.months - 1
    planted = {
        g: round(((1 - fx.CHURN_HAZARD[g]) * (1 + fx.EXPANSION_RATE[g])) ** 12, 6)
        for g in ("partner", "direct")
    }
    out: dict[str, Any] = {
        "definition": (
            "sum of MRR in the last data month over sum of MRR 12 months earlier, for the "
            "accounts that had MRR then (churned accounts count as 0)"
        ),
        "planted_organic_nrr": planted,
        "planted_note": (
            "organic = ((1 - churn hazard) * (1 + monthly expansion))^12; realised NRR is "
            "higher because won expansion deals add MRR on top"
        ),
    }
    if last < 12:
        return out
    n_acc = len(tables["accounts"]["id"])
    base = np.bincount(rev["account_id"][month == last - 12], rev["mrr"][month == last - 12], n_acc)
    now = np.bincount(rev["account_id"][month == last], rev["mrr"][month == last], n_acc)
    cohort = base > 0
    realised = {}
    for name, grp in (("partner", flag), ("direct", ~flag)):
        m = cohort & grp
        realised[name] = {
            "accounts": int(m.sum()),
            "nrr": round(float(now[m].sum() / base[m].sum()), 6) if m.any() else None,
        }
    out["realised"] = realised
    return out


def _leads(tables: Tables, clock: Clock) -> dict[str, Any]:
    leads = tables["leads"]
    created, converted = _ts(leads["created_at"]), _ts(leads["converted_at"])
    mature = created < clock.as_of_ts - 365 * DAY
    realised = {}
    for s in LEAD_SOURCES:
        m = mature & (leads["source"] == s)
        conv = m & (converted != NAT)
        realised[s] = {
            "leads": int(m.sum()),
            "converted": int(conv.sum()),
            "conversion_rate": _rate(int(conv.sum()), int(m.sum())),
            "median_days_to_convert": _median((converted[conv] - created[conv]) / DAY),
        }
    return {
        "definition": "leads created at least 365 days before as-of (so conversion had time)",
        "planted_median_days": dict(fx.LEAD_CONVERSION_MEDIAN_DAYS),
        "planted_conversion_rate": dict(fx.LEAD_CONVERSION_RATE),
        "realised": realised,
    }


def _partner_growth(
    tables: Tables, bucket: Array, growth: Mapping[str, float], clock: Clock
) -> dict[str, Any]:
    """Trailing-12-month vs prior-12-month won revenue of each active partner, from its
    primary pre-close involvements, for partners active well before the window."""
    opp, inv, partners = tables["opportunities"], tables["involvements"], tables["partners"]
    closed = _ts(opp["closed_at"])
    o = inv["opportunity_id"]
    use = inv["is_primary"] & (bucket[o] != 0) & opp["is_won"][o]
    use &= _ts(inv["attached_at"]) <= closed[o]
    o, p = o[use], inv["partner_id"][use]
    edges = clock.edges
    m = clock.months
    if m < 24:
        return {"partners": {}}
    prior_lo, recent_lo = edges[m - 24], edges[m - 12]
    in_prior = (closed[o] >= prior_lo) & (closed[o] < recent_lo)
    in_recent = closed[o] >= recent_lo
    n_p = len(partners["id"])
    amount = opp["amount"][o]
    rev_prior = np.bincount(p[in_prior], amount[in_prior], n_p)
    rev_recent = np.bincount(p[in_recent], amount[in_recent], n_p)
    deals_prior = np.bincount(p[in_prior], minlength=n_p)
    deals_recent = np.bincount(p[in_recent], minlength=n_p)
    active_since = _first_active(tables, n_p)
    ext = partners["external_id"]
    rows: dict[str, Any] = {}
    for i in range(n_p):
        key = str(ext[i])
        settled = active_since[i] != NAT and active_since[i] < prior_lo - 180 * DAY
        if key not in growth or not settled or deals_prior[i] < 5:
            continue
        rows[key] = {
            "planted": float(growth[key]),
            "realised": round(float(rev_recent[i] / rev_prior[i] - 1.0), 6),
            "realised_deal_count": round(float(deals_recent[i] / deals_prior[i] - 1.0), 6),
            "won_deals_prior": int(deals_prior[i]),
            "won_deals_recent": int(deals_recent[i]),
        }
    planted = np.array([r["planted"] for r in rows.values()])
    realised = np.array([r["realised"] for r in rows.values()])
    by_count = np.array([r["realised_deal_count"] for r in rows.values()])
    return {
        "definition": (
            "won amount of deals where the partner is the primary pre-close involvement, "
            "closed in the last 12 months vs the 12 months before; partners active 6+ months "
            "before that window with at least 5 won deals in it"
        ),
        "window_start": np.datetime64(int(prior_lo), "s").item().isoformat(),
        "note": (
            "won revenue is dominated by a few large deals, so per-partner realised growth "
            "is noisy around the planted rate; the deal-count growth is less noisy"
        ),
        "spearman_planted_vs_realised": _spearman(planted, realised),
        "spearman_planted_vs_deal_count": _spearman(planted, by_count),
        "partners": rows,
    }


def _first_active(tables: Tables, n_p: int) -> Array:
    hist = tables["partner_status_history"]
    out = np.full(n_p, np.iinfo(np.int64).max, dtype=np.int64)
    act = hist["status"] == "active"
    np.minimum.at(out, hist["partner_id"][act], _ts(hist["changed_at"])[act])
    return np.where(out == np.iinfo(np.int64).max, NAT, out)


def _spearman(a: Array, b: Array) -> float | None:
    if len(a) < 3:
        return None
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return round(float(np.corrcoef(ra, rb)[0, 1]), 6)


def _lifecycle(tables: Tables) -> dict[str, int]:
    life = tables["accounts"]["lifecycle"]
    return {s: int((life == s).sum()) for s in LIFECYCLES}


def _costs(tables: Tables) -> dict[str, Any]:
    costs, rev = tables["costs"], tables["revenue_months"]
    totals = {
        c: round(float(costs["amount"][costs["category"] == c].sum()), 2) for c in COST_CATEGORIES
    }
    revenue = float(rev["mrr"].sum())
    return {
        "total_by_category": totals,
        "total_revenue": round(revenue, 2),
        "cost_to_revenue": round(sum(totals.values()) / revenue, 6) if revenue else None,
    }


def _plain(value: Any) -> Any:
    """Recursively turn numpy scalars into plain Python numbers (NaN becomes None)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def write_truth(eco: Ecosystem, path: Path) -> None:
    """``truth.json``: indent 2, sorted keys, trailing newline."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(eco.truth, indent=2, sort_keys=True) + "\n", encoding="utf-8")
