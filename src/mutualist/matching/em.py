"""Fellegi-Sunter m and u probabilities by expectation maximisation, without labels.

A candidate pair is described by one level per comparison (name: same / same core / one typo
/ ... ; country: same / different / unknown; ...). Fellegi and Sunter model the pairs as a
mixture of matches and non-matches, with comparisons independent within each class:

    P(levels) = lambda * prod_j m_j[level_j] + (1 - lambda) * prod_j u_j[level_j]

EM (Jaro 1989; what Splink and recordlinkage's ECM classifier do) finds lambda, m and u that
make the observed level patterns most likely. It never sees which pairs are true, so nothing
is tuned to a benchmark's labels; it is re-estimated on every run, on that run's own pairs.

The pairs arrive as counts per distinct level pattern (a GROUP BY in whatever database holds
them), so EM costs a few thousand multiplications per iteration however many pairs there are.
Each m, u and lambda carries a weak Dirichlet / Beta prior: ``prior_pairs`` pseudo-pairs drawn
from the starting values (``prior_start`` of them matches). On hundreds of thousands of pairs
it is negligible; on the three pairs of a small upload it keeps the estimates near the
starting values instead of collapsing them onto those three pairs (maximum a posteriori EM).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Comparison", "Estimate", "estimate"]

Array = np.ndarray


@dataclass(frozen=True)
class Comparison:
    """One comparison: its level names and the starting (prior) m and u of each level."""

    name: str
    levels: tuple[str, ...]
    m_start: tuple[float, ...]
    u_start: tuple[float, ...]

    def __post_init__(self) -> None:
        n = len(self.levels)
        if len(self.m_start) != n or len(self.u_start) != n:
            raise ValueError(f"{self.name}: one m and one u per level")
        for label, values in (("m", self.m_start), ("u", self.u_start)):
            if min(values) <= 0 or not math.isclose(sum(values), 1.0, abs_tol=1e-9):
                raise ValueError(f"{self.name}: {label} must be positive and sum to 1")


@dataclass(frozen=True)
class Estimate:
    """EM's result: lambda (share of pairs that match), m and u per comparison and level."""

    comparisons: tuple[Comparison, ...]
    prior: float
    m: tuple[Array, ...]
    u: tuple[Array, ...]
    iterations: int
    converged: bool

    def weights(self, name: str) -> dict[str, float]:
        """log2(m / u) per level of comparison `name`: the evidence that level carries."""
        j = next(i for i, c in enumerate(self.comparisons) if c.name == name)
        ratio = np.log2(self.m[j] / self.u[j])
        return dict(zip(self.comparisons[j].levels, ratio.tolist(), strict=True))

    def prior_weight(self) -> float:
        """log2 of the prior odds of a match, lambda / (1 - lambda)."""
        return math.log2(self.prior / (1 - self.prior))

    def match_weight(self, levels: tuple[int, ...]) -> float:
        """Total log2 odds of a match for one level pattern."""
        terms = (math.log2(m[lv] / u[lv]) for m, u, lv in zip(self.m, self.u, levels, strict=True))
        return self.prior_weight() + sum(terms)

    def probability(self, levels: tuple[int, ...]) -> float:
        """Posterior probability that a pair with this level pattern is a match."""
        return 1 / (1 + 2 ** -self.match_weight(levels))


def estimate(
    comparisons: tuple[Comparison, ...],
    patterns: Array,
    counts: Array,
    *,
    prior_start: float = 0.05,
    prior_pairs: float = 1000.0,
    max_iterations: int = 100,
    tolerance: float = 1e-6,
) -> Estimate:
    """EM on `counts[p]` pairs showing level pattern `patterns[p]` (one column per comparison).

    Stops when no parameter moves by more than `tolerance` or after `max_iterations`.
    """
    patterns = np.asarray(patterns, dtype=np.int64).reshape(len(counts), len(comparisons))
    counts = np.asarray(counts, dtype=float)
    m = [np.array(c.m_start, float) for c in comparisons]
    u = [np.array(c.u_start, float) for c in comparisons]
    prior = prior_start
    for iteration in range(1, max_iterations + 1):
        match = _posterior(patterns, m, u, prior)
        # The pseudo-pairs are drawn from the starting model: prior_start of them match.
        pseudo_m, pseudo_u = prior_pairs * prior_start, prior_pairs * (1 - prior_start)
        new_m = _m_step(patterns, counts * match, comparisons, "m_start", pseudo_m)
        new_u = _m_step(patterns, counts * (1 - match), comparisons, "u_start", pseudo_u)
        matches = float(counts @ match) + pseudo_m
        new_prior = matches / (float(counts.sum()) + prior_pairs)
        change = max(
            abs(new_prior - prior),
            *(float(np.abs(a - b).max()) for a, b in zip(new_m + new_u, m + u, strict=True)),
        )
        m, u, prior = new_m, new_u, new_prior
        if change < tolerance:
            return Estimate(comparisons, prior, tuple(m), tuple(u), iteration, True)
    return Estimate(comparisons, prior, tuple(m), tuple(u), max_iterations, False)


def _posterior(patterns: Array, m: list[Array], u: list[Array], prior: float) -> Array:
    """P(match | pattern) for every pattern, in log space so long products do not underflow."""
    log_m = np.full(len(patterns), math.log(prior))
    log_u = np.full(len(patterns), math.log(1 - prior))
    for j in range(patterns.shape[1]):
        log_m += np.log(m[j][patterns[:, j]])
        log_u += np.log(u[j][patterns[:, j]])
    return 1 / (1 + np.exp(np.clip(log_u - log_m, -700, 700)))


def _m_step(
    patterns: Array,
    weights: Array,
    comparisons: tuple[Comparison, ...],
    start: str,
    pseudo_pairs: float,
) -> list[Array]:
    """Level shares among `weights`-weighted pairs, with `pseudo_pairs` pairs at start."""
    out = []
    for j, comparison in enumerate(comparisons):
        seen = np.bincount(patterns[:, j], weights=weights, minlength=len(comparison.levels))
        totals: Array = seen + pseudo_pairs * np.array(getattr(comparison, start), float)
        out.append(totals / totals.sum())
    return out
