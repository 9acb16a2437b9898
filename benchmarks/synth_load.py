"""Generate and load a synthetic ecosystem; compare the bulk path with Django's bulk_create.

    .venv/bin/python benchmarks/synth_load.py [--size large] [--pg-url postgresql://…]

For each database (SQLite always; PostgreSQL when --pg-url is given) a fresh worker process
migrates an empty database, generates the ecosystem, loads it with `crm.actions.load_ecosystem`
(COPY / batched executemany), then times the baseline — the ORM's `bulk_create` of the same
opportunity rows in batches of 2,000 — on a sample, and prints one table. Medians of --repeat
runs of the generator; the load runs once per database (it is the expensive part).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BASELINE_SAMPLE = 20_000


def worker(size: str, repeat: int) -> dict[str, Any]:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from mutualist.crm.actions import load_ecosystem, rows_to_load
    from mutualist.crm.models import Account, Opportunity
    from mutualist.synth import SIZES, generate

    call_command("migrate", verbosity=0)
    config = SIZES[size]
    times = []
    eco = None
    for _ in range(repeat):
        start = time.perf_counter()
        eco = generate(config)
        times.append(time.perf_counter() - start)
    assert eco is not None
    rows = rows_to_load(eco.tables)
    start = time.perf_counter()
    load_ecosystem(None, eco.tables, source_system="bench", owners=[])
    load_seconds = time.perf_counter() - start
    opportunities = len(eco.tables["opportunities"]["id"])

    # Baseline: the ORM's bulk_create of the same opportunity rows, on a sample.
    o = eco.tables["opportunities"]
    account_ids = list(Account.objects.order_by("id").values_list("id", flat=True)[:1000])
    objects = [
        Opportunity(
            account_id=account_ids[i % len(account_ids)],
            name=str(o["name"][i]),
            amount=f"{o['amount'][i]:.2f}",
            currency=str(o["currency"][i]),
            stage=str(o["stage"][i]),
            is_closed=bool(o["is_closed"][i]),
            is_won=bool(o["is_won"][i]),
            created_at=o["created_at"][i].item().replace(tzinfo=__import__("datetime").UTC),
            type=str(o["type"][i]),
            source_system="baseline",
            external_id=f"b{i}",
        )
        for i in range(min(BASELINE_SAMPLE, opportunities))
    ]
    start = time.perf_counter()
    with transaction.atomic():
        Opportunity.objects.bulk_create(objects, batch_size=2000)
    baseline_seconds = time.perf_counter() - start
    return {
        "database": connection.vendor,
        "opportunities": opportunities,
        "rows": rows,
        "generate_median_s": statistics.median(times),
        "load_s": load_seconds,
        "load_rows_per_s": rows / load_seconds,
        "load_opps_per_s_equiv": opportunities / load_seconds,
        "baseline_rows": len(objects),
        "baseline_rows_per_s": len(objects) / baseline_seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_worker(db_url: str, size: str, repeat: int, data_dir: str) -> dict[str, Any]:
    env = dict(
        os.environ,
        MUTUALIST_MODE="development",
        MUTUALIST_DATA_DIR=data_dir,
        MUTUALIST_DATABASE_URL=db_url,
        DJANGO_SETTINGS_MODULE="mutualist.settings",
    )
    out = subprocess.run(
        [sys.executable, __file__, "--worker", "--size", size, "--repeat", str(repeat)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"worker for {db_url} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def fresh_pg_database(url: str) -> str:
    import psycopg

    name = f"mutualist_bench_{os.getpid()}"
    base, _, _ = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    return f"{base}/{name}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="large", choices=("small", "medium", "large"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pg-url", default=os.environ.get("MUTUALIST_BENCH_PG_URL", ""))
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.size, args.repeat)))
        return
    from rich.console import Console
    from rich.table import Table

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        results.append(
            run_worker(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", args.size, args.repeat, tmp)
        )
        if args.pg_url:
            results.append(run_worker(fresh_pg_database(args.pg_url), args.size, 1, tmp))
    table = Table(title=f"Synthetic ecosystem, size {args.size}: generate and load")
    for column in (
        "database",
        "opportunities",
        "all rows",
        "generate (median s)",
        "load (s)",
        "load rows/s",
        "baseline bulk_create rows/s",
        "ratio",
        "peak RSS MB",
    ):
        table.add_column(column, justify="right")
    for r in results:
        table.add_row(
            r["database"],
            f"{r['opportunities']:,}",
            f"{r['rows']:,}",
            f"{r['generate_median_s']:.1f}",
            f"{r['load_s']:.1f}",
            f"{r['load_rows_per_s']:,.0f}",
            f"{r['baseline_rows_per_s']:,.0f}",
            f"{r['load_rows_per_s'] / r['baseline_rows_per_s']:.1f}x",
            f"{r['peak_rss_mb']:,.0f}",
        )
    Console(width=160).print(table)
    print(
        "Baseline: Django ORM Opportunity.objects.bulk_create(batch_size=2000) of "
        f"{BASELINE_SAMPLE:,} of the same rows. Ratio = bulk path rows/s ÷ baseline rows/s."
    )


if __name__ == "__main__":
    main()
