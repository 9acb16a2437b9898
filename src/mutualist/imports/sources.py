"""Which reader reads which kind of import; the one place CLI, web and API dispatch through."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mutualist.imports.batch import Batch, Problem
from mutualist.imports.mapping import load_value_maps
from mutualist.imports.parsing import read_csv
from mutualist.imports.readers import finance
from mutualist.imports.readers.salesforce import expand_paths, read_salesforce
from mutualist.lib.collector import paused_collector
from mutualist.lib.currencies import reporting_currency
from mutualist.lib.errors import ValidationFailed

KINDS = ("salesforce", "hubspot", "csv", "revenue", "costs", "rates")


def read_files(kind: str, paths: list[Path], options: dict[str, Any]) -> Batch:
    """Read `paths` as an import of `kind`. Problems in the files are in the batch; a bad
    option (unreadable config or mapping) raises ValidationFailed naming it."""
    with paused_collector():
        return _read_files(kind, paths, options)


def _read_files(kind: str, paths: list[Path], options: dict[str, Any]) -> Batch:
    if kind not in KINDS:
        raise ValidationFailed(
            {"kind": f"unknown import kind {kind!r}; use one of {', '.join(KINDS)}"}
        )
    config = Path(options["config"]) if options.get("config") else None
    maps = load_value_maps(config)
    if kind == "salesforce":
        return read_salesforce(paths, maps)
    if kind == "hubspot":
        from mutualist.imports.readers.hubspot import read_hubspot

        files, problems = expand_paths(paths)
        batch = read_hubspot(
            files, stage_map=maps.stages or None, default_currency=maps.default_currency
        )
        batch.problems = problems + batch.problems
        return batch
    if kind == "csv":
        from mutualist.imports.readers.generic import read_generic

        if not options.get("mapping"):
            raise ValidationFailed({"mapping": "a generic CSV import needs --mapping FILE.toml"})
        files, problems = expand_paths(paths)
        batch = read_generic(files, Path(options["mapping"]))
        batch.problems = problems + batch.problems
        return batch
    return _read_finance(kind, paths, maps.default_currency, options)


FINANCE_FILES: dict[str, tuple[Any, list[str], Any]] = {
    "revenue": (finance.is_revenue, finance.REVENUE_COLUMNS, finance.read_revenue),
    "costs": (finance.is_costs, finance.COST_COLUMNS, finance.read_costs),
    "rates": (finance.is_rates, finance.RATE_COLUMNS, finance.read_rates),
}


def _read_finance(kind: str, paths: list[Path], currency: str, options: dict[str, Any]) -> Batch:
    batch = Batch(options.get("source_system") or "salesforce")
    files, batch.problems = expand_paths(paths)
    for path in files:
        table = read_csv(path)
        batch.problems += table.problems
        if table.problems and not table.header:
            continue
        expected, columns, reader = FINANCE_FILES[kind]
        if not expected(table):
            batch.problems.append(
                Problem(
                    table.name,
                    0,
                    ", ".join(columns),
                    ", ".join(table.header[:6]),
                    f"is not a {kind} file",
                    f"A {kind} file has the columns {', '.join(columns)}.",
                    code="unknown_file",
                )
            )
            continue
        reader(table, batch, reporting_currency() if kind == "rates" else currency)
    return batch
