"""The effects planted by the generator (``eco.truth``) fall inside the reported intervals
across several seeds, and adjusting for deal size moves the win-rate comparison toward the
planted conditional effect."""

from __future__ import annotations

import datetime as dt

from mutualist import analytics as an
from mutualist.synth import Ecosystem
from mutualist.synth import effects as fx

from .conftest import Tables


def _covers(est: an.Estimate, x: float) -> bool:
    return est.low is not None and est.high is not None and est.low <= x <= est.high


def _whole(eco: Ecosystem) -> an.Period:
    return an.Period(eco.config.start, eco.config.end)


def test_adjusted_win_rate_difference_recovers_the_planted_effect(
    seeded: list[tuple[Ecosystem, Tables]],
) -> None:
    for eco, tables in seeded:
        truth = eco.truth["confounding"]
        res = an.win_rates(tables, _whole(eco), eco.config.end)["partner_vs_unattributed"]
        planted = truth["stratified_difference_planted"]
        naive, adjusted = res["difference"], res["adjusted"]
        assert _covers(adjusted, planted), (eco.config.seed, adjusted, planted)
        assert abs(adjusted.value - planted) < abs(naive.value - planted)
        assert _covers(naive, truth["naive_difference_expected_from_planted"])
        assert "observational" in (adjusted.note or "")


def test_acv_partner_multiplier_inside_interval(seeded: list[tuple[Ecosystem, Tables]]) -> None:
    for eco, tables in seeded:
        res = an.acv_summary(tables, _whole(eco), eco.config.end)
        est = res["partner_vs_unattributed"]["adjusted_ratio"]
        assert _covers(est, fx.PARTNER_ACV_MULTIPLIER), (eco.config.seed, est)


def test_lead_conversion_rates_and_speed(seeded: list[tuple[Ecosystem, Tables]]) -> None:
    misses = checks = 0
    for eco, tables in seeded:
        cfg = eco.config
        # Leads at least a year old: their conversions are in, as in the truth's definition.
        period = an.Period(cfg.start, cfg.end - dt.timedelta(days=365))
        res = an.lead_conversion(tables, period, cfg.end, mature_days=365)
        for source in ("partner_referral", "cold_outbound"):
            rate = res[source]["conversion_rate"]
            speed = res[source]["median_days_converted"]
            checks += 2
            misses += not _covers(rate, fx.LEAD_CONVERSION_RATE[source])
            misses += not _covers(speed, fx.LEAD_CONVERSION_MEDIAN_DAYS[source])
        diff = res["partner_referral_vs_cold_outbound"]["conversion_rate_difference"]
        assert diff.low > 0
    # 95 % intervals: over 12 checks one miss is expected now and then (seed 42 has one).
    assert misses <= 1, misses


def test_partner_growth_intervals_cover_planted_growth(
    seeded: list[tuple[Ecosystem, Tables]],
) -> None:
    hits = total = 0
    for eco, tables in seeded:
        planted = eco.truth["partner_growth"]
        ext = eco.tables["partners"]["external_id"]
        for p in an.partner_growth(tables, eco.config.end)["partners"]:
            key = str(ext[p["partner_id"]])
            if p["growth"].value is not None and key in planted:
                total += 1
                hits += _covers(p["growth"], planted[key])
    assert total >= 30
    assert hits / total >= 0.8  # nominal 95 %; planted is the deal-flow rate, noisier


def test_partner_attached_accounts_retain_better(moderate_eco: Ecosystem, moderate: Tables) -> None:
    cfg = moderate_eco.config
    res = an.retention(moderate, _whole(moderate_eco), cfg.end)
    nrr_gap = res["nrr"]["partner_attached_vs_unattached"]["difference"]
    assert nrr_gap.low > 0
    churn = res["logo_churn"]
    assert churn["partner_attached"].value < churn["unattached"].value
    # The planted yearly churn of direct accounts is 1 - (1 - 1.8 %)^12 = 19.6 %; the
    # unattached cohort also holds win-backs and partner-first accounts, so only a range.
    assert 0.10 < churn["unattached"].value < 0.30
