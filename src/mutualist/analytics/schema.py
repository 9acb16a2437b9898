"""The analytics input schema: seven plain tables, documented in ``docs/metrics.md``.

Any backend that can hand Ibis these tables (DuckDB in memory or on Parquet, PostgreSQL,
Spark, a warehouse) can run every metric. Timestamps are naive UTC; money columns may be
float or decimal (metrics cast to float64 when they aggregate).
"""

from __future__ import annotations

from collections.abc import Mapping

import ibis
import ibis.expr.types as ir
import pyarrow as pa

TABLES: dict[str, dict[str, str]] = {
    "partners": {
        "partner_id": "int64",
        "name": "string",
        "types": "string",  # comma-separated partner types
        "status": "string",
        "tier": "string",
        "region": "string",
        "industries": "string",
        "technologies": "string",
        "practices": "string",
    },
    "accounts": {
        "account_id": "int64",
        "name": "string",
        "country": "string",
        "industry": "string",
        "size_band": "string",  # smb / mid_market / enterprise
        "lifecycle": "string",
    },
    "opportunities": {
        "opportunity_id": "int64",
        "account_id": "int64",
        "amount": "float64",
        "currency": "string",
        "acv": "float64",
        "stage": "string",
        "is_closed": "boolean",
        "is_won": "boolean",
        "created_at": "timestamp",
        "closed_at": "timestamp",  # null while open
        "type": "string",
        "lead_source": "string",
    },
    "involvements": {
        "opportunity_id": "int64",
        "partner_id": "int64",
        "role": "string",  # sourced influenced co_sell referral delivery technology
        "attached_at": "timestamp",
        "is_primary": "boolean",
    },
    "leads": {
        "lead_id": "int64",
        "created_at": "timestamp",
        "converted_at": "timestamp",  # null until converted
        "status": "string",
        "source": "string",  # partner_referral inbound cold_outbound event other
        "partner_id": "int64",  # null unless a partner referred it
    },
    "revenue_months": {
        "account_id": "int64",
        "month": "timestamp",  # first day of the month (a date column works too)
        "mrr": "float64",
        "currency": "string",
    },
    "costs": {
        "month": "timestamp",
        "category": "string",  # sales marketing partner_team mdf commissions tooling
        "amount": "float64",
        "currency": "string",
        "partner_id": "int64",  # null for costs not tied to one partner
        "program": "string",
    },
}

SIZE_BANDS: tuple[str, ...] = ("smb", "mid_market", "enterprise")
ROLES: tuple[str, ...] = ("sourced", "influenced", "co_sell", "referral", "delivery", "technology")
LEAD_SOURCES: tuple[str, ...] = ("partner_referral", "inbound", "cold_outbound", "event", "other")
COST_CATEGORIES: tuple[str, ...] = (
    "sales",
    "marketing",
    "partner_team",
    "mdf",
    "commissions",
    "tooling",
)
# Salesforce's default opportunity stages: anything else is flagged by the quality panel.
KNOWN_STAGES: tuple[str, ...] = (
    "Prospecting",
    "Qualification",
    "Needs Analysis",
    "Value Proposition",
    "Id. Decision Makers",
    "Perception Analysis",
    "Proposal/Price Quote",
    "Negotiation/Review",
    "Closed Won",
    "Closed Lost",
)

Tables = Mapping[str, ir.Table]


class SchemaError(ValueError):
    """A table or column the metrics need is missing."""


def validate(tables: Tables) -> None:
    """Fail early, naming the table and column, rather than deep inside a compiled query."""
    for name, columns in TABLES.items():
        if name not in tables:
            raise SchemaError(f"missing table {name!r}")
        have = set(tables[name].columns)
        lacking = [c for c in columns if c not in have]
        if lacking:
            raise SchemaError(f"table {name!r} lacks columns {lacking}")


def arrow_schema(name: str) -> pa.Schema:
    """The Arrow schema of one table (timestamps in microseconds, naive UTC)."""
    kinds = {
        "int64": pa.int64(),
        "float64": pa.float64(),
        "string": pa.string(),
        "boolean": pa.bool_(),
        "timestamp": pa.timestamp("us"),
    }
    return pa.schema([(c, kinds[k]) for c, k in TABLES[name].items()])


def empty_tables() -> dict[str, ir.Table]:
    """Zero-row tables of the schema (handy for tests and for a fresh install)."""
    return {name: ibis.memtable(arrow_schema(name).empty_table()) for name in TABLES}
