"""The account-mapping commands of `mutualist`.

- `map`: match two account lists (CSV) and write the pairs, without any database.
- `blind-tokens`: turn an account list into keyed hashes for a blind-mode partnership, on the
  partner's own machine, so that only the hashes leave it.
- `resolve`: resolve the vendor's accounts to companies (after an import, say).
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

console = Console()
err_console = Console(stderr=True)
COMMANDS = ("map", "blind-tokens", "resolve")


def add_parsers(sub: Any) -> None:
    mapping = sub.add_parser("map", help="match two account lists (CSV) without a database")
    mapping.add_argument(
        "--ours",
        type=Path,
        required=True,
        help="CSV with id, name [, domain, country, registration_id]",
    )
    mapping.add_argument(
        "--theirs", type=Path, required=True, help="the other side's CSV, same columns"
    )
    mapping.add_argument(
        "--out", type=Path, required=True, help="pairs CSV: our_id, their_id, confidence, reason"
    )
    blind = sub.add_parser(
        "blind-tokens", help="keyed hashes of an account list for blind-mode mapping"
    )
    blind.add_argument(
        "accounts", type=Path, help="CSV with id, name [, domain, country, registration_id, status]"
    )
    blind.add_argument(
        "--key", required=True, help="the partnership key (64 hex characters) from the sharing page"
    )
    blind.add_argument(
        "--out", type=Path, required=True, help="tokens CSV to upload: id, status, kind, token"
    )
    sub.add_parser(
        "resolve", help="resolve the vendor's accounts to companies (runs after imports)"
    )


def _stage_progress() -> tuple[Progress, Any]:
    progress = Progress(
        TextColumn("{task.description:<28}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=console,
    )
    task = progress.add_task("reading", total=1.0)

    def step(stage: str, fraction: float) -> None:
        progress.update(task, description=stage, completed=fraction)

    return progress, step


def run_map(args: argparse.Namespace) -> int:
    from mutualist.matching.command import map_files
    from mutualist.matching.records import AccountFileError

    progress, step = _stage_progress()
    try:
        with progress:
            summary = map_files(args.ours, args.theirs, args.out, progress=step)
            step("done", 1.0)
    except (AccountFileError, OSError, ValueError) as exc:
        err_console.print(f"[red]Cannot map:[/red] {exc}")
        return 2
    table = Table(title=f"{summary.pairs:,} matched pairs written to {args.out}")
    table.add_column("")
    table.add_column("count", justify="right")
    table.add_row("our accounts", f"{summary.ours:,}")
    table.add_row("their accounts", f"{summary.theirs:,}")
    for tier, count in summary.by_confidence.items():
        table.add_row(f"pairs, {tier}", f"{count:,}")
    for side, count in summary.unusable_domains.items():
        table.add_row(f"unusable domains ({side})", f"{count:,}")
    table.add_row("seconds", f"{summary.seconds:.1f}")
    console.print(table)
    return 0


def run_blind_tokens(args: argparse.Namespace) -> int:
    from mutualist.matching.blind import blind_tokens
    from mutualist.matching.records import AccountFileError, read_accounts

    try:
        key = bytes.fromhex(args.key)
        if len(key) < 16:
            raise ValueError
    except ValueError:
        err_console.print(
            "[red]--key:[/red] not a key; copy the 64 hex characters from the sharing page."
        )
        return 2
    if args.out.resolve() == args.accounts.resolve():
        err_console.print("[red]--out:[/red] would overwrite the input; choose another file.")
        return 2
    started = time.perf_counter()
    try:
        accounts = read_accounts(args.accounts)
        statuses = _statuses(args.accounts)
    except (AccountFileError, OSError) as exc:
        err_console.print(f"[red]Cannot read the accounts:[/red] {exc}")
        return 2
    tokens = blind_tokens(accounts, key)
    with args.out.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["id", "status", "kind", "token"])
        for account_id, kind, token in zip(
            tokens.column("id").to_pylist(),
            tokens.column("kind").to_pylist(),
            tokens.column("token").to_pylist(),
            strict=True,
        ):
            writer.writerow([account_id, statuses.get(account_id, ""), kind, token])
    console.print(
        f"{tokens.num_rows:,} keyed hashes of {accounts.num_rows:,} accounts written to {args.out} "
        f"in {time.perf_counter() - started:.1f} s. Only this file leaves your machine."
    )
    return 0


def _statuses(path: Path) -> dict[str, str]:
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
        reader = csv.DictReader(handle)
        fields = {f.strip().lower(): f for f in reader.fieldnames or []}
        if "status" not in fields or "id" not in fields:
            return {}
        return {row[fields["id"]].strip(): row[fields["status"]].strip() for row in reader}


def run_resolve(args: argparse.Namespace) -> int:
    del args
    from mutualist.overlaps.actions import resolve_vendor_accounts

    progress, step = _stage_progress()
    with progress:
        summary = resolve_vendor_accounts(progress=step)
        step("done", 1.0)
    console.print(
        f"{summary.accounts:,} accounts resolved: {summary.matched:,} to known companies "
        f"({', '.join(f'{k} {v:,}' for k, v in summary.by_confidence.items()) or 'none'}), "
        f"{summary.new_companies:,} new companies."
    )
    return 0


def needs_django(command: str) -> bool:
    return command == "resolve"
