"""`mutualist tiers evaluate [--as-of D] [--program ID]`: compute eligibility (for cron, daily),
reconcile the proposals, and apply the approved ones whose day has come."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from rich.console import Console
from rich.table import Table

console = Console()
err_console = Console(stderr=True)


def add_parser(sub: Any) -> None:
    tiers = sub.add_parser("tiers", help="tier governance: evaluate eligibility, apply changes")
    tiers_sub = tiers.add_subparsers(dest="tiers_command", metavar="ACTION", required=True)
    evaluate = tiers_sub.add_parser(
        "evaluate",
        help="compute eligibility, propose tier changes, apply approved ones that are due",
    )
    evaluate.add_argument("--as-of", help="the day to evaluate (YYYY-MM-DD; default today)")
    evaluate.add_argument("--program", type=int, help="one program's id (default: all active)")


def run(args: argparse.Namespace) -> int:
    from mutualist.lib.errors import ValidationFailed

    try:
        return _evaluate(args)
    except ValidationFailed as exc:
        err_console.print(f"[red]Error:[/red] {exc}")
        return 2


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.4g}"


def _evaluate(args: argparse.Namespace) -> int:
    from django.utils import timezone

    from mutualist.lib.errors import ValidationFailed
    from mutualist.tiers import actions
    from mutualist.tiers.evaluate import evaluate
    from mutualist.tiers.models import Program, Proposal

    try:
        as_of = dt.date.fromisoformat(args.as_of) if args.as_of else timezone.now().date()
    except ValueError:
        raise ValidationFailed({"as_of": f"{args.as_of!r} is not a date; use YYYY-MM-DD"}) from None
    programs = Program.objects.filter(active=True)
    if args.program is not None:
        programs = Program.objects.filter(pk=args.program)
        if not programs.exists():
            raise ValidationFailed({"program": f"no program has id {args.program}"})
    if not programs.exists():
        console.print("No active tier program; nothing to evaluate.")
        return 0
    for program in programs.order_by("pk"):
        evaluations = evaluate(program, as_of)
        table = Table(title=f"{program.name}: eligibility as of {as_of}")
        for header in ("Partner", "Current", "Eligible", "Rules (measured)"):
            table.add_column(header)
        for e in evaluations:
            rules = ", ".join(
                f"{d['metric']}={_number(d['value'])}{'✓' if d['passed'] else '✗'}"
                for d in e.details
                if d["tier"] in (e.eligible_tier, e.current_tier)
            )
            mark = "" if e.eligible_tier == e.current_tier else " ←"
            table.add_row(
                e.partner.name, e.current_tier or "—", (e.eligible_tier or "none") + mark, rules
            )
        console.print(table)
        made = Proposal.objects.filter(evaluation__in=evaluations).select_related("partner")
        for p in made.order_by("partner__name"):
            kind = f"downgrade, grace until {p.grace_until}" if p.grace_until else "upgrade"
            console.print(
                f"Proposed #{p.pk}: {p.partner.name} {p.from_tier or 'no tier'} → "
                f"{p.to_tier or 'no tier'} ({kind}), effective {p.effective_on}"
            )
        console.print(f"{len(evaluations)} partners evaluated, {made.count()} proposals made.")
    applied = actions.apply_due()
    console.print(f"{applied} approved change{'s' * (applied != 1)} applied.")
    return 0
