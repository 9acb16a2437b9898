"""Every interval against the library implementation it mirrors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from mutualist.analytics import stats

CASES = [(3, 4), (7, 10), (0, 12), (12, 12), (1629, 2604), (1, 1), (55, 300)]
PAIRS = [(30, 100, 20, 110), (3, 4, 7, 10), (0, 15, 5, 20), (400, 900, 700, 2600), (9, 9, 1, 9)]


@pytest.mark.parametrize(("k", "n"), CASES)
def test_wilson_matches_statsmodels(k: int, n: int) -> None:
    p, lo, hi = stats.wilson(k, n)
    ref_lo, ref_hi = proportion_confint(k, n, alpha=0.05, method="wilson")
    assert p == pytest.approx(k / n)
    assert (lo, hi) == pytest.approx((ref_lo, ref_hi), abs=1e-12)


def test_wilson_reference_values_from_the_metrics_notes() -> None:
    assert stats.wilson(3, 4)[1:] == pytest.approx((0.30, 0.95), abs=0.005)
    assert stats.wilson(7, 10)[1:] == pytest.approx((0.40, 0.89), abs=0.005)


@pytest.mark.parametrize(("k1", "n1", "k2", "n2"), PAIRS)
def test_newcombe_matches_statsmodels(k1: int, n1: int, k2: int, n2: int) -> None:
    d, lo, hi = stats.newcombe_difference(k1, n1, k2, n2)
    ref = confint_proportions_2indep(k1, n1, k2, n2, method="newcomb", compare="diff")
    assert d == pytest.approx(k1 / n1 - k2 / n2)
    assert (lo, hi) == pytest.approx(tuple(ref), abs=1e-12)


@pytest.mark.parametrize(("k1", "n1", "k2", "n2"), [p for p in PAIRS if p[0] and p[2]])
def test_katz_ratio_matches_statsmodels_log(k1: int, n1: int, k2: int, n2: int) -> None:
    r, lo, hi = stats.katz_ratio(k1, n1, k2, n2)
    ref = confint_proportions_2indep(k1, n1, k2, n2, method="log", compare="ratio")
    assert r == pytest.approx((k1 / n1) / (k2 / n2))
    assert (lo, hi) == pytest.approx(tuple(ref), rel=1e-12)


def test_ratio_with_zero_count_uses_the_adjusted_form() -> None:
    est = stats.ratio(0, 15, 5, 20)
    ref = confint_proportions_2indep(0, 15, 5, 20, method="log-adjusted", compare="ratio")
    assert est.value == 0.0
    assert (est.low, est.high) == pytest.approx(tuple(ref))
    assert stats.ratio(3, 10, 0, 10).value is None


@pytest.mark.parametrize("n", [1, 5, 6, 9, 10, 31, 100, 1001])
def test_median_interval_matches_scipy_quantile_test(n: int) -> None:
    x = np.sort(np.random.default_rng(n).lognormal(10, 1, n))
    est = stats.median_from_ranks({r: float(x[r]) for r in stats.ranks_needed(n)}, n)
    assert est.value == pytest.approx(float(np.median(x)))
    ci = sps.quantile_test(x, p=0.5).confidence_interval(0.95)
    if math.isnan(ci.low) or math.isnan(ci.high):
        assert est.low is None and est.high is None and est.note
    else:
        assert (est.low, est.high) == pytest.approx((ci.low, ci.high))


def test_mean_t_matches_scipy() -> None:
    x = np.random.default_rng(1).lognormal(9, 0.6, 40)
    est = stats.mean_t(float(x.mean()), float(x.std(ddof=1)), len(x))
    lo, hi = sps.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=sps.sem(x))
    assert (est.low, est.high) == pytest.approx((lo, hi))
    assert stats.mean_t(5.0, None, 1).low is None
    assert stats.mean_t(None, None, 0).value is None


def test_poisson_interval_exact_values() -> None:
    assert stats.poisson_interval(0) == pytest.approx((0.0, 3.688879), abs=1e-5)
    lo, hi = stats.poisson_interval(10)
    assert sps.poisson.sf(9, lo) == pytest.approx(0.025)  # P(X >= 10 | lo) = 2.5%
    assert sps.poisson.cdf(10, hi) == pytest.approx(0.025)


def test_ratio_of_sums_delta_method_matches_direct_formula() -> None:
    rng = np.random.default_rng(4)
    x = rng.lognormal(7, 1, 500)
    y = x * rng.lognormal(0.05, 0.3, 500) * (rng.random(500) > 0.1)
    s = stats.RatioSums(len(x), y.sum(), x.sum(), (y * y).sum(), (x * x).sum(), (x * y).sum())
    est = stats.ratio_of_sums(s)
    r = y.sum() / x.sum()
    se = math.sqrt(((y - r * x) ** 2).sum() / (len(x) * (len(x) - 1))) / x.mean()
    assert est.value == pytest.approx(r)
    assert (est.low, est.high) == pytest.approx((r - 1.959964 * se, r + 1.959964 * se), rel=1e-5)
    # And it is a sensible interval: a bootstrap over units agrees on the width.
    boots = []
    for _ in range(400):
        i = rng.integers(0, len(x), len(x))
        boots.append(y[i].sum() / x[i].sum())
    assert np.std(boots) == pytest.approx(se, rel=0.15)


def test_standardized_difference_by_hand() -> None:
    strata = [stats.Stratum("a", 30, 100, 20, 100), stats.Stratum("b", 10, 50, 40, 400)]
    est = stats.standardized_difference(strata)
    w = np.array([100, 50]) / 150
    d = np.array([0.3 - 0.2, 0.2 - 0.1])
    var = w[0] ** 2 * (0.3 * 0.7 / 100 + 0.2 * 0.8 / 100) + w[1] ** 2 * (
        0.2 * 0.8 / 50 + 0.1 * 0.9 / 400
    )
    assert est.value == pytest.approx(float(w @ d))
    assert est.high is not None and est.value is not None
    assert est.high - est.value == pytest.approx(1.959964 * math.sqrt(var), rel=1e-5)
    only_one = stats.standardized_difference([*strata, stats.Stratum("c", 5, 5, 0, 0)])
    assert only_one.note and "'c'" in only_one.note


def test_beta_binomial_fit_recovers_the_prior() -> None:
    rng = np.random.default_rng(2)
    p = rng.beta(8, 24, 400)
    n = rng.integers(5, 60, 400)
    k = rng.binomial(n, p)
    prior = stats.fit_beta_binomial(k.tolist(), n.tolist())
    assert prior is not None
    assert prior.mean == pytest.approx(0.25, abs=0.02)
    assert prior.alpha + prior.beta == pytest.approx(32, rel=0.35)
    shrunk = prior.shrink(3, 4)
    assert shrunk.value is not None
    assert 0.25 < shrunk.value < 0.75  # pulled from 75 % toward the ecosystem's 25 %
    assert stats.fit_beta_binomial([1], [2]) is None


def test_beta_binomial_without_overdispersion_keeps_the_mean() -> None:
    n = np.full(50, 40)
    k = np.random.default_rng(3).binomial(n, 0.3)
    prior = stats.fit_beta_binomial(k.tolist(), n.tolist())
    assert prior is not None
    assert prior.mean == pytest.approx(k.sum() / n.sum(), abs=0.01)


def test_empty_inputs_are_not_enough_data() -> None:
    assert stats.proportion(0, 0).value is None
    assert stats.proportion(0, 0).note == "not enough data"
    assert stats.difference(1, 2, 0, 0).value is None
    assert stats.ratio_of_sums(stats.RatioSums(0, 0, 0, 0, 0, 0)).value is None
    assert stats.median_from_ranks({}, 0).value is None
