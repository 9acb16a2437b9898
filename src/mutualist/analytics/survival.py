"""Kaplan-Meier and Aalen-Johansen estimators on *aggregated* event counts.

The Ibis side groups durations into (time, event kind, count) rows, so these work on at
most a few thousand distinct times whatever the number of deals or leads. Formulas follow
lifelines (exponential Greenwood bands for KM, Collett's delta-method variance for the
cumulative incidence) and the tests check them against lifelines on raw data.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from .estimate import LEVEL, NOT_ENOUGH_DATA, Estimate
from .stats import MIN_EVENTS_PER_GROUP, log_effect, z_value

FloatArray = npt.NDArray[np.float64]
CENSORED, EVENT, COMPETING = 0, 1, 2
BEYOND_FOLLOW_UP = "not enough data: longer than the follow-up so far"
NOT_REACHED = "median not reached: fewer than half had the event by the as-of date"


@dataclass(frozen=True)
class EventCounts:
    """Per distinct time: events of interest, competing events and censorings."""

    times: FloatArray
    events: FloatArray
    competing: FloatArray
    censored: FloatArray

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[float, int, int]]) -> EventCounts:
        """Rows of (time, kind, count), kind 0 censored / 1 event / 2 competing event."""
        table: dict[float, list[float]] = {}
        for time, kind, count in rows:
            table.setdefault(float(time), [0.0, 0.0, 0.0])[int(kind)] += float(count)
        times = np.array(sorted(table), dtype=float)
        cols = np.array([table[t] for t in times.tolist()], dtype=float).reshape(-1, 3)
        return cls(times, cols[:, EVENT], cols[:, COMPETING], cols[:, CENSORED])

    @classmethod
    def from_raw(cls, durations: Any, kinds: Any) -> EventCounts:
        d = np.asarray(durations, dtype=float)
        k = np.asarray(kinds, dtype=int)
        return cls.from_rows(zip(d.tolist(), k.tolist(), [1] * len(d), strict=True))

    @property
    def n(self) -> int:
        return int(self.events.sum() + self.competing.sum() + self.censored.sum())

    @property
    def at_risk(self) -> FloatArray:
        removed = self.events + self.competing + self.censored
        return self.n - np.concatenate(([0.0], np.cumsum(removed)[:-1]))


@dataclass(frozen=True)
class Curve:
    """A step function (value right-continuous at ``times``) with pointwise bands."""

    times: FloatArray
    value: FloatArray
    lower: FloatArray
    upper: FloatArray
    at_risk: FloatArray

    def at(self, t: float) -> tuple[float, float, float] | None:
        """Value and band at time t (before the first step: the starting value)."""
        i = int(np.searchsorted(self.times, t, side="right")) - 1
        if i < 0:
            return None
        return float(self.value[i]), float(self.lower[i]), float(self.upper[i])

    def points(self, limit: int = 200) -> list[dict[str, float]]:
        """Chart-ready points, thinned to at most ``limit`` (first and last always kept)."""
        idx = np.arange(len(self.times))
        if len(idx) > limit:
            idx = np.unique(np.linspace(0, len(idx) - 1, limit).round().astype(int))
        return [
            {
                "t": float(self.times[i]),
                "value": round(float(self.value[i]), 6),
                "low": round(float(self.lower[i]), 6),
                "high": round(float(self.upper[i]), 6),
                "at_risk": int(self.at_risk[i]),
            }
            for i in idx.tolist()
        ]


def kaplan_meier(counts: EventCounts, level: float = LEVEL) -> Curve:
    """Survival from the event of interest; competing events are treated as censoring."""
    n = counts.at_risk
    d = counts.events
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(1.0 - d / n)
        greenwood = np.cumsum(np.where(n > d, d / (n * (n - d)), 0.0))
        v = np.log(surv)
        spread = z_value(level) * np.sqrt(greenwood) / v
        lower = np.exp(-np.exp(np.log(-v) - spread))
        upper = np.exp(-np.exp(np.log(-v) + spread))
    # S = 1 (no event yet) gives 0/0 bands: the band is the point. S = 0 likewise.
    lower = np.where(np.isfinite(lower), lower, surv)
    upper = np.where(np.isfinite(upper), upper, surv)
    return Curve(
        counts.times, surv.astype(np.float64), np.minimum(lower, upper), np.maximum(lower, upper), n
    )


def _first_time_at_or_below(times: FloatArray, values: FloatArray, q: float) -> float | None:
    hit = np.flatnonzero(values <= q)
    return float(times[hit[0]]) if len(hit) else None


def km_median(counts: EventCounts, level: float = LEVEL, what: str = "days") -> Estimate:
    """KM median (first time S <= 0.5, as lifelines) and its interval from the bands."""
    method = "Kaplan-Meier median, log-log Greenwood interval"
    n = counts.n
    if n == 0 or counts.events.sum() == 0:
        return Estimate.missing(n=n, method=method)
    curve = kaplan_meier(counts, level)
    median = _first_time_at_or_below(curve.times, curve.value, 0.5)
    low = _first_time_at_or_below(curve.times, curve.lower, 0.5)
    high = _first_time_at_or_below(curve.times, curve.upper, 0.5)
    events = int(counts.events.sum())
    if median is None:
        return Estimate.missing(n=n, method=method, note=NOT_REACHED, count=events)
    est = Estimate(median, low, high, n=n, method=method, level=level, count=events)
    if high is None:
        est = est.with_note(f"upper bound not reached: longer than the data shows ({what})")
    return est


def aalen_johansen(counts: EventCounts, level: float = LEVEL) -> Curve:
    """Cumulative incidence of the event of interest with competing events (AJ), with the
    delta-method variance lifelines uses (Collett, p. 411) on the log(-log) scale."""
    n = counts.at_risk
    d_all = counts.events + counts.competing
    dk = counts.events
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(1.0 - d_all / n)
        lag = np.concatenate(([1.0], surv[:-1]))
        cif = np.cumsum(lag * dk / n)
        a = np.where(n > d_all, d_all / (n * (n - d_all)), 0.0)
        # sum_i a_i (F - F_i)^2 = F^2 sum a - 2 F sum a F_i + sum a F_i^2 (prefix sums)
        first = cif**2 * np.cumsum(a) - 2 * cif * np.cumsum(a * cif) + np.cumsum(a * cif**2)
        second = np.cumsum(lag**2 * dk * (n - dk) / n**3)
        c = lag * dk / n**2
        third = cif * np.cumsum(c) - np.cumsum(c * cif)
        var = np.maximum(first + second - 2 * third, 0.0)
        tr = np.log(-np.log(cif))
        se = np.sqrt(var) / (cif * np.abs(np.log(cif)))
        z = z_value(level)
        b1 = np.exp(-np.exp(tr + z * se))
        b2 = np.exp(-np.exp(tr - z * se))
    lower = np.where(np.isfinite(b1), np.minimum(b1, b2), cif)
    upper = np.where(np.isfinite(b2), np.maximum(b1, b2), cif)
    return Curve(counts.times, cif.astype(np.float64), lower, upper, n)


def value_at(
    curve: Curve, counts: EventCounts, t: float, method: str, start: float = 0.0
) -> Estimate:
    """The curve's value at time t (``start`` before its first step: 0 for a cumulative
    incidence, 1 for a survival curve); missing when t lies beyond the follow-up."""
    if counts.n == 0:
        return Estimate.missing(n=0, method=method)
    point = curve.at(t)
    if point is None:  # before the first observed time nothing has happened yet
        return Estimate(start, start, start, n=counts.n, method=method)
    if t > curve.times[-1] and counts.censored[-1] > 0:
        return Estimate.missing(n=counts.n, method=method, note=BEYOND_FOLLOW_UP)
    return Estimate(*point, n=counts.n, method=method)


@dataclass(frozen=True)
class SurvivalCell:
    """``count`` subjects of one group and stratum with the same time and outcome
    (event, or censored): the aggregated rows a Cox model is fitted to."""

    exposed: bool
    stratum: str
    time: float
    event: bool
    count: int


@dataclass(frozen=True)
class CellArrays:
    """:class:`SurvivalCell` rows as columns (what the Cox fit works on): building one
    object per cell costs more than the fit once there are thousands of cells."""

    exposed: npt.NDArray[np.bool_]
    stratum: npt.NDArray[np.str_]
    time: FloatArray
    event: npt.NDArray[np.bool_]
    count: npt.NDArray[np.int64]

    @classmethod
    def from_columns(
        cls, exposed: Any, stratum: Any, time: Any, event: Any, count: Any
    ) -> CellArrays:
        return cls(
            np.asarray(exposed, dtype=bool).reshape(-1),
            np.asarray(stratum, dtype=str).reshape(-1),
            np.asarray(time, dtype=float).reshape(-1),
            np.asarray(event, dtype=bool).reshape(-1),
            np.asarray(count, dtype=np.int64).reshape(-1),
        )

    @classmethod
    def from_cells(cls, cells: Sequence[SurvivalCell] | CellArrays) -> CellArrays:
        if isinstance(cells, CellArrays):
            return cells
        return cls.from_columns(
            [c.exposed for c in cells],
            [c.stratum for c in cells],
            [c.time for c in cells],
            [c.event for c in cells],
            [c.count for c in cells],
        )

    def take(self, mask: npt.NDArray[np.bool_]) -> CellArrays:
        return CellArrays(
            self.exposed[mask],
            self.stratum[mask],
            self.time[mask],
            self.event[mask],
            self.count[mask],
        )


def _usable_strata(cells: CellArrays) -> set[str]:
    """Strata holding both groups: in a stratified Cox model the others say nothing about
    the group effect (each stratum has its own baseline hazard)."""
    with_exposed = set(cells.stratum[cells.exposed].tolist())
    with_control = set(cells.stratum[~cells.exposed].tolist())
    return with_exposed & with_control


def cox_hazard_ratio(
    cells: Sequence[SurvivalCell] | CellArrays,
    stratified: bool,
    level: float = LEVEL,
    labels: tuple[str, str] = ("exposed", "control"),
    adjusted_for: str = "",
) -> Estimate:
    """Hazard ratio exposed / control from a Cox model (Efron ties; see `efron_fit`)
    with the group as its only covariate, stratified by ``SurvivalCell.stratum`` when
    ``stratified`` (each stratum gets its own baseline hazard: the comparison is made
    within strata, with no proportional-hazards assumption across them). Wald interval.

    HR > 1: the exposed group has the event sooner. "Not enough data" with the reason when
    a group has fewer than 5 events, or the fit fails, diverges or separates.
    """
    how = f", stratified by {adjusted_for}" if stratified else ", unadjusted"
    method = (
        f"Cox proportional hazards (Efron ties, fitted on aggregated risk sets; equals "
        f"statsmodels PHReg){how}; Wald interval"
    )
    arr = CellArrays.from_cells(cells)
    arr = arr.take((arr.count > 0) & (arr.time >= 0))
    n_all = int(arr.count.sum())
    if stratified:
        usable = _usable_strata(arr)
        kept = arr.take(np.isin(arr.stratum, sorted(usable)))
    else:
        kept = replace(arr, stratum=np.full(len(arr.stratum), "", dtype=str))
    # Every quantity below is a sum of integer counts (exact in any order) or is computed
    # on risk sets in (stratum, time) order, so the fit does not depend on the row order
    # in which an engine returns the aggregates.
    n = int(kept.count.sum())
    reason = _too_few_events(kept, labels)
    if reason is not None:
        return Estimate.missing(n=n_all, method=method, note=f"{NOT_ENOUGH_DATA}: {reason}")
    fit, reason = efron_fit(kept)
    effect = None
    if fit is not None:
        effect, reason = log_effect(fit[0], fit[1], level)
    if effect is None:
        return Estimate.missing(n=n_all, method=method, note=f"{NOT_ENOUGH_DATA}: {reason}")
    events = int(kept.count[kept.event].sum())
    est = Estimate(*effect, n=n, count=events, method=method, level=level)
    if n < n_all:
        left_out = sorted(set(arr.stratum.tolist()) - set(kept.stratum.tolist()))
        est = est.with_note(
            f"strata without both groups left out: {left_out} ({1 - n / n_all:.1%} of rows)"
        )
    return est


def _too_few_events(cells: CellArrays, labels: tuple[str, str]) -> str | None:
    for exposed, label in zip((True, False), labels, strict=True):
        events = int(cells.count[cells.event & (cells.exposed == exposed)].sum())
        if events < MIN_EVENTS_PER_GROUP:
            return (
                f"{label}: {events} events where both groups can be compared; the model "
                f"needs at least {MIN_EVENTS_PER_GROUP} per group"
            )
    return None


@dataclass(frozen=True)
class _RiskSets:
    """Per distinct (stratum, time) with events: events and subjects at risk in each group."""

    d1: FloatArray
    d0: FloatArray
    r1: FloatArray
    r0: FloatArray


def _risk_sets(cells: CellArrays) -> _RiskSets:
    """Risk sets in (stratum, time) order, strata sorted by name, times ascending."""
    _, code = np.unique(cells.stratum, return_inverse=True)
    pairs = np.stack([code.reshape(-1).astype(float), cells.time], axis=1)
    keys, slot = np.unique(pairs, axis=0, return_inverse=True)
    slot = slot.reshape(-1)
    size = len(keys)
    count = cells.count.astype(float)

    def tally(mask: npt.NDArray[np.bool_]) -> FloatArray:
        return np.bincount(slot[mask], weights=count[mask], minlength=size).astype(float)

    d1 = tally(cells.event & cells.exposed)
    d0 = tally(cells.event & ~cells.exposed)
    # at risk at t: everyone of the stratum whose time is t or later (censored at t too)
    stratum_of = keys[:, 0]
    last = np.flatnonzero(np.append(stratum_of[1:] != stratum_of[:-1], True))
    first = np.concatenate(([0], last[:-1] + 1))
    ends = np.repeat(last, last - first + 1)

    def at_risk(subjects: FloatArray) -> FloatArray:
        behind = np.cumsum(subjects[::-1])[::-1]  # from each slot to the very end
        after_stratum = np.append(behind, 0.0)[ends + 1]
        return behind - after_stratum

    r1 = at_risk(tally(cells.exposed))
    r0 = at_risk(tally(~cells.exposed))
    has = d1 + d0 > 0
    return _RiskSets(d1[has], d0[has], r1[has], r0[has])


def efron_fit(
    cells: Sequence[SurvivalCell] | CellArrays, max_iter: int = 50
) -> tuple[tuple[float, float] | None, str | None]:
    """(log hazard ratio, its standard error) of a Cox model with one binary covariate and
    Efron ties, stratified by ``cell.stratum``, by Newton-Raphson on the partial likelihood.

    With one binary covariate every quantity of the likelihood depends only on how many of
    each group have the event and are at risk at each event time, so the model is fitted on
    the aggregated cells directly: the same estimate as PHReg on one row per deal, in time
    proportional to the number of events instead of a design matrix of every deal.
    """
    rs = _risk_sets(CellArrays.from_cells(cells))
    d = rs.d1 + rs.d0
    # Efron: the k-th of d tied events (k = 0..d-1) removes k/d of the tied subjects' weight.
    ties = d.astype(np.int64)
    k = np.arange(int(ties.sum())) - np.repeat(np.cumsum(ties) - ties, ties)
    frac: FloatArray = k / np.repeat(d, ties)
    r1, r0, d1, d0 = (np.repeat(a, ties) for a in (rs.r1, rs.r0, rs.d1, rs.d0))
    beta = 0.0
    for _ in range(max_iter):
        theta = math.exp(beta)
        a = r1 * theta + r0 - frac * (d1 * theta + d0)
        share = theta * (r1 - frac * d1) / a
        score = float(rs.d1.sum() - share.sum())
        information = float((share * (1 - share)).sum())
        if not (information > 0 and math.isfinite(score)):
            return None, "model could not be fitted (no information about the groups)"
        step = score / information
        beta += max(-5.0, min(5.0, step))  # damped: a separating group walks, not jumps
        if abs(step) < 1e-10:
            return (beta, 1 / math.sqrt(information)), None
        if abs(beta) > 50:
            break
    return None, "model did not converge (likely separation or too few events)"
