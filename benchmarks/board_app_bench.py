"""The board over the app's own database at a demo size (issue 4: "under 1 s on the medium
demo"), next to the same board in warehouse mode (Parquet on DuckDB) as the baseline.

    PYTHONPATH=src .venv/bin/python benchmarks/board_app_bench.py [--size medium] [--repeat 3]

Loads the demo ecosystem into a fresh SQLite database in a temporary folder (nothing of yours
is touched), then times, median of --repeat runs:
- extract: building the analytics tables from the database (Arrow) alone;
- cold: building the analytics tables from the database (Arrow) plus the whole board, which is
  what the first board page view after a write costs;
- warm: the board on tables already built (what a new period or as-of costs);
- warehouse: the same board from Parquet files of the same data (the baseline).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _timed(work: Callable[[], Any], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="medium", choices=("small", "medium", "large"))
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="board-bench-"))
    os.environ.update(MUTUALIST_DATA_DIR=str(folder), MUTUALIST_MODE="development")
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mutualist.settings")
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    import pyarrow.parquet as pq
    from rich.console import Console
    from rich.table import Table

    from mutualist import analytics as an
    from mutualist.core import demo
    from mutualist.insights.tables import app_tables, arrow_tables

    start = time.perf_counter()
    eco = demo.build(args.size)
    demo.load(eco)
    loaded = time.perf_counter() - start
    as_of = eco.config.end
    period = an.Period.trailing_year(as_of)
    tables = app_tables()
    parquet = folder / "parquet"
    parquet.mkdir()
    for name, table in arrow_tables().items():
        pq.write_table(table, parquet / f"{name}.parquet")
    runs = {
        "extract: tables from the database (Arrow)": _timed(arrow_tables, args.repeat),
        "cold: tables from the database + board": _timed(
            lambda: an.board(app_tables(), period, as_of), args.repeat
        ),
        "warm: board on built tables": _timed(lambda: an.board(tables, period, as_of), args.repeat),
        "baseline: board from Parquet (warehouse mode)": _timed(
            lambda: an.board(an.connect(f"parquet:{parquet}"), period, as_of), args.repeat
        ),
    }
    n = eco.config.opportunities
    out = Table(
        title=f"board over the app database, {args.size} demo ({n:,} opportunities; "
        f"loaded in {loaded:.0f} s), median of {args.repeat}"
    )
    for column in ("work", "median s", "min s", "max s", "vs baseline"):
        out.add_column(column)
    baseline = statistics.median(runs["baseline: board from Parquet (warehouse mode)"])
    for work, times in runs.items():
        median = statistics.median(times)
        out.add_row(
            work,
            f"{median:.2f}",
            f"{min(times):.2f}",
            f"{max(times):.2f}",
            f"{median / baseline:.2f}x",
        )
    Console().print(out)
    warm = statistics.median(runs["warm: board on built tables"])
    cold = statistics.median(runs["cold: tables from the database + board"])
    print(
        f"goal: under 1 s on the medium demo — warm {warm:.2f} s: {'met' if warm < 1 else 'missed'}"
        f", cold {cold:.2f} s: {'met' if cold < 1 else 'missed'}"
    )
    shutil.rmtree(folder, ignore_errors=True)  # the demo database and its Parquet copy: ~150 MB
    sys.exit(0)


if __name__ == "__main__":
    main()
