"""Benchmark ``mutualist.analytics.board`` on DuckDB over Parquet against plain pandas.

Usage (from the repository root)::

    PYTHONPATH=src .venv/bin/python benchmarks/metrics_bench.py --opportunities 1000000

Generates an ecosystem with the synthetic generator (accounts and partners scaled like the
"large" size), writes one Parquet file per table, then times in separate child processes
(so each gets its own peak-RSS figure), median of ``--repeat`` runs:

* ``duckdb board``: the whole board (all 14 sections) in warehouse mode (Parquet views);
* ``duckdb subset``: only attribution, win rates, ACV and retention, on the same engine;
* ``pandas subset``: a straightforward pandas implementation of those same four numbers
  (attribution buckets and totals, win rates per bucket, ACV medians, NRR), reading the
  same Parquet files.

The subset numbers of both engines are checked to agree before the table is printed. A
second table splits the board's time by section (``duckdb sections``: the snapshot's two
materialised tables, then each section on it, in the order ``board()`` runs them), so the
next optimisation starts from where the time goes.

``--data DIR`` keeps the generated Parquet in DIR and reuses it on the next run (10 million
opportunities take minutes to generate).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from rich.console import Console
from rich.table import Table

from mutualist import analytics as an
from mutualist.analytics.period import day_end
from mutualist.analytics.retention import window as retention_window
from mutualist.analytics.source import arrow_from_synth
from mutualist.analytics.stats import Stratum, standardized_difference
from mutualist.synth import SynthConfig, generate

WINDOW = pd.Timedelta(days=30)


# --- data -------------------------------------------------------------------------------
def build(opportunities: int, folder: Path, seed: int) -> SynthConfig:
    """Generate and write Parquet; accounts and partners scale like SIZES['large']."""
    cfg = SynthConfig(
        partners=max(40, opportunities // 1_000),
        accounts=max(800, opportunities * 3 // 20),
        opportunities=opportunities,
        seed=seed,
    )
    eco = generate(cfg)
    for name, table in arrow_from_synth(eco).items():
        pq.write_table(table, folder / f"{name}.parquet")
    return cfg


# --- the DuckDB side --------------------------------------------------------------------
def duckdb_board(folder: Path, period: an.Period, as_of: dt.date) -> dict[str, Any]:
    return an.board(an.connect(f"parquet:{folder}"), period, as_of)


def duckdb_sections(folder: Path, period: an.Period, as_of: dt.date) -> dict[str, float]:
    """Seconds per board section, on one snapshot as ``board()`` builds it."""
    snap = an.Snapshot(an.connect(f"parquet:{folder}"), as_of, cache=True)
    steps: dict[str, Callable[[], Any]] = {
        "snapshot: dated involvements": lambda: snap.involvements,
        "snapshot: attributed deals": lambda: snap.opportunities,
        "data_quality": lambda: an.data_quality(snap, as_of),
        "win_rate": lambda: an.win_rates(snap, period, as_of),
        "nrr, grr, logo_churn": lambda: an.retention(snap, period, as_of),
        "attribution": lambda: an.attribution_summary(snap, period, as_of),
        "acv": lambda: an.acv_summary(snap, period, as_of),
        "cycle_days": lambda: an.cycle_days(snap, period, as_of),
        "lead_conversion_days": lambda: an.lead_conversion(snap, period, as_of),
        "cac": lambda: an.cac(snap, period, as_of),
        "partner_growth": lambda: an.partner_growth(snap, as_of),
        "leaderboard": lambda: an.leaderboard(snap, period, as_of),
    }
    seconds = {}
    for name, step in steps.items():
        t0 = time.perf_counter()
        step()
        seconds[name] = time.perf_counter() - t0
    return seconds


def duckdb_subset(folder: Path, period: an.Period, as_of: dt.date) -> dict[str, Any]:
    snap = an.Snapshot(an.connect(f"parquet:{folder}"), as_of, cache=True)
    return an.to_json(
        {
            "attribution": an.attribution_summary(snap, period, as_of),
            "win_rate": an.win_rates(snap, period, as_of),
            "acv": an.acv_summary(snap, period, as_of),
            "nrr": an.retention(snap, period, as_of)["nrr"],
        }
    )


# --- the pandas baseline ----------------------------------------------------------------
def pandas_buckets(opp: pd.DataFrame, inv: pd.DataFrame, hi: pd.Timestamp) -> pd.Series:
    j = inv.merge(opp[["opportunity_id", "created_at", "closed_at"]], on="opportunity_id")
    valid = (j.attached_at < hi) & (j.closed_at.isna() | (j.attached_at <= j.closed_at))
    in_window = j.attached_at <= j.created_at + WINDOW
    j = j.assign(
        src=valid & in_window & j.role.isin(["sourced", "referral"]), inf=valid & ~in_window
    )
    flags = j.groupby("opportunity_id")[["src", "inf"]].any()
    f = flags.reindex(opp.opportunity_id, fill_value=False)
    src = f.src.to_numpy() | (opp.lead_source == "Partner Referral").to_numpy()
    bucket = np.where(src, "sourced", np.where(f.inf.to_numpy(), "influenced", "unattributed"))
    return pd.Series(bucket, index=opp.index)


def pandas_subset(folder: Path, period: an.Period, as_of: dt.date) -> dict[str, Any]:
    def read(name: str) -> pd.DataFrame:
        return pd.read_parquet(folder / f"{name}.parquet")

    opp, inv, acc, rev = (
        read("opportunities"),
        read("involvements"),
        read("accounts"),
        read("revenue_months"),
    )
    lo, hi = pd.Timestamp(period.lo), pd.Timestamp(period.hi)
    as_of_hi = pd.Timestamp(day_end(as_of))
    opp["bucket"] = pandas_buckets(opp, inv, as_of_hi)
    opp = opp.merge(acc[["account_id", "size_band"]], on="account_id", how="left")
    created = opp.created_at.between(lo, hi, inclusive="left")
    closed = opp.is_closed & opp.closed_at.between(lo, hi, inclusive="left")
    won = closed & opp.is_won
    partner = opp.bucket != "unattributed"
    out: dict[str, Any] = {"attribution": {}, "win_rate": {}, "acv": {}}
    groups = {
        "sourced": opp.bucket == "sourced",
        "influenced": opp.bucket == "influenced",
        "partner": partner,
        "unattributed": ~partner,
    }
    for g, m in groups.items():
        out["attribution"][g] = {
            "deals": int((created & m).sum()),
            "pipeline": float(opp.amount[created & m].sum()),
            "won_revenue": float(opp.amount[won & m].sum()),
        }
        out["win_rate"][g] = {"won": int((won & m).sum()), "closed": int((closed & m).sum())}
        out["acv"][g] = float(opp.acv[won & m].median()) if (won & m).any() else None
    cells = opp[closed].groupby([partner[closed], "size_band"]).is_won.agg(["sum", "count"])
    strata = [
        Stratum(b, *map(int, cells.loc[(True, b)]), *map(int, cells.loc[(False, b)]))
        for b in cells.loc[True].index
        if (False, b) in cells.index
    ]
    out["win_rate"]["adjusted"] = standardized_difference(strata).value
    out["nrr"] = pandas_nrr(opp, inv, rev, period, as_of)
    return out


def pandas_nrr(
    opp: pd.DataFrame, inv: pd.DataFrame, rev: pd.DataFrame, period: an.Period, as_of: dt.date
) -> dict[str, float]:
    start, end = retention_window(period, as_of)
    month = rev.month.dt.to_period("M")
    s = rev[month == pd.Period(start, "M")].groupby("account_id").mrr.sum()
    e = rev[month == pd.Period(end, "M")].groupby("account_id").mrr.sum()
    t0 = pd.Timestamp(start)
    j = inv.merge(opp[["opportunity_id", "account_id", "closed_at"]], on="opportunity_id")
    ok = (j.attached_at <= t0) & (j.closed_at.isna() | (j.attached_at <= j.closed_at))
    by_lead = opp[(opp.lead_source == "Partner Referral") & (opp.created_at <= t0)].account_id
    attached = set(j.account_id[ok]) | set(by_lead)
    cohort = pd.DataFrame({"s": s[s > 0]}).join(e.rename("e")).fillna({"e": 0.0})
    flag = cohort.index.isin(list(attached))
    return {
        "partner_attached": float(cohort.e[flag].sum() / cohort.s[flag].sum()),
        "unattached": float(cohort.e[~flag].sum() / cohort.s[~flag].sum()),
    }


# --- harness ----------------------------------------------------------------------------
MODES = {
    "duckdb board": duckdb_board,
    "duckdb subset": duckdb_subset,
    "pandas subset": pandas_subset,
    "duckdb sections": duckdb_sections,
}


def peak_rss_mb() -> float:
    """This process's own peak RSS. ``getrusage`` maxrss survives ``exec`` on Linux (a
    child would report the parent's peak from generation), VmHWM belongs to the new image."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(mode: str, folder: Path, period: an.Period, as_of: dt.date, repeat: int) -> None:
    """Child process: time one mode, print JSON with times, peak RSS and the result."""
    times, results = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        results.append(MODES[mode](folder, period, as_of))
        times.append(time.perf_counter() - t0)
    rss_mb = peak_rss_mb()
    print(json.dumps({"times": times, "rss_mb": rss_mb, "results": results}, default=str))


def run_child(mode: str, folder: Path, period: an.Period, as_of: dt.date, repeat: int) -> Any:
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        mode,
        "--dir",
        str(folder),
        "--repeat",
        str(repeat),
    ]
    cmd += ["--start", period.start.isoformat(), "--end", period.end.isoformat()]
    cmd += ["--as-of", as_of.isoformat()]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def check_agreement(duck: dict[str, Any], pandas: dict[str, Any]) -> None:
    """The baseline must compute the same numbers, or the timing means nothing."""
    for g in ("sourced", "influenced", "partner", "unattributed"):
        a, p = duck["attribution"][g], pandas["attribution"][g]
        assert a["deals"] == p["deals"], g
        assert np.isclose(a["won_revenue"], p["won_revenue"]), g
        w = duck["win_rate"][g]
        assert (w["won"], w["closed"]) == (
            pandas["win_rate"][g]["won"],
            pandas["win_rate"][g]["closed"],
        )
        assert duck["acv"][g]["median"]["value"] == pandas["acv"][g] or np.isclose(
            duck["acv"][g]["median"]["value"], pandas["acv"][g]
        )
    assert np.isclose(
        duck["win_rate"]["partner_vs_unattributed"]["adjusted"]["value"],
        pandas["win_rate"]["adjusted"],
    )
    for g in ("partner_attached", "unattached"):
        assert np.isclose(duck["nrr"][g]["value"], pandas["nrr"][g]), g


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--opportunities", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--worker", choices=sorted(MODES))
    ap.add_argument("--dir", type=Path)
    ap.add_argument("--data", type=Path, help="keep the Parquet here and reuse it next time")
    ap.add_argument("--start")
    ap.add_argument("--end")
    ap.add_argument("--as-of")
    args = ap.parse_args()
    if args.worker:
        period = an.Period(dt.date.fromisoformat(args.start), dt.date.fromisoformat(args.end))
        worker(args.worker, args.dir, period, dt.date.fromisoformat(args.as_of), args.repeat)
        return
    console = Console(width=150)
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.data or Path(tmp)
        as_of = prepared(folder, args.opportunities, args.seed, console)
        period = an.Period.trailing_year(as_of)
        res = {m: run_child(m, folder, period, as_of, args.repeat) for m in MODES}
    check_agreement(res["duckdb subset"]["results"][-1], res["pandas subset"]["results"][-1])
    base = statistics.median(res["duckdb subset"]["times"])
    table = Table(
        title=f"board metrics, {args.opportunities:,} opportunities, median of {args.repeat}"
    )
    for col in (
        "engine",
        "work",
        "seconds (median)",
        "min",
        "max",
        "peak RSS MB",
        "vs duckdb subset",
    ):
        table.add_column(col, justify="left" if col in ("engine", "work") else "right")
    work = {
        "duckdb board": "all 14 board sections",
        "duckdb subset": "attribution, win rates, ACV, NRR",
        "pandas subset": "attribution, win rates, ACV, NRR",
    }
    for mode in work:
        r = res[mode]
        med = statistics.median(r["times"])
        table.add_row(
            mode, work[mode], f"{med:.2f}", f"{min(r['times']):.2f}", f"{max(r['times']):.2f}",
            f"{r['rss_mb']:.0f}", f"{med / base:.2f}x",
        )  # fmt: skip
    console.print(table)
    console.print("subset numbers agree between DuckDB and pandas (checked).")
    console.print(sections_table(res["duckdb sections"]["results"], args.repeat))


def prepared(folder: Path, opportunities: int, seed: int, console: Console) -> dt.date:
    """The as-of date of the data in ``folder``, generating it first unless a previous run
    left the same size and seed there."""
    marker = folder / "bench.json"
    wanted = {"opportunities": opportunities, "seed": seed}
    if marker.exists() and json.loads(marker.read_text())["config"] == wanted:
        console.print(f"reusing the Parquet in {folder}")
        return dt.date.fromisoformat(json.loads(marker.read_text())["as_of"])
    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    cfg = build(opportunities, folder, seed)
    console.print(f"generated + wrote Parquet in {time.perf_counter() - t0:.1f} s: {cfg}")
    marker.write_text(json.dumps({"config": wanted, "as_of": cfg.end.isoformat()}))
    return cfg.end


def sections_table(runs: list[dict[str, float]], repeat: int) -> Table:
    table = Table(title=f"where the board's time goes (duckdb sections), median of {repeat}")
    table.add_column("section")
    table.add_column("seconds", justify="right")
    table.add_column("share", justify="right")
    medians = {name: statistics.median(run[name] for run in runs) for name in runs[0]}
    total = sum(medians.values())
    for name, sec in medians.items():
        table.add_row(name, f"{sec:.2f}", f"{sec / total:.0%}")
    table.add_row("total", f"{total:.2f}", "100%")
    return table


if __name__ == "__main__":
    main()
