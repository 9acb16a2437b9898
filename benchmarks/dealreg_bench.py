"""Deal registration at scale: the conflict check, and POST /api/v1/deal-registrations under load.

    .venv/bin/python benchmarks/dealreg_bench.py --pg-url postgresql://postgres@127.0.0.1:5434/postgres
    .venv/bin/python benchmarks/dealreg_bench.py --accounts 50000            # SQLite, smaller

The headline numbers need PostgreSQL (--pg-url names any database of the server; the script
creates its own database beside it and drops it at the end). Without --pg-url it runs on a
SQLite file in a temporary data dir.

1. Setup (child process): migrate an empty database, then bulk-load (COPY on PostgreSQL,
   executemany on SQLite, ids assigned up front) --accounts accounts (half customers, half
   prospects), one company-registry row and one exact resolution per account, one open
   opportunity per account, and --registrations older deal registrations (a tenth of the
   accounts by default; 30 % live, holding their claims). Partners (one per client by default)
   get an API-only partner user with a token; the CPO raises `submissions_per_hour` in a new
   rules version through `registrations.new_rules` so the load test is not rate-limited. The
   database is then VACUUM ANALYZEd (ANALYZE on SQLite), as a settled production database is.
2. Conflict check (child process, in-process calls): --checks calls of `cosell.check.check`
   timed with perf_counter_ns, a shuffled mix of hits (existing companies by domain, by name +
   country, live registrations of other partners) and misses; every outcome is verified. The
   baseline, in the same process: a naive check a PRM without a normalised company registry
   would run (case-insensitive `icontains` / `iexact` scans of Account.name and
   Account.domain, then open opportunities and live registrations of the matches), on
   --baseline-checks cases only, because it scans.
3. Load test (this process): `mutualist serve` (gunicorn, --workers 2 x --threads 4, the
   production settings: MUTUALIST_MODE=production with a secret key and allowed hosts;
   MUTUALIST_HTTPS=false because the load runs over plain HTTP on loopback, and
   --no-task-worker since registration needs no background task) on 127.0.0.1 and a free
   port; --clients threads with keep-alive connections send --warmup untimed registrations,
   then one client sends --sequential (the unloaded reference), then --clients threads send
   --requests timed registrations (mostly new companies; some duplicates of companies
   registered earlier in the run, some existing CRM companies), each with its own
   Idempotency-Key. The clients send back to back (a closed loop, no think time);
   --no-keepalive opens a new connection per timed request instead.

Prints p50/p90/p99/max latency, throughput, status codes and outcomes, and the goals (check
p99 <= 10 ms, request p99 <= 100 ms on 2 cores). The server is stopped and the database
dropped in every case; --json writes all the numbers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

CHECK_GOAL_MS = 10.0
REQUEST_GOAL_MS = 100.0
SOURCE_SYSTEM = "bench"
MAX_PER_HOUR = 3650  # the largest value `registrations.new_rules` accepts

CHECK_KINDS = {
    "domain_hit": "existing company, by domain",
    "name_hit": "existing company, by name + country",
    "registration_hit": "live registration of another partner",
    "miss_domain": "new company, with domain",
    "miss_name": "new company, name + country only",
}
CHECK_MIX = {
    "domain_hit": 0.3,
    "name_hit": 0.2,
    "registration_hit": 0.1,
    "miss_domain": 0.2,
    "miss_name": 0.2,
}
REQUEST_KINDS = {
    "new_domain": "new company, with domain",
    "new_name": "new company, no domain",
    "duplicate": "company registered earlier in the run",
    "existing_domain": "CRM company, by domain",
    "existing_name": "CRM company, by name + country",
}
REQUEST_MIX = {
    "new_domain": 0.6,
    "new_name": 0.1,
    "duplicate": 0.1,
    "existing_domain": 0.1,
    "existing_name": 0.1,
}
LIVE_SHARE = {
    "pending": 0.10,
    "approved": 0.20,
    "conflict": 0.15,
    "rejected": 0.15,
    "expired": 0.40,
}
PRODUCTS = ("Platform", "Analytics", "Security Suite", "Data Cloud", "Support Plus")
OPEN_STAGES = ("Prospecting", "Qualification", "Needs Analysis", "Proposal/Price Quote")


# --- child processes: shared ----------------------------------------------------------------
def django_setup() -> None:
    import django

    django.setup()


def kinds_for(mix: dict[str, float], n: int, rng: np.random.Generator) -> list[str]:
    """Exactly the mix's shares of n (rounded), shuffled."""
    names = list(mix)
    counts = [round(mix[k] * n) for k in names]
    counts[0] += n - sum(counts)
    out = [k for k, c in zip(names, counts, strict=True) for _ in range(c)]
    rng.shuffle(out)
    return out


def company_pool(total: int, seed: int) -> dict[str, list[str]]:
    """`total` unique companies (name, domain, country, industry) from the synthetic generator;
    the first ones are loaded as accounts, the rest are new companies for registrations."""
    from mutualist.synth import names as nm
    from mutualist.synth.config import INDUSTRIES

    rng = np.random.default_rng(seed)
    names = nm.account_names(rng, total)
    country_idx = nm.draw_countries(rng, total, partner=False)
    codes = np.array([c[0] for c in nm.COUNTRIES], dtype=object)
    return {
        "name": names.name.tolist(),
        "domain": nm.domains(names.domain_label, country_idx).tolist(),
        "country": codes[country_idx].tolist(),
        "industry": np.array(INDUSTRIES, dtype=object)[names.industry].tolist(),
    }


# --- child: setup -----------------------------------------------------------------------------
def setup(config: dict[str, Any], plan_path: Path) -> dict[str, Any]:
    django_setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from mutualist.overlaps.keys import domain_key, name_key

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    seconds: dict[str, float] = {"migrate": time.perf_counter() - t0}
    n, n_regs = config["accounts"], config["registrations"]
    n_checks, n_requests = config["checks"], config["requests"]
    n_warmup, n_seq = config["warmup"], config["sequential"]
    rng = np.random.default_rng(config["seed"])
    t0 = time.perf_counter()
    pool = company_pool(n + n_regs + n_checks + n_requests + n_warmup + n_seq, config["seed"])
    keys = {
        "name_key": [name_key(x) for x in pool["name"]],
        "domain_key": [domain_key(x) for x in pool["domain"]],
    }
    seconds["generate + keys"] = time.perf_counter() - t0
    customer = rng.random(n) < 0.5
    with transaction.atomic():
        load_crm(pool, keys, customer, rng, seconds)
    people = make_people(config["partners"])
    t0 = time.perf_counter()
    with transaction.atomic():
        live = seed_registrations(pool, keys, n, n_regs, people, rng)
    seconds["registrations"] = time.perf_counter() - t0
    rules = raise_rate_limit(people["cpo"])
    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    seconds["vacuum analyze"] = time.perf_counter() - t0
    first_new = n + n_regs
    plan = {
        "tokens": people["tokens"],
        "partner_ids": people["partner_ids"],
        "checks": check_cases(pool, keys, customer, live, first_new, n_checks, people, rng),
        "requests": request_cases(
            pool, keys, customer, first_new + n_checks, n_requests, n_warmup, n_seq, rng
        ),
    }
    plan_path.write_text(json.dumps(plan))
    return {
        "seconds": seconds,
        "database": connection.vendor,
        "database_mb": database_mb(),
        "rows": {
            "accounts": n,
            "customers": int(customer.sum()),
            "companies": n,
            "resolutions": n,
            "open_opportunities": n,
            "registrations": n_regs,
            "live_registrations": len(live),
            "partners": config["partners"],
        },
        "rules": {"version": rules.version, "submissions_per_hour": rules.submissions_per_hour},
    }


def database_mb() -> float:
    from django.conf import settings
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_database_size(current_database())")
            return float(cursor.fetchone()[0]) / 2**20
    return Path(str(settings.DATABASES["default"]["NAME"])).stat().st_size / 2**20


def timestamps(rng: np.random.Generator, n: int, lo_days: int, hi_days: int) -> np.ndarray:
    now = np.datetime64(dt.datetime.now(dt.UTC).replace(tzinfo=None), "s")
    return now - rng.integers(lo_days * 86400, hi_days * 86400, n).astype("timedelta64[s]")


def load_crm(
    pool: dict[str, list[str]],
    keys: dict[str, list[str]],
    customer: np.ndarray,
    rng: np.random.Generator,
    seconds: dict[str, float],
) -> None:
    from mutualist.crm.models import ACCOUNT_DATA_FIELDS, Account, Opportunity
    from mutualist.lib import bulk
    from mutualist.overlaps.models import AccountResolution, Company

    n = len(customer)
    ids = list(range(1, n + 1))
    ext = [str(i) for i in ids]
    created = bulk.datetime_column(timestamps(rng, n, 30, 3000))
    t0 = time.perf_counter()
    bulk.bulk_insert(
        Account,
        ["id", *ACCOUNT_DATA_FIELDS, "source_system", "external_id"],
        [
            ids,
            pool["name"][:n],
            pool["domain"][:n],
            pool["country"][:n],
            pool["industry"][:n],
            np.array(["smb", "mid_market", "enterprise"], dtype=object)[
                rng.integers(0, 3, n)
            ].tolist(),
            np.where(customer, "customer", "prospect").tolist(),
            created,
            [SOURCE_SYSTEM] * n,
            ext,
        ],
    )
    seconds["accounts"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    bulk.bulk_insert(
        Company,
        ["id", "name", "name_key", "domain", "country", "registration_id", "created_at"],
        [
            ids,
            pool["name"][:n],
            keys["name_key"][:n],
            keys["domain_key"][:n],
            pool["country"][:n],
            [""] * n,
            created,
        ],
    )
    seconds["companies"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    bulk.bulk_insert(
        AccountResolution,
        ["id", "account", "company", "confidence", "reason"],
        [ids, ids, ids, ["exact"] * n, ["domain"] * n],
    )
    seconds["resolutions"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    products = np.array(PRODUCTS, dtype=object)[rng.integers(0, len(PRODUCTS), n)].tolist()
    bulk.bulk_insert(
        Opportunity,
        [
            "id",
            "account",
            "name",
            "amount",
            "currency",
            "stage",
            "is_closed",
            "is_won",
            "created_at",
            "type",
            "lead_source",
            "source_system",
            "external_id",
        ],
        [
            ids,
            ids,
            [f"{a} - {p}" for a, p in zip(pool["name"][:n], products, strict=True)],
            bulk.money_column(np.round(rng.lognormal(10.5, 1.0, n), 2)),
            ["USD"] * n,
            np.array(OPEN_STAGES, dtype=object)[rng.integers(0, len(OPEN_STAGES), n)].tolist(),
            [False] * n,
            [False] * n,
            bulk.datetime_column(timestamps(rng, n, 1, 300)),
            ["new_business"] * n,
            [""] * n,
            [SOURCE_SYSTEM] * n,
            ext,
        ],
    )
    seconds["opportunities"] = time.perf_counter() - t0
    bulk.reset_sequences([Account, Company, AccountResolution, Opportunity])


def make_people(partners: int) -> dict[str, Any]:
    """The CPO, an alliance manager owning the partners, and per partner an API-only user
    (unusable password: it never logs in) with a token."""
    from django.utils import timezone

    from mutualist.accounts.actions import create_api_token, create_user
    from mutualist.accounts.roles import Role
    from mutualist.partners.models import Partner

    no_password: Any = None  # `User.objects.create_user` makes it unusable
    cpo = create_user(None, "bench-cpo", no_password, Role.CPO)
    manager = create_user(cpo, "bench-alliances", no_password, Role.ALLIANCE_MANAGER)
    now = timezone.now()
    tokens, partner_ids = [], []
    for i in range(partners):
        partner = Partner.objects.create(
            name=f"Bench Partner {i + 1:03d}",
            status="active",
            status_since=now,
            created_at=now,
            owner=manager,
            country="US",
            types=",reseller,",
        )
        user = create_user(
            cpo, f"bench-partner-{i + 1:03d}", no_password, Role.PARTNER_USER, partner=partner
        )
        tokens.append(create_api_token(cpo, user, "dealreg bench")[1])
        partner_ids.append(partner.pk)
    return {"cpo": cpo, "tokens": tokens, "partner_ids": partner_ids}


def raise_rate_limit(cpo: Any) -> Any:
    from mutualist.cosell import registrations

    registrations.current_rules()
    return registrations.new_rules(
        cpo,
        {"submissions_per_hour": MAX_PER_HOUR},
        "dealreg benchmark: no rate limiting during the load test",
    )


def seed_registrations(
    pool: dict[str, list[str]],
    keys: dict[str, list[str]],
    first: int,
    count: int,
    people: dict[str, Any],
    rng: np.random.Generator,
) -> list[int]:
    """Older registrations of new companies; the live ones (pending, approved) hold claims.
    Returns the pool indices of the live ones."""
    from mutualist.cosell.models import DealRegistration, RegistrationClaim
    from mutualist.cosell.registrations import current_rules
    from mutualist.lib import bulk

    if count == 0:
        return []
    rules = current_rules()
    idx = list(range(first, first + count))
    statuses = np.array(list(LIVE_SHARE), dtype=object)[
        rng.choice(len(LIVE_SHARE), count, p=list(LIVE_SHARE.values()))
    ].tolist()
    with_domain = (rng.random(count) < 0.8).tolist()
    partner_ids = np.array(people["partner_ids"])[
        rng.integers(0, len(people["partner_ids"]), count)
    ].tolist()
    submitted = timestamps(rng, count, 1, 700)
    now = np.datetime64(dt.datetime.now(dt.UTC).replace(tzinfo=None), "s")
    protected = now + rng.integers(1, 90, count).astype("timedelta64[D]").astype("timedelta64[s]")
    protected[np.array(statuses) != "approved"] = np.datetime64("NaT")
    empty = [""] * count
    ids = list(range(1, count + 1))
    bulk.bulk_insert(
        DealRegistration,
        [
            "id",
            "partner",
            "submitted_at",
            "idempotency_key",
            "company_name",
            "domain",
            "country",
            "contact_name",
            "contact_email",
            "product",
            "amount",
            "currency",
            "expected_close",
            "notes",
            "domain_key",
            "name_key",
            "status",
            "rules",
            "reasons",
            "decision_reason",
            "protected_until",
            "extensions_granted",
            "appeal",
            "appeal_text",
            "appeal_reason",
        ],
        [
            ids,
            partner_ids,
            bulk.datetime_column(submitted),
            empty,
            [pool["name"][i] for i in idx],
            [pool["domain"][i] if d else "" for i, d in zip(idx, with_domain, strict=True)],
            [pool["country"][i] for i in idx],
            ["Sam Buyer"] * count,
            empty,
            np.array(PRODUCTS, dtype=object)[rng.integers(0, len(PRODUCTS), count)].tolist(),
            bulk.money_column(np.round(rng.lognormal(10.5, 1.0, count), 2)),
            ["USD"] * count,
            bulk.date_column(submitted + np.timedelta64(120 * 86400, "s")),
            empty,
            [keys["domain_key"][i] if d else "" for i, d in zip(idx, with_domain, strict=True)],
            [keys["name_key"][i] for i in idx],
            statuses,
            [rules.pk] * count,
            ["[]"] * count,
            empty,
            bulk.datetime_column(protected),
            [0] * count,
            empty,
            empty,
            empty,
        ],
    )
    live = [
        (rid, i, d)
        for rid, i, d, st in zip(ids, idx, with_domain, statuses, strict=True)
        if st in ("pending", "approved")
    ]
    bulk.bulk_insert(
        RegistrationClaim,
        ["id", "key", "registration"],
        [
            list(range(1, len(live) + 1)),
            [
                f"d:{keys['domain_key'][i]}"
                if d
                else f"n:{keys['name_key'][i]}|{pool['country'][i]}"
                for _, i, d in live
            ],
            [rid for rid, _, _ in live],
        ],
    )
    bulk.reset_sequences([DealRegistration, RegistrationClaim])
    return [i for _, i, _ in live]


def check_cases(
    pool: dict[str, list[str]],
    keys: dict[str, list[str]],
    customer: np.ndarray,
    live: list[int],
    first_new: int,
    count: int,
    people: dict[str, Any],
    rng: np.random.Generator,
) -> list[dict[str, Any]]:
    n = len(customer)
    cases = []
    new = iter(range(first_new, first_new + count))
    for kind in kinds_for(CHECK_MIX, count, rng):
        if kind == "registration_hit" and not live:
            kind = "miss_domain"
        if kind in ("domain_hit", "name_hit"):
            i = int(rng.integers(0, n))
            expect = "rejected" if customer[i] else "conflict"
        elif kind == "registration_hit":
            i = live[int(rng.integers(0, len(live)))]
            expect = "conflict"
        else:
            i = next(new)
            expect = "pending"
        by_domain = kind in ("domain_hit", "registration_hit", "miss_domain")
        cases.append(
            {
                "kind": kind,
                "expect": expect,
                "partner_id": people["partner_ids"][
                    int(rng.integers(0, len(people["partner_ids"])))
                ],
                "company_name": pool["name"][i],
                "domain": pool["domain"][i] if by_domain else "",
                "domain_key": keys["domain_key"][i] if by_domain else "",
                "name_key": keys["name_key"][i],
                "country": pool["country"][i],
            }
        )
    # A live registration without a domain is found by name + country even when the check has
    # a domain (its claim is the name); either way the expected outcome is a conflict.
    return cases


def request_cases(
    pool: dict[str, list[str]],
    keys: dict[str, list[str]],
    customer: np.ndarray,
    first_new: int,
    count: int,
    warmup: int,
    sequential: int,
    rng: np.random.Generator,
) -> dict[str, list[dict[str, Any]]]:
    n = len(customer)
    close = (dt.date.today() + dt.timedelta(days=90)).isoformat()
    new = iter(range(first_new, first_new + count + warmup + sequential))
    run = secrets.token_hex(4)

    def body(i: int, with_domain: bool) -> dict[str, Any]:
        out = {
            "company_name": pool["name"][i],
            "country": pool["country"][i],
            "contact_name": "Alex Example",
            "product": PRODUCTS[int(rng.integers(0, len(PRODUCTS)))],
            "amount": f"{float(np.round(rng.lognormal(10.5, 1.0), 2)):.2f}",
            "currency": "USD",
            "expected_close": close,
        }
        if with_domain:
            out["domain"] = pool["domain"][i]
        return out

    def cases(kinds: Sequence[str], label: str) -> list[dict[str, Any]]:
        made: list[dict[str, Any]] = []
        new_ones: list[int] = []
        for j, kind in enumerate(kinds):
            if kind == "duplicate" and not new_ones:
                kind = "new_domain"
            if kind in ("new_domain", "new_name"):
                i, expect = next(new), "pending"
                payload = body(i, kind == "new_domain")
                if kind == "new_domain":
                    new_ones.append(len(made))
            elif kind == "duplicate":
                payload = dict(made[new_ones[int(rng.integers(0, len(new_ones)))]]["body"])
                expect = "conflict"
            else:
                i = int(rng.integers(0, n))
                expect = "rejected" if customer[i] else "conflict"
                payload = body(i, kind == "existing_domain")
            made.append(
                {"kind": kind, "expect": expect, "body": payload, "key": f"{run}-{label}-{j}"}
            )
        return made

    return {
        "warmup": cases(["new_domain"] * warmup, "w"),
        "sequential": cases(kinds_for(REQUEST_MIX, sequential, rng), "s"),
        "timed": cases(kinds_for(REQUEST_MIX, count, rng), "t"),
    }


# --- child: conflict checks -------------------------------------------------------------------
def naive_check(partner_id: int, company_name: str, domain: str, country: str) -> str:
    """What a PRM without a normalised company registry does: case-insensitive substring and
    equality scans of the CRM's account names and domains, then the matches' open
    opportunities and live registrations by raw name or domain."""
    from django.db.models import Q

    from mutualist.cosell.check import LIVE
    from mutualist.cosell.models import DealRegistration
    from mutualist.crm.models import Account, Opportunity

    host = domain.lower().removeprefix("www.")
    match = Q(name__icontains=company_name.strip(), country=country)
    if host:
        match |= Q(domain__icontains=host)
    accounts = Account.objects.filter(match).order_by()
    customer = list(accounts.filter(lifecycle="customer").values_list("pk", flat=True)[:1])
    opportunity = list(
        Opportunity.objects.filter(account__in=accounts.values("pk"), is_closed=False)
        .order_by()
        .values_list("pk", flat=True)[:1]
    )
    same = Q(company_name__iexact=company_name.strip())
    if host:
        same |= Q(domain__iexact=host)
    registrations = list(
        DealRegistration.objects.filter(same, status__in=LIVE)
        .order_by()
        .values_list("pk", "partner_id")[:5]
    )
    if customer:
        return "rejected"
    return "conflict" if opportunity or registrations else "pending"


def run_checks(config: dict[str, Any], plan_path: Path) -> dict[str, Any]:
    django_setup()
    from django.db import connection

    from mutualist.cosell.check import check
    from mutualist.cosell.registrations import current_rules

    plan = json.loads(plan_path.read_text())
    cases = plan["checks"]
    rules = current_rules()

    def call(c: dict[str, Any]) -> Any:
        return check(c["partner_id"], c["domain_key"], c["name_key"], c["country"], rules)

    for c in cases[: min(50, len(cases))]:  # warm-up: connection, query compilation, caches
        call(c)
    latency: list[int] = []
    cpu: list[int] = []  # this process's CPU time per check (excludes a PostgreSQL server's)
    wrong: list[dict[str, Any]] = []
    for c in cases:
        t0, c0 = time.perf_counter_ns(), time.thread_time_ns()
        outcome = call(c)
        latency.append(time.perf_counter_ns() - t0)
        cpu.append(time.thread_time_ns() - c0)
        if outcome.status != c["expect"]:
            wrong.append({**c, "got": outcome.status})
    sample = cases[: config["baseline_checks"]]
    naive_latency: list[int] = []
    naive_agree = 0
    if sample:
        c = sample[0]
        naive_check(c["partner_id"], c["company_name"], c["domain"], c["country"])  # warm-up
    for c in sample:
        t0 = time.perf_counter_ns()
        status = naive_check(c["partner_id"], c["company_name"], c["domain"], c["country"])
        naive_latency.append(time.perf_counter_ns() - t0)
        naive_agree += status == c["expect"]
    return {
        "database": connection.vendor,
        "kinds": [c["kind"] for c in cases],
        "latency_ns": latency,
        "cpu_ns": cpu,
        "wrong": wrong[:20],
        "wrong_count": len(wrong),
        "naive_latency_ns": naive_latency,
        "naive_kinds": [c["kind"] for c in sample],
        "naive_agree": naive_agree,
    }


# --- this process: server and load ------------------------------------------------------------
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(db_url: str, data_dir: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MUTUALIST_")}
    env.update(
        MUTUALIST_MODE="production",
        MUTUALIST_SECRET_KEY=secrets.token_urlsafe(50),
        MUTUALIST_ALLOWED_HOSTS="127.0.0.1",
        MUTUALIST_HTTPS="false",  # plain HTTP on loopback; production otherwise
        MUTUALIST_DATA_DIR=data_dir,
        MUTUALIST_DATABASE_URL=db_url,
        DJANGO_SETTINGS_MODULE="mutualist.settings",
    )
    return env


def spawn(step: str, env: dict[str, str], config_path: Path, plan_path: Path) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--worker", step]
    cmd += ["--config", str(config_path), "--plan", str(plan_path)]
    out = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{step} failed (exit {out.returncode}); see its output above")
    return json.loads(out.stdout.strip().splitlines()[-1])


class Server:
    """`mutualist serve` as a child process in its own session, logging to a file."""

    def __init__(self, env: dict[str, str], log: Path, workers: int, threads: int) -> None:
        self.port = free_port()
        self.log = log
        self._log_file = log.open("wb")
        cmd = [sys.executable, "-m", "mutualist.cli", "serve", "--host", "127.0.0.1"]
        cmd += ["--port", str(self.port), "--workers", str(workers), "--threads", str(threads)]
        cmd += ["--no-task-worker"]
        self.proc = subprocess.Popen(
            cmd, env=env, stdout=self._log_file, stderr=subprocess.STDOUT, start_new_session=True
        )

    def wait_healthy(self, timeout: float = 180.0) -> float:
        t0 = time.perf_counter()
        url = f"http://127.0.0.1:{self.port}/healthz"
        while time.perf_counter() - t0 < timeout:
            if self.proc.poll() is not None:
                raise SystemExit(f"server exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return time.perf_counter() - t0
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.25)
        raise SystemExit(f"server not healthy after {timeout:.0f} s:\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        self._log_file.flush()
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # gunicorn: graceful stop of its workers
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)  # the session this script created
                self.proc.wait(timeout=10)
        self._log_file.close()


def run_requests(
    port: int,
    cases: list[dict[str, Any]],
    tokens: list[str],
    clients: int,
    deadline: float,
    keepalive: bool = True,
) -> tuple[list[dict[str, Any]], float]:
    """Send the cases from `clients` threads (one keep-alive connection, or a new connection
    per request, and one partner token each); return one result per request sent and the
    wall-clock seconds."""
    lock = threading.Lock()
    position = iter(range(len(cases)))
    results: list[dict[str, Any]] = []
    start = threading.Barrier(clients + 1)

    def client(c: int) -> None:
        token = tokens[c % len(tokens)]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine: list[dict[str, Any]] = []
        start.wait()
        while time.monotonic() < deadline:
            with lock:
                i = next(position, None)
            if i is None:
                break
            case = cases[i]
            headers = {
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
                "Idempotency-Key": case["key"],
            }
            body = json.dumps(case["body"])
            t0 = time.perf_counter_ns()
            status, outcome, error, retried = 0, "", "", False
            for attempt in (1, 2):
                try:
                    conn.request("POST", "/api/v1/deal-registrations", body, headers)
                    response = conn.getresponse()
                    data = response.read()
                    status = response.status
                    if status == 201:
                        outcome = json.loads(data)["status"]
                    break
                except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as e:
                    conn.close()  # a dropped keep-alive connection: reconnect, retry once
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                    error, retried = type(e).__name__, True
                    if attempt == 2:
                        break
                except (OSError, http.client.HTTPException) as e:
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                    error = type(e).__name__
                    break
            elapsed = time.perf_counter_ns() - t0
            if not keepalive:
                conn.close()
            mine.append(
                {
                    "i": i,
                    "client": c,
                    "kind": case["kind"],
                    "expect": case["expect"],
                    "status": status,
                    "outcome": outcome,
                    "error": error if status == 0 else "",
                    "retried": retried,
                    "ns": elapsed,
                }
            )
        conn.close()
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=client, args=(c,), daemon=True) for c in range(clients)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join(timeout=max(1.0, deadline - time.monotonic() + 120))
    return sorted(results, key=lambda r: int(r["i"])), time.perf_counter() - t0


def double_pending(cases: list[dict[str, Any]], results: list[dict[str, Any]]) -> int:
    """Companies with more than one pending registration from these requests: must be 0, since
    the first complete registration wins and holds the company's claim."""
    pending: Counter[str] = Counter()
    for r in results:
        if r["outcome"] == "pending":
            body = cases[r["i"]]["body"]
            pending[f"{body['company_name']}|{body['country']}|{body.get('domain', '')}"] += 1
    return sum(1 for n in pending.values() if n > 1)


def load_test(
    env: dict[str, str], plan: dict[str, Any], args: argparse.Namespace, data_dir: Path
) -> dict[str, Any]:
    server = Server(env, data_dir / "server.log", args.workers, args.threads)
    try:
        startup = server.wait_healthy()
        deadline = time.monotonic() + args.max_seconds
        warm, _ = run_requests(
            server.port, plan["requests"]["warmup"], plan["tokens"], args.clients, deadline
        )
        sequential, sequential_wall = run_requests(
            server.port, plan["requests"]["sequential"], plan["tokens"], 1, deadline
        )
        timed, wall = run_requests(
            server.port,
            plan["requests"]["timed"],
            plan["tokens"],
            args.clients,
            deadline,
            keepalive=not args.no_keepalive,
        )
        if timed and all(r["status"] == 0 for r in timed):
            print(server.tail(), file=sys.stderr)
        return {
            "startup_s": startup,
            "warmup_sent": len(warm),
            "results": timed,
            "wall_s": wall,
            "sequential": sequential,
            "sequential_wall_s": sequential_wall,
            "double_pending": double_pending(plan["requests"]["timed"], timed),
        }
    finally:
        server.stop()


# --- databases --------------------------------------------------------------------------------
def create_pg(url: str, name: str) -> tuple[str, Callable[[], None]]:
    import psycopg

    base, _, _ = url.rpartition("/")
    admin = f"{base}/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    return f"{base}/{name}", drop


# --- report -----------------------------------------------------------------------------------
def ms_stats(ns: Sequence[int]) -> dict[str, float]:
    if not ns:
        return dict.fromkeys(("p50", "p90", "p99", "max"), float("nan")) | {"n": 0}
    a = np.asarray(ns, dtype=np.float64) / 1e6
    p50, p90, p99 = np.percentile(a, [50, 90, 99])
    return {"n": len(a), "p50": p50, "p90": p90, "p99": p99, "max": float(a.max())}


def summarize(
    config: dict[str, Any], setup: dict[str, Any], checks: dict[str, Any], load: dict[str, Any]
) -> dict[str, Any]:
    pairs = list(zip(checks["cpu_ns"], checks["kinds"], strict=True))
    cpu_p50 = {
        k: float(np.median([ns for ns, kk in pairs if kk == k] or [np.nan])) / 1e6
        for k in CHECK_KINDS
    }
    cpu_p50["all"] = float(np.median(checks["cpu_ns"])) / 1e6
    by_kind = {
        k: ms_stats(
            [ns for ns, kk in zip(checks["latency_ns"], checks["kinds"], strict=True) if kk == k]
        )
        for k in CHECK_KINDS
    }
    results = load["results"]
    ok = [r for r in results if r["status"] == 201]
    req_kind = {
        k: {
            **ms_stats([r["ns"] for r in results if r["kind"] == k]),
            "outcomes": dict(
                Counter(r["outcome"] or str(r["status"]) for r in results if r["kind"] == k)
            ),
            "as_expected": sum(r["outcome"] == r["expect"] for r in results if r["kind"] == k),
        }
        for k in REQUEST_KINDS
    }
    check_all = ms_stats(checks["latency_ns"])
    request_all = ms_stats([r["ns"] for r in results])
    naive = ms_stats(checks["naive_latency_ns"])
    return {
        "config": config,
        "setup": setup,
        "check": {
            "all": check_all,
            "by_kind": by_kind,
            "cpu_p50_ms": cpu_p50,
            "wrong_outcomes": checks["wrong_count"],
            "wrong_examples": checks["wrong"],
            "naive": naive,
            "naive_agree": checks["naive_agree"],
            "naive_ratio_p50": naive["p50"] / check_all["p50"] if naive["n"] else None,
        },
        "load": {
            "all": request_all,
            "by_kind": req_kind,
            "sent": len(results),
            "planned": config["requests"],
            "wall_s": load["wall_s"],
            "throughput_rps": len(results) / load["wall_s"] if load["wall_s"] else 0.0,
            "status_codes": dict(Counter(str(r["status"] or r["error"]) for r in results)),
            "outcomes": dict(Counter(r["outcome"] for r in ok)),
            "retried": sum(bool(r["retried"]) for r in results),
            "server_startup_s": load["startup_s"],
            "warmup_sent": load["warmup_sent"],
            "double_pending": load["double_pending"],
            "client_p50_ms": sorted(
                float(np.median([r["ns"] for r in results if r["client"] == c])) / 1e6
                for c in {r["client"] for r in results}
            ),
            "keepalive": not config["no_keepalive"],
            "sequential": {
                **ms_stats([r["ns"] for r in load["sequential"]]),
                "outcomes": dict(
                    Counter(r["outcome"] or str(r["status"]) for r in load["sequential"])
                ),
                "throughput_rps": len(load["sequential"]) / load["sequential_wall_s"]
                if load["sequential_wall_s"]
                else 0.0,
            },
        },
        "goals": {
            "check_p99_ms": check_all["p99"],
            "check_goal_ms": CHECK_GOAL_MS,
            "check_met": check_all["p99"] <= CHECK_GOAL_MS,
            "request_p99_ms": request_all["p99"],
            "request_goal_ms": REQUEST_GOAL_MS,
            "request_met": request_all["p99"] <= REQUEST_GOAL_MS,
            "cpus": os.cpu_count(),
            "load_average_start": config["load_average_start"],
            "load_average_end": os.getloadavg()[0],
        },
    }


def print_report(s: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=160)
    cfg, setup = s["config"], s["setup"]
    rows = setup["rows"]
    n_req = cfg["requests"] + cfg["warmup"] + cfg["sequential"]
    console.print(
        f"[bold]{setup['database']}[/bold]: {rows['accounts']:,} accounts "
        f"({rows['customers']:,} customers), {rows['companies']:,} companies + resolutions, "
        f"{rows['open_opportunities']:,} open opportunities, {rows['registrations']:,} older "
        f"registrations ({rows['live_registrations']:,} live), {rows['partners']} partners; "
        f"database {setup['database_mb']:,.0f} MB"
    )
    console.print(
        "setup seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in setup["seconds"].items())
    )
    console.print(
        f"rate limit: rules v{setup['rules']['version']} with submissions_per_hour="
        f"{setup['rules']['submissions_per_hour']} (set by the CPO through "
        f"registrations.new_rules); {n_req:,} requests over "
        f"{cfg['partners']} partners, ≈{n_req / cfg['partners']:.0f} "
        "each"
    )
    c = s["check"]
    table = Table(title=f"Conflict check, in-process, {rows['accounts']:,} accounts (ms)")
    for col in ("case", "n", "p50", "p90", "p99", "max", "p50 CPU", "naive p50 / p50"):
        table.add_column(col, justify="left" if col == "case" else "right")

    def row(label: str, st: dict[str, float], cpu: float | None = None, ratio: str = "") -> None:
        if st["n"]:
            table.add_row(
                label, f"{st['n']:,}", f"{st['p50']:.2f}", f"{st['p90']:.2f}",
                f"{st['p99']:.2f}", f"{st['max']:.2f}", "" if cpu is None else f"{cpu:.2f}",
                ratio,
            )  # fmt: skip

    for kind, label in CHECK_KINDS.items():
        row(f"  {label}", c["by_kind"][kind], c["cpu_p50_ms"][kind])
    ratio = f"{c['naive_ratio_p50']:,.1f}x" if c["naive_ratio_p50"] else ""
    row("check(), all cases", c["all"], c["cpu_p50_ms"]["all"], ratio)
    row("naive icontains scan (baseline, same mix)", c["naive"])
    console.print(table)
    console.print(
        f"check() outcomes as expected: {c['all']['n'] - c['wrong_outcomes']:,}/{c['all']['n']:,}; "
        f"naive baseline same outcome: {c['naive_agree']}/{c['naive']['n']} (it matches "
        "substrings, so it can over-report conflicts). p50 CPU: this process's CPU time "
        "(Python + driver; on SQLite also the queries, on PostgreSQL not the server's)."
    )
    ld = s["load"]
    table = Table(
        title=f"POST /api/v1/deal-registrations, {cfg['clients']} clients "
        f"({'keep-alive' if ld['keepalive'] else 'a connection per request'}), gunicorn "
        f"{cfg['workers']} workers x {cfg['threads']} threads (ms)"
    )
    for col in ("requests", "n", "p50", "p90", "p99", "max", "outcomes"):
        table.add_column(col, justify="left" if col in ("requests", "outcomes") else "right")
    for kind, label in REQUEST_KINDS.items():
        st = ld["by_kind"][kind]
        if st["n"]:
            outcomes = ", ".join(f"{k} {v}" for k, v in sorted(st["outcomes"].items()))
            table.add_row(
                f"  {label}", f"{st['n']:,}", f"{st['p50']:.1f}", f"{st['p90']:.1f}",
                f"{st['p99']:.1f}", f"{st['max']:.1f}", outcomes,
            )  # fmt: skip
    st = ld["all"]
    table.add_row(
        f"all requests, {cfg['clients']} clients", f"{st['n']:,}", f"{st['p50']:.1f}",
        f"{st['p90']:.1f}", f"{st['p99']:.1f}", f"{st['max']:.1f}",
        ", ".join(f"{k} {v}" for k, v in sorted(ld["outcomes"].items())),
    )  # fmt: skip
    sq = ld["sequential"]
    if sq["n"]:
        table.add_row(
            "reference: 1 client, one at a time", f"{sq['n']:,}", f"{sq['p50']:.1f}",
            f"{sq['p90']:.1f}", f"{sq['p99']:.1f}", f"{sq['max']:.1f}",
            ", ".join(f"{k} {v}" for k, v in sorted(sq["outcomes"].items())),
        )  # fmt: skip
    console.print(table)
    console.print(
        f"sent {ld['sent']:,}/{ld['planned']:,} in {ld['wall_s']:.1f} s = "
        f"{ld['throughput_rps']:.1f} requests/s (1 client: {sq['throughput_rps']:.1f}/s; "
        f"after {ld['warmup_sent']} untimed warm-up "
        f"requests; server healthy {ld['server_startup_s']:.1f} s after start); HTTP status: "
        + ", ".join(f"{k} {v}" for k, v in sorted(ld["status_codes"].items()))
        + f"; retried after a dropped keep-alive connection: {ld['retried']}"
    )
    spread = ld["client_p50_ms"]
    if spread:
        console.print(
            f"per-client p50 from {spread[0]:.0f} to {spread[-1]:.0f} ms (quartiles "
            f"{np.percentile(spread, 25):.0f} / {np.percentile(spread, 50):.0f} / "
            f"{np.percentile(spread, 75):.0f}); companies with two pending registrations: "
            f"{ld['double_pending']} (must be 0)"
        )
    g = s["goals"]
    table = Table(title=f"Goals ({g['cpus']} CPUs; clients, server and database share them)")
    for col in ("goal", "p99 ms", "target ms", "met"):
        table.add_column(col, justify="left" if col == "goal" else "right")
    table.add_row(
        "conflict check p99", f"{g['check_p99_ms']:.2f}", f"{g['check_goal_ms']:.0f}",
        "yes" if g["check_met"] else "[red]no[/red]",
    )  # fmt: skip
    table.add_row(
        "whole request p99", f"{g['request_p99_ms']:.1f}", f"{g['request_goal_ms']:.0f}",
        "yes" if g["request_met"] else "[red]no[/red]",
    )  # fmt: skip
    console.print(table)
    console.print(
        f"1-minute load average: {g['load_average_start']:.1f} at the start, "
        f"{g['load_average_end']:.1f} at the end (on {g['cpus']} CPUs)"
    )
    if c["wrong_outcomes"]:
        console.print(f"[red]unexpected check outcomes[/red], e.g. {c['wrong_examples'][:3]}")


# --- main -------------------------------------------------------------------------------------
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--pg-url", default=os.environ.get("MUTUALIST_BENCH_PG_URL", ""))
    ap.add_argument("--accounts", type=int, default=1_000_000)
    ap.add_argument("--registrations", type=int, help="older registrations (default accounts/10)")
    ap.add_argument("--checks", type=int, default=2_000)
    ap.add_argument("--baseline-checks", type=int, default=20)
    ap.add_argument("--requests", type=int, default=2_000)
    ap.add_argument("--warmup", type=int, default=100, help="untimed requests first")
    ap.add_argument(
        "--sequential", type=int, default=100, help="reference: requests from 1 client first"
    )
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument(
        "--no-keepalive", action="store_true", help="a new connection for every timed request"
    )
    ap.add_argument("--partners", type=int, help="partners with a token (default: --clients)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--max-seconds", type=float, default=900.0, help="load-test time bound")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--json", type=Path, help="write every number to this file")
    ap.add_argument("--worker", choices=("setup", "checks"), help=argparse.SUPPRESS)
    ap.add_argument("--config", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--plan", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        config = json.loads(args.config.read_text())
        step = setup if args.worker == "setup" else run_checks
        print(json.dumps(step(config, args.plan)))
        return
    config = {
        "accounts": args.accounts,
        "registrations": args.accounts // 10 if args.registrations is None else args.registrations,
        "checks": args.checks,
        "baseline_checks": min(args.baseline_checks, args.checks),
        "requests": args.requests,
        "warmup": args.warmup,
        "sequential": args.sequential,
        "clients": args.clients,
        "partners": args.partners or args.clients,
        "workers": args.workers,
        "threads": args.threads,
        "seed": args.seed,
        "no_keepalive": args.no_keepalive,
        "load_average_start": os.getloadavg()[0],
    }
    with tempfile.TemporaryDirectory(prefix="dealreg-bench-") as tmp:
        data_dir = Path(tmp)
        drop: Callable[[], None] = lambda: None  # noqa: E731
        try:
            if args.pg_url:
                db_url, drop = create_pg(args.pg_url, f"mutualist_dealreg_{os.getpid()}")
            else:
                db_url = f"sqlite:///{data_dir / 'dealreg.sqlite3'}"
            config["database_url"] = db_url.rpartition("@")[2]
            env = server_env(db_url, tmp)
            config_path, plan_path = data_dir / "config.json", data_dir / "plan.json"
            config_path.write_text(json.dumps(config))
            print(f"setup: loading {args.accounts:,} accounts into {config['database_url']} …")
            setup_result = spawn("setup", env, config_path, plan_path)
            print(f"conflict checks: {args.checks:,} in-process calls …")
            checks = spawn("checks", env, config_path, plan_path)
            plan = json.loads(plan_path.read_text())
            print(f"load test: {args.requests:,} requests from {args.clients} clients …")
            load = load_test(env, plan, args, data_dir)
        finally:
            drop()
    summary = summarize(config, setup_result, checks, load)
    print_report(summary)
    if args.json:
        summary["raw"] = {
            "check_latency_ns": checks["latency_ns"],
            "check_kinds": checks["kinds"],
            "request_latency_ns": [r["ns"] for r in load["results"]],
            "request_kinds": [r["kind"] for r in load["results"]],
        }
        args.json.write_text(json.dumps(summary, indent=1, default=str))


if __name__ == "__main__":
    main()
