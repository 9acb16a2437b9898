"""Descriptive numbers equal a plain numpy computation over the generator's own arrays."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest
from lifelines import KaplanMeierFitter

from mutualist import analytics as an
from mutualist.analytics.period import Period
from mutualist.analytics.snapshot import Snapshot, rows
from mutualist.synth import Ecosystem, attribution_buckets

from .conftest import Tables

BUCKET_NAMES = np.array(["unattributed", "influenced", "sourced"])
YEAR = Period(dt.date(2025, 1, 1), dt.date(2025, 12, 31))


def _ts(x: Any) -> np.ndarray:
    return np.asarray(x).astype("datetime64[s]")


def _in(col: np.ndarray, period: Period) -> np.ndarray:
    lo = np.datetime64(period.lo, "s")
    hi = np.datetime64(period.hi, "s")
    return (col >= lo) & (col < hi)


def _bucket(eco: Ecosystem) -> np.ndarray:
    return BUCKET_NAMES[attribution_buckets(eco.tables)]


def _members(group: str) -> list[str]:
    return ["sourced", "influenced"] if group == "partner" else [group]


def test_attribution_matches_the_generators_rule(small_eco: Ecosystem, small: Tables) -> None:
    snap = Snapshot(small, small_eco.config.end)
    got = rows(snap.opportunities.select("opportunity_id", "bucket").order_by("opportunity_id"))
    assert [r["bucket"] for r in got] == _bucket(small_eco).tolist()


def test_pipeline_and_revenue_per_bucket(small_eco: Ecosystem, small: Tables) -> None:
    o = small_eco.tables["opportunities"]
    bucket = _bucket(small_eco)
    res = an.attribution_summary(small, YEAR, small_eco.config.end)
    created, won = _in(_ts(o["created_at"]), YEAR), o["is_won"] & _in(_ts(o["closed_at"]), YEAR)
    for group in ("sourced", "influenced", "partner", "unattributed"):
        m = np.isin(bucket, _members(group))
        assert res[group]["deals"] == int((created & m).sum())
        assert res[group]["pipeline"] == pytest.approx(float(o["amount"][created & m].sum()))
        assert res[group]["won_deals"] == int((won & m).sum())
        assert res[group]["won_revenue"] == pytest.approx(float(o["amount"][won & m].sum()))
        assert res[group]["revenue_share"] == pytest.approx(
            o["amount"][won & m].sum() / o["amount"][won].sum()
        )


def test_win_rates_and_confounding_equal_truth(small_eco: Ecosystem, small: Tables) -> None:
    o = small_eco.tables["opportunities"]
    bucket = _bucket(small_eco)
    res = an.win_rates(small, YEAR, small_eco.config.end)
    closed = o["is_closed"] & _in(_ts(o["closed_at"]), YEAR)
    for group in ("sourced", "influenced", "partner", "unattributed"):
        m = closed & np.isin(bucket, _members(group))
        assert (res[group].won, res[group].closed) == (int(o["is_won"][m].sum()), int(m.sum()))
    cfg = small_eco.config
    whole = an.win_rates(small, Period(cfg.start, cfg.end), cfg.end)["partner_vs_unattributed"]
    truth = small_eco.truth["confounding"]
    assert whole["difference"].value == pytest.approx(truth["naive_difference_realised"], abs=1e-6)
    assert whole["adjusted"].value == pytest.approx(
        truth["stratified_difference_realised"], abs=1e-6
    )


def test_acv_median_and_mean(small_eco: Ecosystem, small: Tables) -> None:
    o = small_eco.tables["opportunities"]
    bucket = _bucket(small_eco)
    res = an.acv_summary(small, YEAR, small_eco.config.end)
    won = o["is_won"] & _in(_ts(o["closed_at"]), YEAR)
    for group in ("sourced", "influenced", "partner", "unattributed"):
        x = o["acv"][won & np.isin(bucket, _members(group))]
        assert res[group]["median"].value == pytest.approx(float(np.median(x)))
        assert res[group]["mean"].value == pytest.approx(float(x.mean()))
        assert res[group]["median"].n == len(x)
    truth = small_eco.truth["acv"]["realised_multiplier_within_band"]
    cfg = small_eco.config
    whole = an.acv_summary(small, Period(cfg.start, cfg.end), cfg.end)
    assert whole["partner_vs_unattributed"]["adjusted_ratio"].value == pytest.approx(
        truth, abs=1e-5
    )


def test_cycle_median_matches_lifelines(small_eco: Ecosystem, small: Tables) -> None:
    o = small_eco.tables["opportunities"]
    bucket = _bucket(small_eco)
    as_of = np.datetime64(small_eco.config.end, "D")
    res = an.cycle_days(small, YEAR, small_eco.config.end)
    created = _ts(o["created_at"]).astype("datetime64[D]")
    end = np.where(o["is_closed"], _ts(o["closed_at"]).astype("datetime64[D]"), as_of)
    days = (end - created).astype(int)
    cohort = _in(_ts(o["created_at"]), YEAR)
    for group in ("sourced", "partner", "unattributed"):
        m = cohort & np.isin(bucket, _members(group))
        kmf = KaplanMeierFitter().fit(days[m], o["is_closed"][m])
        assert res[group]["median"].value == kmf.median_survival_time_
        assert res[group]["open"] == int((~o["is_closed"][m]).sum())


def _mrr(eco: Ecosystem, month: dt.date) -> np.ndarray:
    r = eco.tables["revenue_months"]
    sel = _ts(r["month"]).astype("datetime64[M]") == np.datetime64(month, "M")
    return np.bincount(r["account_id"][sel], r["mrr"][sel], len(eco.tables["accounts"]["id"]))


def _attached(eco: Ecosystem, at: dt.date) -> np.ndarray:
    o, inv = eco.tables["opportunities"], eco.tables["involvements"]
    t0 = np.datetime64(at, "s")
    oid = inv["opportunity_id"]
    closed = _ts(o["closed_at"])[oid]
    attached = _ts(inv["attached_at"])
    ok = (attached <= t0) & (np.isnat(closed) | (attached <= closed))
    out = np.zeros(len(eco.tables["accounts"]["id"]), dtype=bool)
    out[o["account_id"][oid[ok]]] = True
    by_lead = (o["lead_source"] == "Partner Referral") & (_ts(o["created_at"]) <= t0)
    out[o["account_id"][by_lead]] = True
    return out


def test_nrr_grr_and_churn(small_eco: Ecosystem, small: Tables) -> None:
    cfg = small_eco.config
    res = an.retention(small, Period(dt.date(2025, 11, 1), cfg.end), cfg.end)
    start, end = dt.date(2025, 10, 1), dt.date(2026, 10, 1)
    assert res["nrr"]["window"] == {"start_month": "2025-10-01", "end_month": "2026-10-01"}
    s, e = _mrr(small_eco, start), _mrr(small_eco, end)
    flag = _attached(small_eco, start)
    for group, m in (("partner_attached", flag), ("unattached", ~flag)):
        c = (s > 0) & m
        assert res["nrr"][group].n == int(c.sum())
        assert res["nrr"][group].value == pytest.approx(e[c].sum() / s[c].sum())
        assert res["grr"][group].value == pytest.approx(np.minimum(e[c], s[c]).sum() / s[c].sum())
        assert res["logo_churn"][group].value == pytest.approx((e[c] <= 0).mean())


def test_cac(small_eco: Ecosystem, small: Tables) -> None:
    o, costs = small_eco.tables["opportunities"], small_eco.tables["costs"]
    bucket = _bucket(small_eco)
    res = an.cac(small, YEAR, small_eco.config.end)
    in_p = _in(_ts(costs["month"]), YEAR)
    partner_cost = in_p & (
        np.isin(costs["category"], ["partner_team", "mdf"])
        | ((costs["category"] == "commissions") & (costs["partner_id"] >= 0))
    )
    won = np.flatnonzero(o["is_won"])
    order = won[np.lexsort((won, _ts(o["closed_at"])[won], o["account_id"][won]))]
    first = np.r_[True, o["account_id"][order][1:] != o["account_id"][order][:-1]]
    firsts = order[first]
    new = firsts[_in(_ts(o["closed_at"])[firsts], YEAR)]
    new_partner = new[bucket[new] != "unattributed"]
    assert res["new_customers"] == {"all": len(new), "partner": len(new_partner)}
    assert res["blended"].value == pytest.approx(costs["amount"][in_p].sum() / len(new))
    assert res["partner"].value == pytest.approx(
        costs["amount"][partner_cost].sum() / len(new_partner)
    )


def test_partner_growth_equals_truth(moderate_eco: Ecosystem, moderate: Tables) -> None:
    res = an.partner_growth(moderate, moderate_eco.config.end)
    truth = moderate_eco.truth["partner_growth_realised"]
    ext = moderate_eco.tables["partners"]["external_id"]
    by_id = {p["partner_id"]: p for p in res["partners"]}
    assert truth["partners"]
    for key, t in truth["partners"].items():
        pid = int(np.flatnonzero(ext == key)[0])
        got = by_id[pid]
        assert got["won_deals_prior"] == t["won_deals_prior"]
        assert got["won_deals_recent"] == t["won_deals_recent"]
        if got["growth"].value is not None:
            assert got["growth"].value == pytest.approx(t["realised"], abs=1e-5)


def test_leaderboard_counts(small_eco: Ecosystem, small: Tables) -> None:
    o, inv = small_eco.tables["opportunities"], small_eco.tables["involvements"]
    res = an.leaderboard(small, YEAR, small_eco.config.end, limit=None)
    oid = inv["opportunity_id"]
    closed_at = _ts(o["closed_at"])[oid]
    ok = o["is_closed"][oid] & _in(closed_at, YEAR) & (_ts(inv["attached_at"]) <= closed_at)
    pairs = {(int(p), int(d)) for p, d in zip(inv["partner_id"][ok], oid[ok], strict=True)}
    for entry in res["partners"]:
        deals = [d for p, d in pairs if p == entry["partner_id"]]
        assert entry["closed_deals"] == len(deals)
        assert entry["won_deals"] == int(o["is_won"][deals].sum())
        assert entry["won_revenue"] == pytest.approx(
            float(o["amount"][deals][o["is_won"][deals]].sum())
        )
    assert res["total_partners"] == len({p for p, _ in pairs})


def test_lead_conversion_rate(small_eco: Ecosystem, small: Tables) -> None:
    leads = small_eco.tables["leads"]
    res = an.lead_conversion(small, YEAR, small_eco.config.end)
    for source in ("partner_referral", "cold_outbound"):
        m = _in(_ts(leads["created_at"]), YEAR) & (leads["source"] == source)
        conv = m & ~np.isnat(_ts(leads["converted_at"]))
        est = res[source]["conversion_rate"]
        assert (est.count, est.n) == (int(conv.sum()), int(m.sum()))


def test_data_quality_counts(small_eco: Ecosystem, small: Tables) -> None:
    res = an.data_quality(small, small_eco.config.end)
    assert res["post_close_involvements"]["count"] == small_eco.truth["post_close_attachments"]
    assert res["stale_open_deals"]["count"] >= small_eco.truth["attribution"]["stale_open_deals"]
    assert res["close_before_create"]["count"] == 0
    assert res["currency_mix"]["mixed"] is False
