"""`mutualist scorecards export FILE.json` / `mutualist scorecards import FILE.json`: move fit
scorecards between installations. Import checks everything first and adds each scorecard as a
new draft version (publish it on the scorecard's page); on any error nothing is stored."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rich.console import Console

console = Console()
err_console = Console(stderr=True)


def add_parser(sub: Any) -> None:
    cards = sub.add_parser("scorecards", help="partner-fit scorecards: export and import as JSON")
    cards_sub = cards.add_subparsers(dest="scorecards_command", metavar="ACTION", required=True)
    export = cards_sub.add_parser("export", help="write the newest version of every scorecard")
    export.add_argument("file", type=Path)
    load = cards_sub.add_parser("import", help="add each scorecard in FILE as a draft version")
    load.add_argument("file", type=Path)


def run(args: argparse.Namespace) -> int:
    from mutualist.fit import actions
    from mutualist.lib.errors import ValidationFailed

    if args.scorecards_command == "export":
        data = actions.export_scorecards()
        args.file.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        console.print(f"{len(data['scorecards'])} scorecard(s) written to {args.file}.")
        return 0
    try:
        data = json.loads(args.file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        err_console.print(f"[red]Error:[/red] cannot read {args.file} as JSON: {exc}")
        return 2
    try:
        versions = actions.import_scorecards(None, data)
    except ValidationFailed as exc:
        for field, message in exc.errors.items():
            err_console.print(f"[red]Error:[/red] {field}: {message}")
        err_console.print("Nothing was imported.")
        return 2
    for v in versions:
        console.print(f"Imported {v} as a draft ({v.criteria.count()} criteria).")
    return 0
