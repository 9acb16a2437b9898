"""The board's fast paths give exactly the values of the straightforward versions.

Vectorised risk sets for the Cox fit and the merged count queries of the data-quality
panel are speed-ups only: these tests pin them to a plain reference, bit for bit.
"""

from __future__ import annotations

import datetime as dt
import random

import numpy as np
import pytest

from mutualist import analytics as an
from mutualist.analytics.period import day_start
from mutualist.analytics.schema import Tables
from mutualist.analytics.snapshot import Snapshot
from mutualist.analytics.survival import (
    CellArrays,
    SurvivalCell,
    _risk_sets,
    cox_hazard_ratio,
    efron_fit,
)
from mutualist.synth import Ecosystem


def _random_cells(seed: int, n: int = 600) -> list[SurvivalCell]:
    rng = np.random.default_rng(seed)
    exposed = rng.random(n) < 0.4
    stratum = rng.choice(["b|x", "a|y", "c|z", "a|x"], n)
    time = np.round(rng.exponential(40, n)) - (rng.random(n) < 0.02)  # a few negatives
    event = rng.random(n) < 0.7
    counts: dict[tuple[bool, str, float, bool], int] = {}
    for key in zip(exposed.tolist(), stratum.tolist(), time.tolist(), event.tolist(), strict=True):
        counts[key] = counts.get(key, 0) + 1
    cells = [SurvivalCell(*k, count=v) for k, v in counts.items()]
    cells.append(SurvivalCell(True, "only_exposed", 3.0, True, 4))  # a stratum left out
    cells.append(SurvivalCell(False, "a|x", 5.0, True, 0))  # an empty cell
    return cells


def _reference_risk_sets(cells: list[SurvivalCell]) -> tuple[np.ndarray, ...]:
    """The per-cell loop the vectorised version replaced (strata in name order)."""
    by_stratum: dict[str, list[SurvivalCell]] = {}
    for c in sorted(cells, key=lambda c: (c.stratum, c.exposed, c.time, c.event)):
        by_stratum.setdefault(c.stratum, []).append(c)
    parts = []
    for group in by_stratum.values():
        times = np.unique(np.array([c.time for c in group], dtype=float))
        at = {t: i for i, t in enumerate(times)}
        tally = np.zeros((4, len(times)))
        for c in group:
            i = at[c.time]
            if c.event:
                tally[0 if c.exposed else 1, i] += c.count
            tally[2 if c.exposed else 3, i] += c.count
        at_risk = np.cumsum(tally[2:, ::-1], axis=1)[:, ::-1]
        has = tally[0] + tally[1] > 0
        parts.append((tally[0][has], tally[1][has], at_risk[0][has], at_risk[1][has]))
    return tuple(np.concatenate([p[k] for p in parts]) for k in range(4))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_vectorised_risk_sets_equal_the_loop(seed: int) -> None:
    cells = [c for c in _random_cells(seed) if c.count > 0 and c.time >= 0]
    rs = _risk_sets(CellArrays.from_cells(cells))
    ref = _reference_risk_sets(cells)
    for got, want in zip((rs.d1, rs.d0, rs.r1, rs.r0), ref, strict=True):
        assert np.array_equal(got, want)


@pytest.mark.parametrize("stratified", [True, False])
def test_cox_does_not_depend_on_cell_order_or_container(stratified: bool) -> None:
    cells = _random_cells(4)
    shuffled = cells[:]
    random.Random(0).shuffle(shuffled)
    arrays = CellArrays.from_columns(
        [c.exposed for c in shuffled],
        [c.stratum for c in shuffled],
        [c.time for c in shuffled],
        [c.event for c in shuffled],
        [c.count for c in shuffled],
    )
    a = cox_hazard_ratio(cells, stratified=stratified)
    b = cox_hazard_ratio(shuffled, stratified=stratified)
    c = cox_hazard_ratio(arrays, stratified=stratified)
    assert a.value is not None
    assert a == b == c
    if stratified:
        assert "only_exposed" in (a.note or "")
    assert efron_fit(cells) == efron_fit(arrays)


def test_data_quality_counts_equal_one_query_per_count(small_eco: Ecosystem, small: Tables) -> None:
    end = small_eco.config.end
    snap = Snapshot(small, end)
    res = an.data_quality(snap, end)
    opp, leads = snap.opportunities, snap.leads
    inv = small["involvements"]
    stale_before = day_start(end) - dt.timedelta(days=365)
    assert res["stale_open_deals"]["count"] == int(
        opp.filter(~opp.is_closed & (opp.created_at < stale_before)).count().execute()
    )
    assert res["post_close_involvements"]["n"] == int(inv.count().execute())
    assert res["converted_before_created"]["n"] == int(leads.count().execute())
    early = leads.filter(leads.converted_at < leads.created_at)
    assert res["converted_before_created"]["count"] == int(early.count().execute())
    for name, table in (
        ("opportunities", small["opportunities"]),
        ("costs", snap.costs),
        ("revenue_months", snap.revenue),
    ):
        if name == "opportunities":
            table = table.filter(table.created_at < snap.hi)
        mix = res["currency_mix"]["by_table"][name]
        assert sum(mix.values()) == int(table.count().execute())
        assert list(mix) == sorted(mix)
