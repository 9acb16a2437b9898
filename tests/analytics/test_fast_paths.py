"""The board's fast paths give exactly the values of the straightforward versions.

Vectorised risk sets for the Cox fit and the merged count queries of the data-quality
panel are speed-ups only: these tests pin them to a plain reference, bit for bit.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pytest

from mutualist import analytics as an
from mutualist.analytics import cycle
from mutualist.analytics.attribution import AttributionRules
from mutualist.analytics.period import add_months, day_start
from mutualist.analytics.retention import _start_end_mrr
from mutualist.analytics.retention import window as retention_window
from mutualist.analytics.schema import Tables
from mutualist.analytics.snapshot import Snapshot, rows
from mutualist.analytics.source import arrow_from_synth
from mutualist.analytics.survival import (
    CellArrays,
    SurvivalCell,
    _risk_sets,
    cox_hazard_ratio,
    efron_fit,
)
from mutualist.synth import Ecosystem

from .test_backends import dirty


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


# --- the board's cheaper queries give the rows of the straightforward ones ---------------


@pytest.fixture
def datasets(
    moderate: Tables, moderate_eco: Ecosystem, small_eco: Ecosystem
) -> dict[str, tuple[Tables, dt.date]]:
    """A clean generated ecosystem on the test engine, and the small one with nulls,
    post-close involvements, odd roles and the rest (DuckDB), each with its end date."""
    dirty_small = an.tables_from_arrow(dirty(arrow_from_synth(small_eco)))
    return {
        "moderate": (moderate, moderate_eco.config.end),
        "dirty_small": (dirty_small, small_eco.config.end),
    }


def _classify_by_flags(opps: ir.Table, valid: ir.Table, rules: AttributionRules) -> ir.Table:
    """The rule as it was first written: per-deal flags grouped, then left-joined."""
    sourcing = valid.in_window & valid.role.isin(list(rules.sourcing_roles))
    influencing = ~valid.in_window
    if rules.early_helpers_influence:
        influencing = influencing | ~valid.role.isin(list(rules.sourcing_roles))
    flags = valid.group_by("opportunity_id").agg(
        has_sourcing=sourcing.any(), has_influence=influencing.any()
    )
    joined = opps.left_join(flags, "opportunity_id").drop("opportunity_id_right")
    by_lead = joined.lead_source.isin(list(rules.partner_lead_sources)).fill_null(False)
    sourced = joined.has_sourcing.fill_null(False) | by_lead
    influenced = joined.has_influence.fill_null(False)
    bucket = ibis.cases((sourced, "sourced"), (influenced, "influenced"), else_="unattributed")
    return joined.mutate(bucket=bucket).drop("has_sourcing", "has_influence")


def _sorted_rows(table: ir.Table, *columns: str) -> list[dict[str, Any]]:
    return rows(table.select(*columns).order_by(list(columns)))


@pytest.mark.parametrize("helpers", [False, True])
@pytest.mark.parametrize("data", ["moderate", "dirty_small"])
def test_classify_by_membership_equals_grouped_flags(
    data: str, helpers: bool, datasets: dict[str, tuple[Tables, dt.date]]
) -> None:
    rules = AttributionRules(early_helpers_influence=helpers)
    tables, end = datasets[data]
    snap = Snapshot(tables, end, rules, cache=True)
    want = _classify_by_flags(snap.opportunities_as_of, snap.involvements, rules)
    got = snap.opportunities
    assert _sorted_rows(got, "opportunity_id", "bucket") == _sorted_rows(
        want, "opportunity_id", "bucket"
    )
    by_lead = want.lead_source.isin(list(rules.partner_lead_sources)).fill_null(False)
    assert _sorted_rows(got, "opportunity_id", "partner_lead") == _sorted_rows(
        want.mutate(partner_lead=by_lead), "opportunity_id", "partner_lead"
    )


def _valid_involvements(
    inv: ir.Table, opps: ir.Table, hi: dt.datetime, rules: AttributionRules
) -> ir.Table:
    """Creditable involvements from a join of their own (the reference)."""
    deal = opps.select("opportunity_id", "account_id", "created_at", "closed_at")
    joined = inv.join(deal, "opportunity_id")
    before_close = joined.closed_at.isnull() | (joined.attached_at <= joined.closed_at)
    joined = joined.filter((joined.attached_at < hi) & before_close)
    window = ibis.interval(days=rules.window_days)
    return joined.mutate(in_window=joined.attached_at <= joined.created_at + window)


def _post_close_involvements(inv: ir.Table, opps: ir.Table, hi: dt.datetime) -> ir.Table:
    """Involvements attached after their deal closed, from a join of their own (the
    reference)."""
    deal = opps.select("opportunity_id", "closed_at")
    joined = inv.join(deal, "opportunity_id")
    late = joined.closed_at.notnull() & (joined.attached_at > joined.closed_at)
    return joined.filter(late & (joined.attached_at < hi))


@pytest.mark.parametrize("data", ["moderate", "dirty_small"])
def test_snapshot_involvements_equal_the_two_joins(
    data: str, datasets: dict[str, tuple[Tables, dt.date]]
) -> None:
    """One materialised join serves the creditable and the post-close involvements."""
    tables, end = datasets[data]
    snap = Snapshot(tables, end, cache=True)
    cols = ("opportunity_id", "partner_id", "role", "attached_at", "is_primary", "closed_at")
    valid = _valid_involvements(
        tables["involvements"], snap.opportunities_as_of, snap.hi, snap.rules
    )
    assert _sorted_rows(snap.involvements, *cols, "in_window", "account_id") == _sorted_rows(
        valid, *cols, "in_window", "account_id"
    )
    late = _post_close_involvements(tables["involvements"], snap.opportunities, snap.hi)
    assert int(late.count().execute()) > 0 or data == "moderate"
    assert _sorted_rows(snap.post_close_involvements, *cols) == _sorted_rows(late, *cols)


def _cohort_mrr_by_month(rev: ir.Table, start: dt.date, end: dt.date) -> ir.Table:
    """Start and end MRR from one scan per month, joined (the reference)."""

    def month(m: dt.date, name: str) -> ir.Table:
        lo, hi = day_start(m), day_start(add_months(m, 1))
        t = rev.filter((rev.month >= lo) & (rev.month < hi))
        return t.group_by("account_id").agg(**{name: t.mrr.sum()})

    s = month(start, "s").filter(ibis._.s > 0)
    return s.left_join(month(end, "e"), "account_id").drop("account_id_right")


@pytest.mark.parametrize("data", ["moderate", "dirty_small"])
def test_one_scan_cohort_mrr_equals_one_scan_per_month(
    data: str, datasets: dict[str, tuple[Tables, dt.date]]
) -> None:
    tables, end = datasets[data]
    snap = Snapshot(tables, end)
    start, last = retention_window(an.Period.trailing_year(end), end)
    got = _start_end_mrr(snap.revenue, start, last).filter(ibis._.s > 0)
    want = _cohort_mrr_by_month(snap.revenue, start, last)
    got_rows, want_rows = (
        _sorted_rows(got, "account_id", "s", "e"),
        _sorted_rows(want, "account_id", "s", "e"),
    )
    assert len(got_rows) == len(want_rows) > 0
    for g, w in zip(got_rows, want_rows, strict=True):
        assert g["account_id"] == w["account_id"]
        assert g["s"] == pytest.approx(w["s"], rel=1e-12)
        assert (g["e"] is None) == (w["e"] is None)
        if g["e"] is not None:
            assert g["e"] == pytest.approx(w["e"], rel=1e-12)


@pytest.mark.parametrize("data", ["moderate", "dirty_small"])
def test_cycle_cells_labelled_after_grouping_equal_per_deal_labels(
    data: str, datasets: dict[str, tuple[Tables, dt.date]]
) -> None:
    tables, end = datasets[data]
    snap = Snapshot(tables, end)
    period = an.Period.trailing_year(end)
    timed = snap.with_accounts(cycle._timed(snap, period))
    keyed = timed.mutate(
        is_partner=timed.bucket != "unattributed",
        closed=timed.outcome != "open",
        stratum=ibis.literal("|").join([timed[c].fill_null("unknown") for c in cycle.STRATA]),
    )
    agg = keyed.group_by(["is_partner", "stratum", "days", "closed"]).agg(count=keyed.count())
    want = {
        (r["is_partner"], r["stratum"], float(r["days"]), r["closed"]): r["count"]
        for r in rows(agg)
        if r["days"] is not None and r["days"] >= 0
    }
    cells = cycle.survival_cells(snap, period)
    got: dict[tuple[bool, str, float, bool], int] = {}
    keys = zip(
        cells.exposed.tolist(),
        cells.stratum.tolist(),
        cells.time.tolist(),
        cells.event.tolist(),
        strict=True,
    )
    for key, count in zip(keys, cells.count.tolist(), strict=True):
        got[key] = got.get(key, 0) + count
    assert got == want


def test_leaderboard_builds_entries_for_the_shown_partners_only(
    moderate: Tables, moderate_eco: Ecosystem
) -> None:
    end = moderate_eco.config.end
    period = an.Period.trailing_year(end)
    snap = Snapshot(moderate, end, cache=True)
    full = an.leaderboard(snap, period, end, limit=None)
    top = an.leaderboard(snap, period, end, limit=7)
    assert top["total_partners"] == full["total_partners"] == len(full["partners"]) > 7
    assert top["partners"] == full["partners"][:7]
    assert top["prior"] == full["prior"]
