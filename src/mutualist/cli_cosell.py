"""`mutualist sweep`: the time-driven part of co-selling, for cron (every 15 minutes, say).

Expires registration protection that ran out, reminds partners before it does, and re-routes
lead offers whose answer time passed. Each step is idempotent: running it twice does nothing new.
"""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console

console = Console()


def add_parser(sub: Any) -> None:
    sub.add_parser(
        "sweep", help="expire protections, send reminders, re-route unanswered leads (cron)"
    )


def run_sweep(args: argparse.Namespace) -> int:
    del args
    from mutualist.agreements.actions import reminders
    from mutualist.cosell import registrations, routing
    from mutualist.onboarding.actions import sweep_overdue

    done = registrations.sweep()
    rerouted = routing.sweep_offers()
    agreements = reminders()
    overdue_tasks = sweep_overdue()
    console.print(
        f"Registrations: {done['expired']} expired, {done['reminded']} reminded. "
        f"Lead offers: {rerouted} past their answer time, re-routed. "
        f"Agreements: {agreements.reminded} reminded, {agreements.expired} expired, "
        f"{agreements.renewed} renewed themselves. "
        f"Onboarding: {overdue_tasks} overdue tasks told to their owners."
    )
    return 0
