"""Import Salesforce-format CSV exports end to end; compare with pandas + Django bulk_create.

    .venv/bin/python benchmarks/import_bench.py [--opportunities 1000000] [--pg-url postgresql://…]

The generator writes Account, Opportunity, OpportunityPartner (and Lead, revenue, costs) CSVs.
For each database (SQLite; PostgreSQL with --pg-url) a fresh worker process migrates an empty
database and times `mutualist import salesforce` on Account + Opportunity + OpportunityPartner
(parse, validate, upsert, audit); a second fresh database times the baseline: pandas
`read_csv` of the same three files, then the ORM's `bulk_create` (batches of 2,000) with the
foreign keys mapped in Python and no validation. Prints opportunity rows/s, seconds and peak
memory for both, and the ratio.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

FILES = ("Account.csv", "Opportunity.csv", "OpportunityPartner.csv")


def ours(folder: Path) -> dict[str, Any]:
    from mutualist.imports.actions import run_import
    from mutualist.imports.sources import read_files
    from mutualist.lib.collector import paused_collector

    start = time.perf_counter()
    with timed_writes() as writing, paused_collector():  # as `mutualist import` does
        batch = read_files("salesforce", [folder / name for name in FILES], {})
        run = run_import(None, "salesforce", batch)
    seconds = time.perf_counter() - start
    assert run.status == "succeeded", run.message
    return {"opportunities": len(batch.opportunities), "seconds": seconds, "writes": writing[0]}


@contextlib.contextmanager
def timed_writes() -> Iterator[list[float]]:
    """Seconds spent in the database's own work on the rows: the bulk inserts (with their
    index rebuilds) and the commit. What remains of an import is reading, checking and
    preparing rows in Python; the writes alone bound how fast any importer of these rows into
    this schema can be on this machine."""
    from django.db import connection

    from mutualist.lib import bulk

    spent = [0.0]
    insert, commit = bulk.bulk_insert, connection.commit

    def timing(function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - began

        return timed

    bulk.bulk_insert = timing(insert)
    connection.commit = timing(commit)  # type: ignore[method-assign]
    try:
        yield spent
    finally:
        bulk.bulk_insert = insert
        del connection.commit


def baseline(folder: Path) -> dict[str, Any]:
    import pandas as pd
    from django.db import transaction

    from mutualist.crm.models import Account, Opportunity, PartnerInvolvement
    from mutualist.imports.mapping import PARTNER_ROLES
    from mutualist.partners.models import Partner

    start = time.perf_counter()
    accounts = pd.read_csv(folder / "Account.csv", encoding="utf-8-sig", keep_default_na=False)
    opps = pd.read_csv(folder / "Opportunity.csv", encoding="utf-8-sig", keep_default_na=False)
    links = pd.read_csv(
        folder / "OpportunityPartner.csv", encoding="utf-8-sig", keep_default_na=False
    )
    with transaction.atomic():
        is_partner = accounts["IsPartner"].astype(str) == "1"
        now = pd.Timestamp.now(tz="UTC").to_pydatetime()
        partners = Partner.objects.bulk_create(
            [
                Partner(name=n, status="active", status_since=now, created_at=now)
                for n in accounts.loc[is_partner, "Name"]
            ],
            batch_size=2000,
        )
        partner_id = dict(
            zip(accounts.loc[is_partner, "Id"], (p.pk for p in partners), strict=True)
        )
        customers = accounts.loc[~is_partner]
        created = Account.objects.bulk_create(
            [
                Account(
                    name=n,
                    external_id=i,
                    source_system="baseline",
                    created_at=pd.Timestamp(c).to_pydatetime(),
                )
                for i, n, c in zip(
                    customers["Id"], customers["Name"], customers["CreatedDate"], strict=True
                )
            ],
            batch_size=2000,
        )
        account_id = {a.external_id: a.pk for a in created}
        made = Opportunity.objects.bulk_create(
            [
                Opportunity(
                    account_id=account_id[a],
                    name=n,
                    amount=amt or None,
                    stage=s,
                    is_closed=cl == 1,
                    is_won=w == 1,
                    external_id=i,
                    source_system="baseline",
                    created_at=pd.Timestamp(c).to_pydatetime(),
                )
                for i, a, n, amt, s, cl, w, c in zip(
                    opps["Id"],
                    opps["AccountId"],
                    opps["Name"],
                    opps["Amount"],
                    opps["StageName"],
                    opps["IsClosed"],
                    opps["IsWon"],
                    opps["CreatedDate"],
                    strict=True,
                )
            ],
            batch_size=2000,
        )
        opp_id = {o.external_id: o.pk for o in made}
        PartnerInvolvement.objects.bulk_create(
            [
                PartnerInvolvement(
                    opportunity_id=opp_id[o],
                    partner_id=partner_id[p],
                    role=PARTNER_ROLES.get(r.lower(), "influenced"),
                    attached_at=pd.Timestamp(c).to_pydatetime(),
                )
                for o, p, r, c in zip(
                    links["OpportunityId"],
                    links["AccountToId"],
                    links["Role"],
                    links["CreatedDate"],
                    strict=True,
                )
            ],
            batch_size=2000,
        )
    return {"opportunities": len(opps), "seconds": time.perf_counter() - start}


def worker(which: str, folder: Path) -> dict[str, Any]:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    result = ours(folder) if which == "ours" else baseline(folder)
    result["database"] = connection.vendor
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def spawn(which: str, db_url: str, folder: Path, data_dir: str) -> dict[str, Any]:
    env = dict(
        os.environ,
        MUTUALIST_MODE="development",
        MUTUALIST_DATA_DIR=data_dir,
        MUTUALIST_DATABASE_URL=db_url,
        DJANGO_SETTINGS_MODULE="mutualist.settings",
    )
    out = subprocess.run(
        [sys.executable, __file__, "--worker", which, "--folder", str(folder)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"{which} on {db_url} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def fresh_pg(url: str, name: str) -> str:
    import psycopg

    base, _, _ = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    return f"{base}/{name}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--opportunities", type=int, default=1_000_000)
    parser.add_argument("--pg-url", default=os.environ.get("MUTUALIST_BENCH_PG_URL", ""))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.folder)))
        return
    from rich.console import Console
    from rich.table import Table

    from mutualist.synth import SIZES, generate, write_salesforce_csv

    n = args.opportunities
    config = dataclasses.replace(
        SIZES["large"],
        opportunities=n,
        accounts=max(n // 7, 3),
        partners=max(min(n // 1000, 1000), 10),
    )
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "export"
        folder.mkdir()
        write_salesforce_csv(generate(config), folder)
        targets = [("sqlite", lambda w: f"sqlite:///{Path(tmp) / (w + '.sqlite3')}")]
        if args.pg_url:
            targets.append(("postgresql", lambda w: fresh_pg(args.pg_url, f"mutualist_ib_{w}")))
        for label, url in targets:
            mine = spawn("ours", url("ours"), folder, tmp)
            base = spawn("baseline", url("baseline"), folder, tmp)
            rows.append((label, mine, base))
    table = Table(title=f"Salesforce import, {n:,} opportunities (+ accounts, partner rows)")
    for column in (
        "database",
        "mutualist s",
        "of which writes s",
        "opp rows/s",
        "writes-only opp rows/s",
        "peak MB",
        "baseline s",
        "baseline opp rows/s",
        "baseline peak MB",
        "ratio",
    ):
        table.add_column(column, justify="right")
    for label, mine, base in rows:
        table.add_row(
            label,
            f"{mine['seconds']:.1f}",
            f"{mine['writes']:.1f}",
            f"{mine['opportunities'] / mine['seconds']:,.0f}",
            f"{mine['opportunities'] / mine['writes']:,.0f}",
            f"{mine['peak_rss_mb']:,.0f}",
            f"{base['seconds']:.1f}",
            f"{base['opportunities'] / base['seconds']:,.0f}",
            f"{base['peak_rss_mb']:,.0f}",
            f"{base['seconds'] / mine['seconds']:.2f}x",
        )
    Console(width=160).print(table)
    print(
        "Baseline: pandas read_csv + Django bulk_create(batch_size=2000), no validation, no "
        "upsert, no audit. Ratio = baseline seconds / mutualist seconds. Writes: the "
        "database's bulk inserts, index rebuilds and commit inside our import; writes-only "
        "rows/s is the most any importer of these rows could reach here if reading cost nothing."
    )


if __name__ == "__main__":
    main()
