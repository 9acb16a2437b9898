"""Kaplan-Meier and Aalen-Johansen on aggregated counts vs lifelines on the raw rows."""

from __future__ import annotations

import numpy as np
import pytest
from lifelines import AalenJohansenFitter, KaplanMeierFitter
from lifelines.utils import median_survival_times

from mutualist.analytics.survival import (
    EventCounts,
    aalen_johansen,
    kaplan_meier,
    km_median,
    value_at,
)


def _tied_sample(seed: int, n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    days = np.round(rng.lognormal(3.5, 0.8, n))  # whole days: many ties, like CRM dates
    return days, (rng.random(n) < 0.75).astype(int)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_km_curve_and_median_match_lifelines(seed: int) -> None:
    t, e = _tied_sample(seed)
    counts = EventCounts.from_raw(t, e)
    curve = kaplan_meier(counts)
    kmf = KaplanMeierFitter().fit(t, e)
    ref = kmf.survival_function_.loc[curve.times].iloc[:, 0].to_numpy()
    band = kmf.confidence_interval_.loc[curve.times].to_numpy()
    assert curve.value == pytest.approx(ref, abs=1e-12)
    assert curve.lower == pytest.approx(band[:, 0], abs=1e-9)
    assert curve.upper == pytest.approx(band[:, 1], abs=1e-9)
    med = km_median(counts)
    ci = median_survival_times(kmf.confidence_interval_)
    assert med.value == kmf.median_survival_time_
    assert (med.low, med.high) == (ci.iloc[0, 0], ci.iloc[0, 1])


def test_km_median_not_reached_is_not_enough_data() -> None:
    t = np.arange(1, 101, dtype=float)
    e = (t <= 20).astype(int)  # only 20 % ever have the event
    med = km_median(EventCounts.from_raw(t, e))
    assert med.value is None and "not reached" in (med.note or "")
    kmf = KaplanMeierFitter().fit(t, e)
    assert kmf.median_survival_time_ == np.inf


def test_aalen_johansen_matches_lifelines_without_ties() -> None:
    rng = np.random.default_rng(7)
    t = rng.lognormal(3.5, 0.8, 300)  # continuous: lifelines would jitter ties
    kind = rng.choice([0, 1, 2], 300, p=[0.3, 0.4, 0.3])
    counts = EventCounts.from_raw(t, kind)
    curve = aalen_johansen(counts)
    ajf = AalenJohansenFitter(calculate_variance=True).fit(t, kind, event_of_interest=1)
    ref = ajf.cumulative_density_.loc[curve.times].iloc[:, 0].to_numpy()
    band = ajf.confidence_interval_.loc[curve.times].to_numpy()
    assert curve.value == pytest.approx(ref, abs=1e-12)
    # lifelines leaves the band undefined where F = 0 or the variance is infinite (the
    # last time); we report the point there. Everywhere else the bands agree.
    ok = np.isfinite(band).all(axis=1)
    assert ok.sum() > 250
    assert curve.lower[ok] == pytest.approx(band[ok].min(axis=1), abs=1e-9)
    assert curve.upper[ok] == pytest.approx(band[ok].max(axis=1), abs=1e-9)


def test_aalen_johansen_is_below_one_minus_km_with_losses_censored() -> None:
    t, e = _tied_sample(5)
    kind = np.where(e == 1, np.where(np.arange(len(e)) % 2 == 0, 1, 2), 0)
    cif = aalen_johansen(EventCounts.from_raw(t, kind))
    naive = kaplan_meier(EventCounts.from_raw(t, (kind == 1).astype(int)))
    assert (cif.value <= 1 - naive.value + 1e-12).all()


def test_value_at_before_start_and_beyond_follow_up() -> None:
    counts = EventCounts.from_raw([5, 10, 20], [1, 0, 1])
    curve = aalen_johansen(counts)
    assert value_at(curve, counts, 1, "m").value == 0.0
    assert value_at(curve, counts, 10, "m").value == pytest.approx(1 / 3)
    open_end = EventCounts.from_raw([5, 10, 20], [1, 1, 0])
    assert value_at(aalen_johansen(open_end), open_end, 50, "m").value is None
    empty = EventCounts.from_rows([])
    assert value_at(aalen_johansen(empty), empty, 10, "m").value is None
    assert km_median(empty).value is None
