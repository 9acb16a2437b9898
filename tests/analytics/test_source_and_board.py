"""Sources (memory, Parquet, DuckDB file) give the same board; its JSON contract holds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import ibis
import pytest

from mutualist import analytics as an
from mutualist.synth import Ecosystem

from .conftest import Tables

GROUPS = ("sourced", "influenced", "partner", "unattributed")


def assert_close(got: Any, want: Any, path: str = "") -> None:
    """Equal up to float summation order (backends add in different orders)."""
    if isinstance(want, dict):
        assert set(got) == set(want), path
        for key in want:
            assert_close(got[key], want[key], f"{path}.{key}")
    elif isinstance(want, list):
        assert len(got) == len(want), path
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            assert_close(g, w, f"{path}[{i}]")
    elif isinstance(want, float):
        assert got == pytest.approx(want, rel=1e-9, abs=1e-9), path
    else:
        assert got == want, path


def _board(eco: Ecosystem, tables: Tables) -> dict:
    return an.board(tables, an.Period.trailing_year(eco.config.end), eco.config.end)


def test_board_contract(small_eco: Ecosystem, small: Tables) -> None:
    res = _board(small_eco, small)
    json.dumps(res, allow_nan=False)
    assert tuple(res) == an.KEYS
    assert res["period"] == {"start": "2025-11-01", "end": "2026-10-31"}
    for key in ("attribution", "win_rate", "acv", "cycle_days"):
        assert set(GROUPS) <= set(res[key])
    cmp = res["win_rate"]["partner_vs_unattributed"]
    for name in ("difference", "ratio", "adjusted"):
        assert {"value", "low", "high", "n"} <= set(cmp[name])
    for key in ("nrr", "grr", "logo_churn"):
        assert {"partner_attached", "unattached", "partner_attached_vs_unattached"} <= set(res[key])
        assert res[key]["stratified_by"] == ["size_band", "start_mrr_tertile"]
    for key, names in (
        ("nrr", {"difference", "adjusted"}),
        ("grr", {"difference", "adjusted"}),
        ("logo_churn", {"difference", "adjusted", "adjusted_odds_ratio"}),
    ):
        assert set(res[key]["partner_attached_vs_unattached"]) == names
    cycle = res["cycle_days"]["partner_vs_unattributed"]
    assert set(cycle) == {"hazard_ratio", "adjusted_hazard_ratio"}
    assert res["cycle_days"]["stratified_by"] == ["size_band", "industry"]
    assert {"partner_referral", "cold_outbound"} <= set(res["lead_conversion_days"])
    leads = res["lead_conversion_days"]["partner_referral_vs_cold_outbound"]
    assert set(leads) == {"conversion_rate_difference", "hazard_ratio", "adjusted_hazard_ratio"}
    # Every partner comparison is labelled observational (or says why it has no value).
    comparisons = [
        *cmp.values(),
        *cycle.values(),
        *leads.values(),
        *(
            v
            for k in ("nrr", "grr", "logo_churn")
            for v in res[k]["partner_attached_vs_unattached"].values()
        ),
    ]
    for est in comparisons:
        assert "observational" in est.get("note", "") or est["value"] is None
    assert {"blended", "partner"} <= set(res["cac"])
    assert res["win_rate"]["sourced"]["closed"] >= res["win_rate"]["sourced"]["won"]


def test_parquet_and_duckdb_file_give_the_same_board(
    small_eco: Ecosystem, small: Tables, tmp_path: Path
) -> None:
    an.write_parquet(small, tmp_path / "pq")
    from_parquet = an.connect(f"parquet:{tmp_path / 'pq'}")
    con = ibis.duckdb.connect(tmp_path / "eco.duckdb")
    an.tables_from_arrow({k: v.to_pyarrow() for k, v in small.items()}, con)
    con.disconnect()
    from_file = an.connect(f"duckdb:///{tmp_path / 'eco.duckdb'}")
    expected = _board(small_eco, small)
    assert_close(_board(small_eco, from_parquet), expected)
    assert_close(_board(small_eco, from_file), expected)


def test_board_without_cache_is_identical(small_eco: Ecosystem, small: Tables) -> None:
    period = an.Period.trailing_year(small_eco.config.end)
    assert_close(
        an.board(small, period, small_eco.config.end, cache=False), _board(small_eco, small)
    )


def test_metric_sql_compiles_for_postgres(small: Tables) -> None:
    """Backend independence: the attributed view compiles to PostgreSQL without raw SQL."""
    snap = an.Snapshot(small, "2026-10-31")
    sql = ibis.to_sql(
        snap.opportunities.group_by("bucket").agg(n=ibis._.count()), dialect="postgres"
    )
    assert "bucket" in sql
