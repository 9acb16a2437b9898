"""The planted effects hold in the generated data (moderate config, 120k opportunities).

These recompute every quantity from the tables with plain numpy, independently of
``truth.py``, and compare against the planted parameters in ``effects.py``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mutualist.synth import Ecosystem, attribution_buckets
from mutualist.synth import effects as fx
from mutualist.synth.config import BUCKETS, SIZE_BANDS

DAY = 86_400
NAT = np.iinfo(np.int64).min
UNATTRIBUTED, INFLUENCED, SOURCED = 0, 1, 2


def ts(col: Any) -> np.ndarray:
    return np.asarray(col).astype("datetime64[s]").view(np.int64)


def bands(eco: Ecosystem) -> np.ndarray:
    a, o = eco.tables["accounts"], eco.tables["opportunities"]
    return np.array([SIZE_BANDS.index(b) for b in a["size_band"].tolist()])[o["account_id"]]


def win_rate(eco: Ecosystem, mask: np.ndarray) -> float:
    o = eco.tables["opportunities"]
    closed = o["is_closed"] & mask
    return float(o["is_won"][closed].sum() / closed.sum())


def test_every_opportunity_is_in_exactly_one_bucket(moderate: Ecosystem) -> None:
    bucket = attribution_buckets(moderate.tables)
    assert len(bucket) == len(moderate.tables["opportunities"]["id"])
    assert set(np.unique(bucket).tolist()) == {0, 1, 2}
    counts = moderate.truth["attribution"]["counts"]
    assert counts == {b: int((bucket == i).sum()) for i, b in enumerate(BUCKETS)}
    assert sum(counts.values()) == len(bucket)


def test_attribution_rule_is_unambiguous(moderate: Ecosystem) -> None:
    """No involvement on a non-sourced deal sits inside the 30-day window, so "influenced =
    attached after the window" and "influenced = any pre-close partner" agree."""
    t = moderate.tables
    o, inv = t["opportunities"], t["involvements"]
    bucket = attribution_buckets(t)
    opp = inv["opportunity_id"]
    at, created, closed = ts(inv["attached_at"]), ts(o["created_at"])[opp], ts(o["closed_at"])[opp]
    pre_close = (closed == NAT) | (at <= closed)
    in_window = at <= created + fx.ATTRIBUTION_WINDOW_DAYS * DAY
    assert not (pre_close & in_window & (bucket[opp] != SOURCED)).any()
    # Sourcing roles are never attached after close, so "not after close" in the rule
    # cannot change a bucket either.
    sourcing_role = np.isin(inv["role"], ["sourced", "referral"])
    assert not (sourcing_role & ~pre_close).any()
    # Unattributed deals only carry post-close involvements (the pitfall).
    assert not (pre_close & (bucket[opp] == UNATTRIBUTED)).any()
    # Partner Referral lead source appears on sourced deals only.
    assert (bucket[o["lead_source"] == "Partner Referral"] == SOURCED).all()


def test_post_close_attachments_exist_and_do_not_count(moderate: Ecosystem) -> None:
    t = moderate.tables
    o, inv = t["opportunities"], t["involvements"]
    opp = inv["opportunity_id"]
    closed = ts(o["closed_at"])[opp]
    post = (closed != NAT) & (ts(inv["attached_at"]) > closed)
    assert post.sum() == moderate.truth["post_close_attachments"] > 100
    # Counting every involvement (the naive mistake) would inflate partner deals.
    bucket = attribution_buckets(t)
    naive_partner = np.zeros(len(bucket), dtype=bool)
    naive_partner[opp] = True
    assert (naive_partner & (bucket == UNATTRIBUTED)).sum() > 0.01 * (bucket == UNATTRIBUTED).sum()


def test_win_rate_ordering_within_every_band(moderate: Ecosystem) -> None:
    bucket, band = attribution_buckets(moderate.tables), bands(moderate)
    for j, b in enumerate(SIZE_BANDS):
        rates = [win_rate(moderate, (bucket == i) & (band == j)) for i in range(3)]
        assert rates[UNATTRIBUTED] < rates[INFLUENCED] < rates[SOURCED], b
        for i, k in enumerate(BUCKETS):
            planted = fx.BASE_WIN[b] + fx.WIN_LIFT[k]
            assert abs(rates[i] - planted) < 0.035, (b, k, rates[i], planted)
    overall = [win_rate(moderate, bucket == i) for i in range(3)]
    assert overall[UNATTRIBUTED] < overall[INFLUENCED] < overall[SOURCED]


def test_confounding_naive_understates_stratified(moderate: Ecosystem) -> None:
    bucket, band = attribution_buckets(moderate.tables), bands(moderate)
    partner = bucket != UNATTRIBUTED
    naive = win_rate(moderate, partner) - win_rate(moderate, ~partner)
    o = moderate.tables["opportunities"]
    weights = np.array([(o["is_closed"] & partner & (band == j)).sum() for j in range(3)], float)
    weights /= weights.sum()
    stratified = sum(
        w * (win_rate(moderate, partner & (band == j)) - win_rate(moderate, ~partner & (band == j)))
        for j, w in enumerate(weights)
    )
    assert 0 < naive < stratified - 0.02
    # Partners really do lean to large deals: that is the confounder.
    share = [partner[band == j].mean() for j in range(3)]
    assert share[0] < share[1] < share[2]
    truth = moderate.truth["confounding"]
    assert truth["naive_difference_realised"] == round(naive, 6)
    assert abs(truth["stratified_difference_realised"] - stratified) < 1e-6
    assert abs(stratified - truth["stratified_difference_planted"]) < 0.02


def test_partner_deals_are_larger_within_band(moderate: Ecosystem) -> None:
    bucket, band = attribution_buckets(moderate.tables), bands(moderate)
    o = moderate.tables["opportunities"]
    won = o["is_won"]
    for j, b in enumerate(SIZE_BANDS):
        p = np.log(o["acv"][won & (bucket != 0) & (band == j)]).mean()
        u = np.log(o["acv"][won & (bucket == 0) & (band == j)]).mean()
        assert 1.10 < np.exp(p - u) < 1.30, b


def test_sourced_deals_close_faster(moderate: Ecosystem) -> None:
    bucket, band = attribution_buckets(moderate.tables), bands(moderate)
    o = moderate.tables["opportunities"]
    created, closed = ts(o["created_at"]), ts(o["closed_at"])
    as_of = created.max()
    mature = o["is_won"] & (created < as_of - 548 * DAY)
    days = (closed - created) / DAY
    for j, b in enumerate(SIZE_BANDS):
        s = np.median(days[mature & (bucket == SOURCED) & (band == j)])
        u = np.median(days[mature & (bucket == UNATTRIBUTED) & (band == j)])
        assert 0.70 < s / u < 0.90, b
        assert abs(u - fx.CYCLE_MEDIAN_DAYS[b]) < 0.12 * fx.CYCLE_MEDIAN_DAYS[b]


def test_partner_attached_customers_churn_less_and_expand_more(moderate: Ecosystem) -> None:
    churn = moderate.truth["churn"]["realised"]
    partner, direct = churn["partner"]["monthly_hazard"], churn["direct"]["monthly_hazard"]
    assert partner < direct
    assert abs(partner - fx.CHURN_HAZARD["partner"]) < 0.15 * fx.CHURN_HAZARD["partner"]
    assert abs(direct - fx.CHURN_HAZARD["direct"]) < 0.15 * fx.CHURN_HAZARD["direct"]
    nrr = moderate.truth["nrr"]["realised"]
    assert nrr["partner"]["nrr"] > nrr["direct"]["nrr"] + 0.05


def test_churn_recomputed_from_revenue_rows(moderate: Ecosystem) -> None:
    """Independent recomputation of the realised hazard from revenue_months alone."""
    rev = moderate.tables["revenue_months"]
    month = rev["month"].astype("datetime64[M]").astype(np.int64)
    last = month.max()
    key = rev["account_id"] * 100_000 + month
    at_risk = month < last
    events = at_risk & ~np.isin(key + 1, key)
    hazard = events.sum() / at_risk.sum()
    truth = moderate.truth["churn"]["realised"]
    total_events = truth["partner"]["churn_events"] + truth["direct"]["churn_events"]
    total_risk = (
        truth["partner"]["account_months_at_risk"] + truth["direct"]["account_months_at_risk"]
    )
    assert events.sum() == total_events and at_risk.sum() == total_risk
    assert fx.CHURN_HAZARD["partner"] < hazard < fx.CHURN_HAZARD["direct"]


def test_partner_referred_leads_convert_more_and_faster(moderate: Ecosystem) -> None:
    leads = moderate.tables["leads"]
    created, converted = ts(leads["created_at"]), ts(leads["converted_at"])
    mature = created < created.max() - 365 * DAY

    def stats(source: str) -> tuple[float, float]:
        m = mature & (leads["source"] == source)
        conv = m & (converted != NAT)
        return conv.sum() / m.sum(), float(np.median((converted[conv] - created[conv]) / DAY))

    ref_rate, ref_days = stats("partner_referral")
    cold_rate, cold_days = stats("cold_outbound")
    assert ref_rate > 2 * cold_rate
    assert ref_days < 0.6 * cold_days
    assert abs(ref_days - fx.LEAD_CONVERSION_MEDIAN_DAYS["partner_referral"]) < 3
    assert abs(cold_days - fx.LEAD_CONVERSION_MEDIAN_DAYS["cold_outbound"]) < 6


def test_partner_growth_is_planted_and_recoverable(moderate: Ecosystem) -> None:
    p = moderate.tables["partners"]
    growth = moderate.truth["partner_growth"]
    active = p["external_id"][p["status"] == "active"].tolist()
    assert sorted(growth) == sorted(active)
    values = np.array(list(growth.values()))
    assert (values < 0).any() and (values > 0.3).any() and values.std() > 0.15
    realised = moderate.truth["partner_growth_realised"]
    assert len(realised["partners"]) >= 30
    assert realised["spearman_planted_vs_deal_count"] > 0.2
    assert realised["spearman_planted_vs_realised"] > 0.0
