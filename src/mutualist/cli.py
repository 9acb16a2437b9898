"""The `mutualist` command. Our own commands are listed here; any other word is handed to
Django's management commands (`mutualist migrate`, `mutualist createsuperuser`, …)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from mutualist import cli_cosell, cli_fit, cli_mapping, cli_tiers

console = Console()
err_console = Console(stderr=True)

OWN_COMMANDS = (
    "demo",
    "serve",
    "synth",
    "token",
    "import",
    "metrics",
    "report",
    *cli_mapping.COMMANDS,
    "sweep",
    "tiers",
    "scorecards",
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mutualist",
        description="Build, operate and prove the value of a partner ecosystem.",
        epilog="Any other command is a Django management command, for example "
        "`mutualist migrate`, `mutualist createsuperuser`, `mutualist check --deploy`, "
        "`mutualist shell`. `mutualist help` lists them all.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser("demo", help="set up and serve a demo ecosystem (SQLite by default)")
    demo.add_argument("--size", choices=("small", "medium", "large"), default="small")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--reset", action="store_true", help="delete all data and load anew")
    demo.add_argument("--no-serve", action="store_true", help="load and exit without serving")

    serve = sub.add_parser("serve", help="serve the web app and API with gunicorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=2)
    serve.add_argument("--threads", type=int, default=4)
    serve.add_argument(
        "--no-task-worker",
        action="store_true",
        help="do not start a background-task worker (run `mutualist db_worker`)",
    )

    synth = sub.add_parser("synth", help="write a synthetic ecosystem as Salesforce-format CSV")
    synth.add_argument("--out", type=Path, required=True, help="folder to write the files to")
    synth.add_argument(
        "--size",
        choices=("small", "medium", "large"),
        default="small",
        help="starting point; the options below override its numbers",
    )
    synth.add_argument("--partners", type=int)
    synth.add_argument("--accounts", type=int)
    synth.add_argument("--opportunities", type=int)
    synth.add_argument("--seed", type=int)

    imp = sub.add_parser("import", help="import CRM, billing or finance exports")
    imp.add_argument("kind", choices=("salesforce", "hubspot", "csv", "revenue", "costs", "rates"))
    imp.add_argument("paths", nargs="+", type=Path, help="files, or folders of CSV files")
    imp.add_argument(
        "--dry-run", action="store_true", help="report what would change, write nothing"
    )
    imp.add_argument("--strict", action="store_true", help="treat warnings as errors")
    imp.add_argument("--config", type=Path, help="TOML value maps (lead sources, roles, stages)")
    imp.add_argument("--mapping", type=Path, help="TOML column mapping (for `csv`)")
    imp.add_argument("--report", type=Path, help="write every problem to this .csv or .json")
    imp.add_argument("--user", help="record the import as done by this user")

    metrics = sub.add_parser("metrics", help="the board metrics, with intervals")
    _period_arguments(metrics)
    metrics.add_argument(
        "--by",
        choices=("type", "tier", "segment", "partner"),
        help="also break partner results down by this attribute",
    )
    metrics.add_argument("--format", choices=("table", "json", "csv"), default="table")

    report = sub.add_parser("report", help="write the board report")
    report.add_argument("what", choices=("board",))
    _period_arguments(report)
    report.add_argument("--out", type=Path, required=True, help="the HTML file to write")
    report.add_argument("--png-dir", type=Path, help="also write each chart as a PNG here")

    token = sub.add_parser("token", help="create, list or revoke API tokens")
    token_sub = token.add_subparsers(dest="token_command", metavar="ACTION", required=True)
    create = token_sub.add_parser("create", help="create a token for a user and print it once")
    create.add_argument("username")
    create.add_argument("--name", default="cli")
    listing = token_sub.add_parser("list", help="list a user's tokens")
    listing.add_argument("username")
    revoke = token_sub.add_parser("revoke", help="revoke a token by id")
    revoke.add_argument("token_id", type=int)
    cli_mapping.add_parsers(sub)
    cli_cosell.add_parser(sub)
    cli_tiers.add_parser(sub)
    cli_fit.add_parser(sub)
    return parser


def _period_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--from", dest="start", help="first day, YYYY-MM-DD (default: a year before --to)"
    )
    parser.add_argument("--to", dest="end", help="last day, YYYY-MM-DD (default: --as-of)")
    parser.add_argument(
        "--as-of", dest="as_of", help="the day the numbers are taken (default: today)"
    )
    parser.add_argument(
        "--source",
        help="read the tables from duckdb:///file.duckdb, parquet:DIR "
        "or another Ibis URL instead of the app database",
    )


def main(argv: list[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and not args_list[0].startswith("-") and args_list[0] not in OWN_COMMANDS:
        return _django(args_list)
    parser = _parser()
    args = parser.parse_args(args_list)
    if args.command is None:
        parser.print_help()
        return 0
    if args.command == "synth":
        return _synth(args)
    if args.command == "map":
        return cli_mapping.run_map(args)
    if args.command == "blind-tokens":
        return cli_mapping.run_blind_tokens(args)
    if args.command == "demo":
        os.environ.setdefault("MUTUALIST_MODE", "demo")
    _setup_django()
    from django.core.exceptions import ImproperlyConfigured

    try:
        handler = {
            "demo": _demo,
            "serve": _serve,
            "token": _token,
            "import": _import,
            "metrics": _metrics,
            "report": _report,
            "resolve": cli_mapping.run_resolve,
            "sweep": cli_cosell.run_sweep,
            "tiers": cli_tiers.run,
            "scorecards": cli_fit.run,
        }[args.command]
        return handler(args)
    except ImproperlyConfigured as exc:
        err_console.print(f"[red]Configuration error:[/red] {exc}")
        return 2


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mutualist.settings")
    import django
    from django.core.exceptions import ImproperlyConfigured

    try:
        django.setup()
    except ImproperlyConfigured as exc:
        err_console.print(f"[red]Configuration error:[/red] {exc}")
        raise SystemExit(2) from None


def _django(args: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mutualist.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(["mutualist", *args])
    except ImproperlyConfigured as exc:
        err_console.print(f"[red]Configuration error:[/red] {exc}")
        return 2
    return 0


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description:<24}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.completed:>10,.0f} / {task.total:,.0f}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def _generate_with_progress(config: Any) -> Any:
    from mutualist.synth import generate

    with _progress() as progress:
        task = progress.add_task("generating", total=1)

        def step(name: str, done: int, total: int) -> None:
            progress.update(task, description=f"generating: {name}", completed=done, total=total)

        eco = generate(config, progress=step)
        progress.update(task, description="generated", completed=1, total=1)
    return eco


def _synth(args: argparse.Namespace) -> int:
    import dataclasses

    from mutualist.synth import SIZES, write_salesforce_csv, write_truth

    overrides = {k: getattr(args, k) for k in ("partners", "accounts", "opportunities", "seed")}
    bad = [
        f"--{k}" for k, v in overrides.items() if v is not None and v < (0 if k == "seed" else 1)
    ]
    if bad:
        err_console.print(f"[red]Error:[/red] {', '.join(bad)} must be a positive whole number")
        return 2
    try:
        config = dataclasses.replace(
            SIZES[args.size], **{k: v for k, v in overrides.items() if v is not None}
        )
    except ValueError as exc:
        err_console.print(f"[red]Error:[/red] {exc}")
        return 2
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        err_console.print(f"[red]Error:[/red] cannot create --out {args.out}: {exc}")
        return 2
    eco = _generate_with_progress(config)
    files = write_salesforce_csv(eco, args.out)
    truth = args.out / "truth.json"
    write_truth(eco, truth)
    table = Table(title=f"Synthetic ecosystem written to {args.out}")
    table.add_column("file")
    table.add_column("rows", justify="right")
    for path in [*files, truth]:
        rows = sum(1 for _ in path.open(encoding="utf-8-sig")) - 1 if path.suffix == ".csv" else ""
        table.add_row(path.name, f"{rows:,}" if rows != "" else "")
    console.print(table)
    return 0


def _demo(args: argparse.Namespace) -> int:
    from django.conf import settings
    from django.core.management import call_command

    from mutualist.core import demo

    console.print(f"[bold]mutualist demo[/bold] · database: {_database_label()}")
    call_command("migrate", interactive=False, verbosity=0)
    if args.reset:
        call_command("flush", interactive=False, verbosity=0)
        console.print("Deleted all data (--reset).")
    if demo.is_loaded():
        console.print("The demo ecosystem is already loaded; use --reset to load it anew.")
        logins = None
    else:
        eco = _generate_with_progress(demo.SIZES[args.size])
        from mutualist.crm.actions import rows_to_load

        with _progress() as progress:
            task = progress.add_task("loading", total=rows_to_load(eco.tables))

            def step(name: str, n: int) -> None:
                progress.update(task, description=f"loading: {name}", advance=n)

            logins = demo.load(eco, progress=step)
            progress.update(task, description="loading: mapping and co-selling")
            demo.load_workflows()
            progress.update(task, description="loaded", completed=rows_to_load(eco.tables))
        demo.write_truth(eco, settings.DATA_DIR)
    url = f"http://{args.host}:{args.port}/"
    _print_logins(url, logins)
    if args.no_serve:
        return 0
    # Serve from a fresh process: loading used DuckDB (mapping, tier evaluation, the board's
    # cached tables), and gunicorn's workers forked from this process would inherit that
    # connection without its threads; the first board request then hangs forever.
    sys.stdout.flush()
    os.execv(sys.executable, _serve_command(args.host, args.port))
    return 0  # not reached


def _serve_command(host: str, port: int) -> list[str]:
    return [sys.executable, "-m", "mutualist.cli", "serve", "--host", host, "--port", str(port)]


def _print_logins(url: str, logins: Any) -> None:
    from mutualist.core.demo import DEMO_PASSWORD

    console.print(
        f"\nOpen [bold]{url}[/bold] and log in (password for every demo user: "
        f"[bold]{DEMO_PASSWORD}[/bold])."
    )
    if logins is None:
        console.print(
            "Users: cpo, analyst, legal, finance, ops, alliance1…, partner1-admin, "
            "partner1-user, partner2-admin, partner2-user."
        )
        return
    table = Table()
    for column in ("user", "role", "partner", "sees"):
        table.add_column(column)
    for login in logins:
        table.add_row(login.username, login.role, login.partner or "—", login.shows)
    console.print(table)
    console.print(f"API docs: {url}api/v1/docs · admin: {url}admin/ (as cpo)")


def _database_label() -> str:
    from django.conf import settings

    db = settings.DATABASES["default"]
    return f"{str(db['ENGINE']).rsplit('.', 1)[-1]} {db['NAME']}"


def _serve(args: argparse.Namespace) -> int:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from mutualist import serve

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        err_console.print(
            "[yellow]The database has unapplied migrations:[/yellow] run `mutualist migrate` first."
        )
        return 2
    if not settings.LOCAL_MODE:
        call_command("collectstatic", interactive=False, verbosity=0)
    console.print(f"Serving on http://{args.host}:{args.port}/ ({_database_label()})")
    serve.run(args.host, args.port, args.workers, args.threads, task_worker=not args.no_task_worker)
    return 0


def _token(args: argparse.Namespace) -> int:
    from mutualist.accounts import actions
    from mutualist.accounts.models import ApiToken, User
    from mutualist.lib.errors import ValidationFailed

    if args.token_command == "revoke":
        token = ApiToken.objects.filter(pk=args.token_id).first()
        if token is None:
            err_console.print(
                f"[red]Error:[/red] no token with id {args.token_id}; "
                "see `mutualist token list USERNAME`"
            )
            return 2
        actions.revoke_api_token(None, token)  # type: ignore[arg-type]
        console.print(f"Revoked token {token.pk} ({token.name}).")
        return 0
    user = User.objects.filter(username=args.username).first()
    if user is None:
        err_console.print(f"[red]Error:[/red] no user named {args.username!r}")
        return 2
    if args.token_command == "create":
        try:
            _, key = actions.create_api_token(None, user, args.name)  # type: ignore[arg-type]
        except ValidationFailed as exc:
            err_console.print(f"[red]Error:[/red] {exc}")
            return 2
        console.print(key, highlight=False, soft_wrap=True)
        err_console.print("Keep it safe: it is shown only this once.")
        return 0
    table = Table(title=f"API tokens of {user.username}")
    for column in ("id", "name", "starts with", "created", "last used", "revoked"):
        table.add_column(column)
    for t in user.api_tokens.all():
        table.add_row(
            str(t.pk),
            t.name,
            t.prefix,
            f"{t.created_at:%Y-%m-%d}",
            f"{t.last_used_at:%Y-%m-%d}" if t.last_used_at else "never",
            f"{t.revoked_at:%Y-%m-%d}" if t.revoked_at else "",
        )
    console.print(table)
    return 0


def _import(args: argparse.Namespace) -> int:
    from mutualist.accounts.models import User
    from mutualist.imports.actions import run_import
    from mutualist.imports.report import write_report
    from mutualist.imports.sources import read_files
    from mutualist.lib.collector import paused_collector
    from mutualist.lib.errors import ValidationFailed

    actor = None
    if args.user:
        actor = User.objects.filter(username=args.user).first()
        if actor is None:
            err_console.print(f"[red]Error:[/red] no user named {args.user!r}")
            return 2
    options = {"config": args.config, "mapping": args.mapping}
    # One pause of the cyclic collector over reading and writing: one collection at the end
    # instead of one after each (a second or so a million rows).
    with paused_collector():
        try:
            with console.status(f"Reading {args.kind} files…"):
                batch = read_files(args.kind, list(args.paths), options)
        except ValidationFailed as exc:
            for field, message in exc.errors.items():
                err_console.print(f"[red]Error:[/red] {field}: {message}")
            return 2
        with _progress() as progress:
            total = sum(batch.record_counts().values())
            task = progress.add_task("writing", total=max(total, 1))

            def step(name: str, n: int) -> None:
                progress.update(task, description=f"writing {name}", advance=n)

            run = run_import(
                actor, args.kind, batch, dry_run=args.dry_run, strict=args.strict, progress=step
            )
            progress.update(task, completed=max(total, 1))
    _print_import(run)
    if args.report:
        try:
            write_report(run.problems, args.report)
        except ValidationFailed as exc:
            err_console.print(f"[red]Error:[/red] {exc}")
            return 2
        console.print(f"Problem report written to {args.report}")
    return 1 if run.status == "failed" else 0


def _print_problems(run: Any) -> None:
    from collections import Counter

    kinds = Counter((p["severity"], p["code"], p["reason"].split(" (")[0]) for p in run.problems)
    summary = Table(title=f"{run.error_count} error(s), {run.warning_count} warning(s) by kind")
    for column in ("", "kind", "count", "first seen"):
        summary.add_column(column)
    for (severity, code, _), count in kinds.most_common():
        first = next(p for p in run.problems if p["code"] == code and p["severity"] == severity)
        where = first["file"] + (f" row {first['row']}" if first["row"] else "")
        label = "[red]error[/red]" if severity == "error" else "warning"
        summary.add_row(label, code, f"{count:,}", where)
    console.print(summary)
    details = Table(title="Problems (first 10; --report FILE writes all)")
    for column in ("where", "value", "problem", "how to fix"):
        details.add_column(column)
    for p in run.problems[:10]:
        where = p["file"] + (f" row {p['row']}" if p["row"] else "")
        where += f" {p['column']}" if p["column"] else ""
        details.add_row(where, str(p["value"])[:30], p["reason"], p["hint"])
    console.print(details)


def _print_import(run: Any) -> None:
    files = Table(title=f"Import #{run.pk}: files")
    for column in ("file", "read as", "rows", "sha256"):
        files.add_column(column)
    for f in run.files:
        files.add_row(f["name"], f["kind"], f"{f['rows']:,}", f["sha256"][:12])
    console.print(files)
    if run.counts:
        table = Table(title="Records")
        for column in ("table", "created", "updated", "unchanged", "skipped"):
            table.add_column(column, justify="right" if column != "table" else "left")
        for name, c in run.counts.items():
            table.add_row(
                name,
                f"{c['created']:,}",
                f"{c['updated']:,}",
                f"{c['unchanged']:,}",
                f"{c['skipped']:,}",
            )
        console.print(table)
    if run.problems:
        _print_problems(run)
    style = "red" if run.status == "failed" else "green"
    console.print(f"[{style}]{run.get_status_display()}[/{style}]: {run.message}")


def _board_args(args: argparse.Namespace) -> tuple[Any, Any, Any, dict[str, Any]] | None:
    from mutualist.analytics import connect
    from mutualist.insights.service import board_for, current_tables, resolve_period
    from mutualist.lib.errors import ValidationFailed

    try:
        period, as_of = resolve_period(args.start, args.end, args.as_of)
        tables = connect(args.source) if args.source else current_tables()
        with console.status("Computing the board…"):
            board = board_for(period, as_of, args.source)
    except ValidationFailed as exc:
        for field, message in exc.errors.items():
            err_console.print(f"[red]Error:[/red] --{field.replace('_', '-')}: {message}")
        return None
    except Exception as exc:  # a bad --source URL or a missing table
        err_console.print(f"[red]Error:[/red] {exc}")
        return None
    return period, as_of, tables, board


def _metrics(args: argparse.Namespace) -> int:
    import json

    from mutualist.analytics.breakdown import by_dimension

    result = _board_args(args)
    if result is None:
        return 2
    _, _, tables, board = result
    if args.by:
        board = {
            **board,
            "by": {"dimension": args.by, "groups": by_dimension(tables, board, args.by)},
        }
    if args.format == "json":
        print(json.dumps(board, indent=2))
    elif args.format == "csv":
        _print_metrics_csv(board)
    else:
        _print_metrics_table(board)
    return 0


def _flatten(prefix: str, value: Any, out: list[list[Any]]) -> None:
    if isinstance(value, dict) and "value" in value and ("n" in value or "method" in value):
        out.append(
            [
                prefix,
                value.get("value"),
                value.get("low"),
                value.get("high"),
                value.get("n"),
                value.get("note") or value.get("warning") or "",
            ]
        )
    elif isinstance(value, dict):
        for key, item in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), item, out)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        out.append([prefix, value, "", "", "", ""])


def _print_metrics_csv(board: dict[str, Any]) -> None:
    import csv

    rows: list[list[Any]] = []
    _flatten("", {k: v for k, v in board.items() if k not in ("leaderboard", "by")}, rows)
    writer = csv.writer(sys.stdout)
    writer.writerow(["metric", "value", "low", "high", "n", "note"])
    writer.writerows(rows)


def _fmt_estimate(est: Any, kind: str = "") -> str:
    from mutualist.insights.templatetags.estimates import estimate

    return estimate(est, kind)


def _print_metrics_table(board: dict[str, Any]) -> None:
    period = board["period"]
    table = Table(
        title=f"Board metrics {period['start']} to {period['end']} (as of {board['as_of']})"
    )
    for column in ("metric", "sourced", "influenced", "partner", "unattributed"):
        table.add_column(column)
    groups = ("sourced", "influenced", "partner", "unattributed")
    table.add_row("deals created", *(f"{board['attribution'][g]['deals']:,}" for g in groups))
    table.add_row(
        "won revenue", *(f"{board['attribution'][g]['won_revenue']:,.0f}" for g in groups)
    )
    table.add_row("win rate", *(_fmt_estimate(board["win_rate"][g], "pct") for g in groups))
    table.add_row(
        "ACV median", *(_fmt_estimate(board["acv"][g]["median"], "money") for g in groups)
    )
    table.add_row(
        "cycle median", *(_fmt_estimate(board["cycle_days"][g]["median"], "days") for g in groups)
    )
    console.print(table)
    cmp = board["win_rate"]["partner_vs_unattributed"]
    comparisons = Table(title="Partner vs standalone (observational, not causal)")
    comparisons.add_column("comparison")
    comparisons.add_column("estimate")
    comparisons.add_row("win rate difference", _fmt_estimate(cmp["difference"], "pp"))
    comparisons.add_row("… adjusted for deal size", _fmt_estimate(cmp["adjusted"], "pp"))
    for name in ("nrr", "grr", "logo_churn"):
        for g in ("partner_attached", "unattached"):
            comparisons.add_row(f"{name.upper()} {g}", _fmt_estimate(board[name][g], "pct"))
        versus = board[name].get("partner_attached_vs_unattached", {})
        if "adjusted" in versus:
            comparisons.add_row(
                f"… {name.upper()} difference, adjusted",
                _fmt_estimate(versus["adjusted"], "pp"),
            )
    for name, key, label in (
        ("cycle_days", "partner_vs_unattributed", "closing"),
        ("lead_conversion_days", "partner_referral_vs_cold_outbound", "converting"),
    ):
        versus = board[name].get(key, {})
        for field, how in (("hazard_ratio", ""), ("adjusted_hazard_ratio", ", adjusted")):
            if field in versus:
                comparisons.add_row(
                    f"{label} hazard ratio{how}", _fmt_estimate(versus[field], "ratio")
                )
    comparisons.add_row("blended CAC", _fmt_estimate(board["cac"]["blended"], "money"))
    comparisons.add_row("partner CAC", _fmt_estimate(board["cac"]["partner"], "money"))
    console.print(comparisons)
    if "by" in board:
        by = Table(title=f"By partner {board['by']['dimension']} (gross credit)")
        for column in ("group", "partners", "won revenue", "won / closed", "win rate"):
            by.add_column(column)
        for row in board["by"]["groups"][:30]:
            by.add_row(
                row["group"],
                str(row["partners"]),
                f"{row['won_revenue']:,.0f}",
                f"{row['won_deals']} / {row['closed_deals']}",
                _fmt_estimate(row["win_rate"], "pct"),
            )
        console.print(by)


def _report(args: argparse.Namespace) -> int:
    from mutualist.insights.report import board_report_html, write_pngs

    result = _board_args(args)
    if result is None:
        return 2
    period, as_of, tables, board = result
    try:
        args.out.write_text(board_report_html(board, tables, period, as_of), encoding="utf-8")
        console.print(f"Board report written to {args.out}")
        if args.png_dir:
            for path in write_pngs(board, args.png_dir):
                console.print(f"Chart written to {path}")
    except OSError as exc:
        err_console.print(f"[red]Error:[/red] cannot write: {exc}")
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
