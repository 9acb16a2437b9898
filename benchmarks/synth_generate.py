"""Benchmark ``mutualist.synth.generate`` against a naive per-row Python generator.

Usage (from the repository root)::

    PYTHONPATH=src .venv/bin/python benchmarks/synth_generate.py --size large --repeat 3 [--csv]

Prints the median/min/max wall time of ``generate()`` over ``--repeat`` runs, the peak
resident memory of the process, optionally the time to write the Salesforce CSV export,
and a naive pure-Python baseline (one loop iteration per opportunity, generating only
opportunities and their partner involvements) timed on ``--baseline-opps`` rows and
scaled linearly to the size's opportunity count. The baseline does a fraction of the
work, so the reported speed-up is a lower bound.
"""

from __future__ import annotations

import argparse
import math
import random
import resource
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from rich.console import Console
from rich.table import Table

from mutualist.synth import SIZES, SynthConfig, generate, write_salesforce_csv

_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_STAGES = (
    "Prospecting", "Qualification", "Needs Analysis", "Value Proposition",
    "Id. Decision Makers", "Perception Analysis", "Proposal/Price Quote", "Negotiation/Review",
)  # fmt: skip


def _naive_sf_id(prefix: str, number: int) -> str:
    digits = ""
    for _ in range(9):
        number, r = divmod(number, 62)
        digits = _B62[r] + digits
    id15 = prefix + "Sy0" + digits
    suffix = ""
    for chunk in range(3):
        bits = sum(1 << i for i, ch in enumerate(id15[chunk * 5 : chunk * 5 + 5]) if ch.isupper())
        suffix += "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"[bits]
    return id15 + suffix


def naive_generate(
    cfg: SynthConfig, n_opps: int
) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """Per-row baseline: the same kind of draws, one Python iteration per opportunity."""
    rng = random.Random(cfg.seed)
    start = time.mktime(cfg.start.timetuple())
    span = time.mktime(cfg.end.timetuple()) - start
    bands = [rng.choices((0, 1, 2), (0.60, 0.28, 0.12))[0] for _ in range(cfg.accounts)]
    by_band: list[list[int]] = [[a for a, b in enumerate(bands) if b == k] for k in range(3)]
    weights = [rng.lognormvariate(0, 1) for _ in range(cfg.partners)]
    medians, acv_medians = (35, 60, 110), (9_000, 36_000, 140_000)
    base_win, lift = (0.24, 0.19, 0.12), (0.0, 0.07, 0.12)
    opps: list[dict[str, object]] = []
    involvements: list[dict[str, object]] = []
    for i in range(n_opps):
        partner_deal = rng.random() < 0.3
        band = rng.choices((0, 1, 2), (0.28, 0.37, 0.35) if partner_deal else (0.62, 0.28, 0.10))[0]
        account = rng.choice(by_band[band])
        bucket = (2 if rng.random() < 0.6 else 1) if partner_deal else 0
        created = start + rng.random() * span
        median = medians[band] * (0.8 if bucket else 1.0)
        duration = math.exp(math.log(median * 86_400) + 0.6 * rng.gauss(0, 1))
        closed = created + duration
        is_closed = closed < start + span
        won = is_closed and rng.random() < base_win[band] + lift[bucket]
        acv = acv_medians[band] * math.exp(0.55 * rng.gauss(0, 1)) * (1.2 if bucket else 1.0)
        term = rng.choices((1, 2, 3), (0.5, 0.3, 0.2))[0]
        stage = ("Closed Won" if won else "Closed Lost") if is_closed else rng.choice(_STAGES)
        opps.append(
            {
                "id": i,
                "external_id": _naive_sf_id("006", i + 1),
                "account_id": account,
                "name": f"Account {account} - Platform {time.gmtime(created).tm_year}",
                "amount": round(acv * term, 2),
                "acv": round(acv, 2),
                "stage": stage,
                "is_closed": is_closed,
                "is_won": won,
                "created_at": created,
                "closed_at": closed if is_closed else None,
            }
        )
        if bucket:
            partner = rng.choices(range(cfg.partners), weights)[0]
            lag = rng.random() * 30 * 86_400 if bucket == 2 else 31 * 86_400
            involvements.append(
                {
                    "id": len(involvements),
                    "external_id": _naive_sf_id("00u", len(involvements) + 1),
                    "opportunity_id": i,
                    "partner_id": partner,
                    "role": "sourced" if bucket == 2 else "influenced",
                    "attached_at": created + lag,
                    "is_primary": True,
                }
            )
    return opps, involvements


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="large")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=None, help="override the size's seed")
    parser.add_argument("--baseline-opps", type=int, default=20_000)
    parser.add_argument("--csv", action="store_true", help="also time the Salesforce CSV export")
    args = parser.parse_args()
    cfg = SIZES[args.size] if args.seed is None else replace(SIZES[args.size], seed=args.seed)
    console = Console()

    times = []
    eco = None
    for run in range(args.repeat):
        eco = None  # free the previous run first, so peak RSS reflects one ecosystem
        t0 = time.perf_counter()
        eco = generate(cfg)
        times.append(time.perf_counter() - t0)
        console.print(f"run {run + 1}/{args.repeat}: {times[-1]:.2f} s")
    assert eco is not None
    peak = _peak_rss_mb()
    rows = sum(len(next(iter(cols.values()))) for cols in eco.tables.values())

    csv_time = None
    if args.csv:
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            write_salesforce_csv(eco, Path(tmp))
            csv_time = time.perf_counter() - t0

    t0 = time.perf_counter()
    naive_generate(cfg, args.baseline_opps)
    naive = time.perf_counter() - t0
    naive_scaled = naive * cfg.opportunities / args.baseline_opps
    median = statistics.median(times)

    table = Table(title=f"mutualist.synth.generate — size {args.size!r}")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("opportunities", f"{cfg.opportunities:,}")
    table.add_row("rows, all tables", f"{rows:,}")
    table.add_row(f"generate() median of {args.repeat}", f"{median:.2f} s")
    table.add_row("generate() min / max", f"{min(times):.2f} / {max(times):.2f} s")
    table.add_row("peak RSS (process)", f"{peak:,.0f} MB")
    if csv_time is not None:
        table.add_row("write_salesforce_csv()", f"{csv_time:.2f} s")
    table.add_row(f"naive per-row baseline, {args.baseline_opps:,} opps", f"{naive:.2f} s")
    table.add_row(f"naive scaled to {cfg.opportunities:,} opps", f"{naive_scaled:.1f} s")
    table.add_row("speed-up (lower bound)", f"{naive_scaled / median:.1f}x")
    console.print(table)


if __name__ == "__main__":
    main()
