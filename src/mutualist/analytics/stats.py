"""Interval estimators for proportions, differences, ratios, medians and means.

Pure functions on small, already-aggregated numbers (counts, sums, a few order statistics):
the heavy lifting happens in Ibis, these only turn aggregates into honest intervals. Each
one is tested against the statsmodels / SciPy implementation it mirrors.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import optimize, stats
from statsmodels.genmod import families
from statsmodels.genmod.generalized_linear_model import GLM
from statsmodels.tools.sm_exceptions import (
    ConvergenceWarning,
    HessianInversionWarning,
    PerfectSeparationError,
    PerfectSeparationWarning,
)

from .estimate import LEVEL, NOT_ENOUGH_DATA, Estimate

NO_INTERVAL = "too few observations for an interval"
MAX_LOG_CONCENTRATION = math.log(1e4)  # prior worth at most 10,000 deals
# A fitted log odds/hazard ratio beyond +-10 (a factor of 22,000) or with a standard error
# above 5 is what (quasi-)separation looks like, not an effect a board should read.
MAX_ABS_LOG_EFFECT = 10.0
MAX_LOG_EFFECT_SE = 5.0
# Regression models need events to learn from: at least this many events (and non-events)
# per model parameter (the relaxed rule of Vittinghoff & McCulloch 2007) and per group.
MIN_EVENTS_PER_PARAMETER = 5
MIN_EVENTS_PER_GROUP = 5
_FIT_WARNINGS = (
    ConvergenceWarning,
    HessianInversionWarning,
    PerfectSeparationWarning,
)


@functools.lru_cache(maxsize=64)
def z_value(level: float = LEVEL) -> float:
    # Cached: called once per interval (thousands per board), always with a few levels.
    return float(stats.norm.isf((1.0 - level) / 2.0))


def wilson(k: int, n: int, level: float = LEVEL) -> tuple[float, float, float]:
    """Wilson score interval (no continuity correction), as statsmodels ``method="wilson"``."""
    p = k / n
    z = z_value(level)
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return p, max(0.0, centre - half), min(1.0, centre + half)


def proportion(k: int, n: int, level: float = LEVEL, *, win: bool = False) -> Estimate:
    """A rate with its Wilson interval; ``win=True`` labels the counts won/closed."""
    won, closed, count = (k, n, None) if win else (None, None, k)
    if n <= 0:
        return Estimate.missing(n=0, method="wilson", won=won, closed=closed, count=count)
    p, lo, hi = wilson(k, n, level)
    est = Estimate(
        p, lo, hi, n=n, method="wilson", level=level, won=won, closed=closed, count=count
    )
    if n < 20:
        est = est.with_warning(f"small sample (n={n}): treat as indicative only")
    return est


def newcombe_difference(
    k1: int, n1: int, k2: int, n2: int, level: float = LEVEL
) -> tuple[float, float, float]:
    """p1 - p2 with Newcombe's hybrid score interval (method 10, Newcombe 1998)."""
    p1, lo1, hi1 = wilson(k1, n1, level)
    p2, lo2, hi2 = wilson(k2, n2, level)
    d = p1 - p2
    return (
        d,
        d - math.sqrt((p1 - lo1) ** 2 + (hi2 - p2) ** 2),
        d + math.sqrt((hi1 - p1) ** 2 + (p2 - lo2) ** 2),
    )


def difference(k1: int, n1: int, k2: int, n2: int, level: float = LEVEL) -> Estimate:
    if n1 <= 0 or n2 <= 0:
        return Estimate.missing(n=max(n1, 0) + max(n2, 0), method="newcombe")
    d, lo, hi = newcombe_difference(k1, n1, k2, n2, level)
    return Estimate(d, lo, hi, n=n1 + n2, method="newcombe", level=level)


def katz_ratio(
    k1: int, n1: int, k2: int, n2: int, level: float = LEVEL, adjust: float = 0.0
) -> tuple[float, float, float]:
    """p1 / p2 with the log-normal (Katz) interval; ``adjust=0.5`` is the adjusted form."""
    a1, m1, a2, m2 = k1 + adjust, n1 + adjust, k2 + adjust, n2 + adjust
    ratio = (a1 / m1) / (a2 / m2)
    half = z_value(level) * math.sqrt(1 / a1 - 1 / m1 + 1 / a2 - 1 / m2)
    return ratio, ratio * math.exp(-half), ratio * math.exp(half)


def ratio(k1: int, n1: int, k2: int, n2: int, level: float = LEVEL) -> Estimate:
    n = max(n1, 0) + max(n2, 0)
    if n1 <= 0 or n2 <= 0 or k2 == 0:
        return Estimate.missing(n=n, method="katz-log")
    if k1 == 0:
        # The plain log interval is undefined with a zero count; add 0.5 to every cell.
        _, lo, hi = katz_ratio(k1, n1, k2, n2, level, adjust=0.5)
        return Estimate(0.0, lo, hi, n=n, method="katz-log (0.5 added)", level=level)
    r, lo, hi = katz_ratio(k1, n1, k2, n2, level)
    return Estimate(r, lo, hi, n=n, method="katz-log", level=level)


@dataclass(frozen=True)
class Stratum:
    """Won/closed counts of the compared groups within one stratum (e.g. a size band)."""

    key: str
    won1: int
    n1: int
    won0: int
    n0: int


def standardized_difference(
    strata: Sequence[Stratum],
    level: float = LEVEL,
    method: str = "risk difference standardized to partner deals (Wald)",
    min_coverage: float = 0.0,
) -> Estimate:
    """Within-stratum risk differences averaged with the exposed group's weights.

    This is direct standardisation to the partner deals ("effect on the treated"): the
    question a CPO asks is "on the kind of deals partners touch, how much more do we win?".
    Strata missing either group cannot contribute and are reported in the note; when the
    usable strata hold less than ``min_coverage`` of the exposed group, the answer is "not
    enough data" (an average over a sliver of them would speak for all). The variance
    treats the weights as fixed: sum of w^2 (p1 q1 / n1 + p0 q0 / n0).
    """
    usable = [s for s in strata if s.n1 > 0 and s.n0 > 0]
    total1 = sum(s.n1 for s in strata)
    n_all = sum(s.n1 + s.n0 for s in strata)
    if not usable or total1 == 0:
        return Estimate.missing(n=n_all, method=method)
    used1 = sum(s.n1 for s in usable)
    if used1 < min_coverage * total1:
        return Estimate.missing(n=n_all, method=method, note=_coverage_note(used1 / total1))
    value = var = 0.0
    for s in usable:
        w = s.n1 / used1
        p1, p0 = s.won1 / s.n1, s.won0 / s.n0
        value += w * (p1 - p0)
        var += w * w * (p1 * (1 - p1) / s.n1 + p0 * (1 - p0) / s.n0)
    half = z_value(level) * math.sqrt(var)
    est = Estimate(
        value,
        value - half,
        value + half,
        n=n_all,
        method=method,
        level=level,
    )
    dropped = [s.key for s in strata if (s.n1 > 0) != (s.n0 > 0)]
    if dropped:
        share = 1 - used1 / total1
        est = est.with_note(f"strata without both groups left out: {dropped} ({share:.1%})")
    return est


def _coverage_note(share: float) -> str:
    return (
        f"{NOT_ENOUGH_DATA}: strata holding both groups cover only {share:.1%} of the "
        "exposed group, too little to stand for it"
    )


def median_ranks(n: int, level: float = LEVEL) -> tuple[int, int] | None:
    """0-based ranks of the exact order-statistic (binomial) interval for the median.

    Same ranks as ``scipy.stats.quantile_test(x, p=0.5).confidence_interval()``; None when
    the sample is too small for any interval at this level.
    """
    if n <= 0:
        return None
    tail = (1.0 - level) / 2.0
    dist = stats.binom(n, 0.5)
    lo, hi = int(dist.ppf(tail)) - 1, int(dist.isf(tail))
    if lo < 0 or hi >= n:
        return None
    return lo, hi


def median_from_ranks(value_at: dict[int, float], n: int, level: float = LEVEL) -> Estimate:
    """Sample median and its order-statistic interval from a few ranked values."""
    if n <= 0:
        return Estimate.missing(method="order statistics (binomial)")
    mid = (value_at[(n - 1) // 2] + value_at[n // 2]) / 2.0
    ranks = median_ranks(n, level)
    if ranks is None:
        return Estimate(
            mid, n=n, method="order statistics (binomial)", level=level, note=NO_INTERVAL
        )
    return Estimate(
        mid,
        value_at[ranks[0]],
        value_at[ranks[1]],
        n=n,
        method="order statistics (binomial)",
        level=level,
    )


def sample_median(values: Sequence[float], level: float = LEVEL) -> Estimate:
    """The median of a small sample held in memory, with its order-statistic interval."""
    ordered = sorted(values)
    return median_from_ranks(dict(enumerate(ordered)), len(ordered), level)


def ranks_needed(n: int, level: float = LEVEL) -> list[int]:
    """Every 0-based rank :func:`median_from_ranks` will ask for."""
    if n <= 0:
        return []
    ranks = {(n - 1) // 2, n // 2}
    bounds = median_ranks(n, level)
    if bounds:
        ranks.update(bounds)
    return sorted(ranks)


def mean_t(mean: float | None, sd: float | None, n: int, level: float = LEVEL) -> Estimate:
    """Mean with a Student-t interval from (mean, sample sd, n) aggregates."""
    if n <= 0 or mean is None:
        return Estimate.missing(n=max(n, 0), method="student t")
    if n < 2 or sd is None or not math.isfinite(sd):
        return Estimate(mean, n=n, method="student t", level=level, note=NO_INTERVAL)
    half = float(stats.t.isf((1 - level) / 2, n - 1)) * sd / math.sqrt(n)
    return Estimate(mean, mean - half, mean + half, n=n, method="student t", level=level)


def poisson_interval(k: int, level: float = LEVEL) -> tuple[float, float]:
    """Exact (Garwood) interval for a Poisson count."""
    tail = (1 - level) / 2
    lo = 0.0 if k == 0 else float(stats.chi2.ppf(tail, 2 * k)) / 2
    hi = float(stats.chi2.ppf(1 - tail, 2 * k + 2)) / 2
    return lo, hi


@dataclass(frozen=True)
class RatioSums:
    """Sufficient statistics of a ratio of sums over n independent units (e.g. accounts):
    sum(y), sum(x), sum(y^2), sum(x^2), sum(x*y)."""

    n: int
    sy: float
    sx: float
    syy: float
    sxx: float
    sxy: float

    @property
    def ratio(self) -> float:
        return self.sy / self.sx

    def variance(self) -> float:
        """Linearised (delta-method) variance of sum(y)/sum(x) with units iid:
        sum((y - R x)^2) / (n (n - 1)) / mean(x)^2."""
        r = self.ratio
        resid = max(self.syy - 2 * r * self.sxy + r * r * self.sxx, 0.0)
        mean_x = self.sx / self.n
        return resid / (self.n * (self.n - 1)) / (mean_x * mean_x)

    def __add__(self, other: RatioSums) -> RatioSums:
        # Every field is a sum over units, so strata add up to the whole.
        return RatioSums(
            self.n + other.n,
            self.sy + other.sy,
            self.sx + other.sx,
            self.syy + other.syy,
            self.sxx + other.sxx,
            self.sxy + other.sxy,
        )


EMPTY_SUMS = RatioSums(0, 0.0, 0.0, 0.0, 0.0, 0.0)


def ratio_of_sums(s: RatioSums, level: float = LEVEL) -> Estimate:
    method = "ratio of sums, delta method over units"
    if s.n <= 0 or s.sx <= 0:
        return Estimate.missing(n=max(s.n, 0), method=method)
    if s.n < 2:
        return Estimate(s.ratio, n=s.n, method=method, level=level, note=NO_INTERVAL)
    half = z_value(level) * math.sqrt(s.variance())
    return Estimate(s.ratio, s.ratio - half, s.ratio + half, n=s.n, method=method, level=level)


def difference_of_estimates(a: Estimate, b: Estimate, level: float = LEVEL) -> Estimate:
    """a - b for independent normal-approximation estimates (SE recovered from the CIs)."""
    if not (a.ok and b.ok) or None in (a.low, a.high, b.low, b.high):
        return Estimate.missing(n=a.n + b.n, method="difference of independent estimates")
    z = z_value(level)
    se_a = (a.high - a.low) / (2 * z)  # type: ignore[operator]
    se_b = (b.high - b.low) / (2 * z)  # type: ignore[operator]
    d = a.value - b.value  # type: ignore[operator]
    half = z * math.hypot(se_a, se_b)
    return Estimate(d, d - half, d + half, n=a.n + b.n, method="difference, normal approximation")


def simpson_warning(
    naive: Estimate,
    adjusted: Estimate,
    adjustment: str = "size-band-adjusted",
    null: float = 0.0,
    what: str = "differences",
    mix: str = "the deal mix",
) -> str | None:
    """A warning when the naive and the adjusted comparison fall on opposite sides of
    ``null`` (0 for differences, 1 for ratios): Simpson's paradox, the mix drives the
    naive number. None when they agree or either is missing."""
    if not (naive.ok and adjusted.ok):
        return None
    if (naive.value - null) * (adjusted.value - null) < 0:  # type: ignore[operator]
        return (
            f"Simpson's paradox: the naive and the {adjustment} {what} point in opposite "
            f"directions; {mix} drives the naive number"
        )
    return None


@dataclass(frozen=True)
class RatioStratum:
    """Ratio-of-sums statistics of the compared groups within one stratum."""

    key: str
    exposed: RatioSums
    control: RatioSums


def standardized_ratio_difference(
    strata: Sequence[RatioStratum],
    level: float = LEVEL,
    unit: str = "units",
    min_coverage: float = 0.5,
) -> Estimate:
    """Within-stratum differences of two ratios of sums (e.g. NRR), averaged with the
    exposed group's share of the denominator (e.g. starting MRR) in each stratum.

    With those weights the exposed side of the sum is the exposed group's own ratio, so
    the result reads "exposed ratio minus what the control units would have retained with
    the exposed group's mix". Each stratum needs two units per group for a delta-method
    variance; the weights are treated as fixed: Var = sum w^2 (Var R1 + Var R0). Usable
    strata holding less than ``min_coverage`` of the exposed denominator: "not enough data".
    """
    method = f"ratio difference standardized to the exposed {unit}' mix (delta method)"
    n_all = sum(s.exposed.n + s.control.n for s in strata)
    usable = [
        s
        for s in strata
        if s.exposed.n > 1 and s.control.n > 1 and s.exposed.sx > 0 and s.control.sx > 0
    ]
    total = sum(s.exposed.sx for s in strata)
    used = sum(s.exposed.sx for s in usable)
    if not usable or used <= 0:
        return Estimate.missing(n=n_all, method=method)
    if used < min_coverage * total:
        return Estimate.missing(n=n_all, method=method, note=_coverage_note(used / total))
    value = var = 0.0
    for s in usable:
        w = s.exposed.sx / used
        value += w * (s.exposed.ratio - s.control.ratio)
        var += w * w * (s.exposed.variance() + s.control.variance())
    half = z_value(level) * math.sqrt(var)
    est = Estimate(value, value - half, value + half, n=n_all, method=method, level=level)
    dropped = [s.key for s in strata if s not in usable and s.exposed.n > 0]
    if dropped:
        share = 1 - used / total
        est = est.with_note(
            f"strata with fewer than 2 {unit} in a group left out: {dropped} "
            f"({share:.1%} of the exposed denominator)"
        )
    return est


def guarded_fit(fit: Callable[[], Any]) -> tuple[Any, str | None]:
    """Run a statsmodels fit; (result, None) or (None, why it cannot be trusted).

    Non-convergence, separation and singular designs are data too thin for the model:
    they become a reason for "not enough data", never an exception or a made-up number.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = fit()
        except (
            np.linalg.LinAlgError,
            ValueError,
            ZeroDivisionError,
            PerfectSeparationError,
        ) as exc:
            return None, f"model could not be fitted ({type(exc).__name__}: {exc})"
    for w in caught:
        if issubclass(w.category, PerfectSeparationWarning):
            return None, "perfect separation: a group or level has only events or none"
        if issubclass(w.category, _FIT_WARNINGS):
            return None, "model did not converge (likely separation or too few events)"
    return result, None


def log_effect(
    beta: float, se: float, level: float = LEVEL
) -> tuple[tuple[float, float, float] | None, str | None]:
    """exp(beta) with its Wald interval exp(beta +- z se), or the reason it is unusable."""
    if not (math.isfinite(beta) and math.isfinite(se)) or se <= 0:
        return None, "model gave no finite estimate"
    if abs(beta) > MAX_ABS_LOG_EFFECT or se > MAX_LOG_EFFECT_SE:
        return None, "estimate unbounded or too imprecise (quasi-separation)"
    half = z_value(level) * se
    return (math.exp(beta), math.exp(beta - half), math.exp(beta + half)), None


@dataclass(frozen=True)
class BinomialCell:
    """Events among ``n`` units sharing one exposure and one level of every covariate
    (aggregated rows: a logistic regression on cells equals the one on units)."""

    exposed: bool
    levels: tuple[str, ...]
    events: int
    n: int


def _drop_constant_levels(
    cells: list[BinomialCell], covariates: Sequence[str]
) -> tuple[list[BinomialCell], list[str]]:
    """Drop covariate levels with only events or none: their coefficient runs off to
    infinity (separation) while the exposure's estimate is the same without those rows."""
    dropped: list[str] = []
    changed = True
    while changed:
        changed = False
        for j, name in enumerate(covariates):
            totals: dict[str, list[int]] = {}
            for c in cells:
                t = totals.setdefault(c.levels[j], [0, 0])
                t[0], t[1] = t[0] + c.events, t[1] + c.n
            constant = {lv for lv, (e, n) in totals.items() if e == 0 or e == n}
            if constant:
                dropped += [f"{name}={lv}" for lv in sorted(constant)]
                cells = [c for c in cells if c.levels[j] not in constant]
                changed = True
    return cells, dropped


def _dummies(values: Sequence[str]) -> np.ndarray:
    """Treatment coding against the most common level (ties by name), for stable fits."""
    counts: dict[str, int] = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    reference = max(counts, key=lambda lv: (counts[lv], lv))
    others = sorted(lv for lv in counts if lv != reference)
    return np.array([[float(v == lv) for lv in others] for v in values]).reshape(
        len(values), len(others)
    )


def _design(cells: Sequence[BinomialCell], n_covariates: int) -> np.ndarray:
    """Columns: intercept, exposure, then the dummies of each covariate."""
    columns: list[np.ndarray] = [
        np.ones(len(cells)),
        np.array([float(c.exposed) for c in cells]),
    ]
    columns += [_dummies([c.levels[j] for c in cells]) for j in range(n_covariates)]
    return np.column_stack(columns)


def _fit_logit(
    cells: Sequence[BinomialCell], exog: np.ndarray, level: float
) -> tuple[tuple[float, float, float] | None, str | None]:
    endog = np.array([[c.events, c.n - c.events] for c in cells], dtype=float)
    res, reason = guarded_fit(GLM(endog, exog, family=families.Binomial()).fit)
    if res is None:
        return None, reason
    if not res.converged:
        return None, "model did not converge"
    return log_effect(float(res.params[1]), float(res.bse[1]), level)


def logistic_odds_ratio(
    cells: Sequence[BinomialCell],
    covariates: Sequence[str],
    level: float = LEVEL,
    labels: tuple[str, str] = ("exposed", "control"),
) -> Estimate:
    """Adjusted odds ratio of the exposure from ``events ~ exposed + C(cov1) + ...``
    (statsmodels GLM, binomial, on aggregated cells) with its Wald interval."""
    method = (
        "logistic regression (statsmodels GLM binomial), adjusted for "
        f"{', '.join(covariates) or 'nothing'}; Wald interval"
    )
    kept = sorted((c for c in cells if c.n > 0), key=lambda c: (c.exposed, c.levels))
    n_all = sum(c.n for c in kept)
    kept, dropped = _drop_constant_levels(kept, covariates)
    n, events = sum(c.n for c in kept), sum(c.events for c in kept)
    effect, reason = None, _too_thin_for_logit(kept, labels)
    if reason is None:
        exog = _design(kept, len(covariates))
        if min(events, n - events) < MIN_EVENTS_PER_PARAMETER * exog.shape[1]:
            reason = f"fewer than {MIN_EVENTS_PER_PARAMETER} events per model parameter"
        else:
            effect, reason = _fit_logit(kept, exog, level)
    if effect is None:
        return Estimate.missing(n=n_all, method=method, note=f"{NOT_ENOUGH_DATA}: {reason}")
    est = Estimate(*effect, n=n, count=events, method=method, level=level)
    if dropped:
        est = est.with_note(f"levels with only events or none left out: {dropped}")
    return est


def _too_thin_for_logit(cells: Sequence[BinomialCell], labels: tuple[str, str]) -> str | None:
    for exposed, label in zip((True, False), labels, strict=True):
        e = sum(c.events for c in cells if c.exposed == exposed)
        n = sum(c.n for c in cells if c.exposed == exposed)
        if min(e, n - e) < MIN_EVENTS_PER_GROUP:
            return (
                f"{label}: {e} events among {n}; the model needs at least "
                f"{MIN_EVENTS_PER_GROUP} events and {MIN_EVENTS_PER_GROUP} non-events per group"
            )
    return None


@dataclass(frozen=True)
class BetaPrior:
    alpha: float
    beta: float

    @property
    def mean(self) -> float:
        return self.alpha / (self.alpha + self.beta)

    def shrink(self, k: int, n: int, level: float = LEVEL) -> Estimate:
        """Posterior mean and equal-tailed credible interval of one unit's rate."""
        a, b = self.alpha + k, self.beta + n - k
        tail = (1 - level) / 2
        return Estimate(
            a / (a + b),
            float(stats.beta.ppf(tail, a, b)),
            float(stats.beta.ppf(1 - tail, a, b)),
            n=n,
            won=k,
            closed=n,
            method="empirical Bayes (beta-binomial prior), posterior interval",
            level=level,
        )


def fit_beta_binomial(won: Sequence[int], closed: Sequence[int]) -> BetaPrior | None:
    """Maximum-likelihood beta-binomial prior across units (e.g. partners' win rates).

    None when there are too few units with closed deals to learn a spread from.
    """
    k = np.asarray(won, dtype=float)
    n = np.asarray(closed, dtype=float)
    keep = n > 0
    k, n = k[keep], n[keep]
    if len(n) < 3 or n.sum() < 10:
        return None

    # Parametrise by the mean (logit) and the concentration a + b (log): without
    # over-dispersion the likelihood keeps rising as a + b grows, so a + b is capped while
    # the mean stays where the data put it.
    def nll(theta: np.ndarray) -> float:
        mean = 1.0 / (1.0 + math.exp(-theta[0]))
        conc = math.exp(min(theta[1], MAX_LOG_CONCENTRATION))
        return -float(stats.betabinom.logpmf(k, n, mean * conc, (1 - mean) * conc).sum())

    p = min(max(k.sum() / n.sum(), 0.01), 0.99)
    start = np.array([math.log(p / (1 - p)), math.log(10.0)])
    res = optimize.minimize(nll, start, method="Nelder-Mead", options={"xatol": 1e-6})
    mean = 1.0 / (1.0 + math.exp(-res.x[0]))
    conc = math.exp(min(res.x[1], MAX_LOG_CONCENTRATION))
    return BetaPrior(mean * conc, (1 - mean) * conc)
