"""The data as it stood at the as-of moment, shared by every metric of one board.

Each metric function accepts either the raw tables or a :class:`Snapshot`; ``board()``
builds one snapshot (optionally materialised with ``cache()``) so that the attribution join
runs once, not once per metric.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import cached_property
from typing import Any

import ibis.expr.types as ir

from . import attribution as attr
from .attribution import AttributionRules
from .period import DateLike, as_date, day_end
from .schema import Tables, validate

UNUSED_OPPORTUNITY_COLUMNS: tuple[str, ...] = ("stage", "type", "currency")


class Snapshot:
    """As-of views of the schema's tables plus the attribution bucket of every deal."""

    def __init__(
        self,
        tables: Tables,
        as_of: DateLike,
        rules: AttributionRules | None = None,
        cache: bool = False,
    ) -> None:
        validate(tables)
        self.tables: Mapping[str, ir.Table] = tables
        self.as_of: dt.date = as_date(as_of)
        self.hi: dt.datetime = day_end(self.as_of)  # exclusive end of the as-of day
        self.rules = rules or AttributionRules()
        self._cache = cache

    def _maybe_cache(self, table: ir.Table) -> ir.Table:
        # Materialise shared intermediate tables once per board (a temp table on DuckDB,
        # a cached DataFrame on Spark); plain expressions otherwise.
        return table.cache() if self._cache else table

    @cached_property
    def opportunities_as_of(self) -> ir.Table:
        """Every column of the opportunities as they stood at as-of, not materialised: for
        the rare reader of a column :attr:`opportunities` leaves out (each query over it
        reads the source again)."""
        return attr.opportunities_as_of(self.tables["opportunities"], self.hi)

    @cached_property
    def _dated_involvements(self) -> ir.Table:
        """Every involvement attached before the as-of moment with its deal's account and
        timing: the creditable ones and the post-close ones the quality panel counts, from
        one join with the deals instead of two."""
        dated = attr.dated_involvements(
            self.tables["involvements"], self.opportunities_as_of, self.hi, self.rules
        )
        # The deal's created_at only serves ``in_window``: not worth materialising.
        return self._maybe_cache(dated.drop("created_at"))

    @cached_property
    def involvements(self) -> ir.Table:
        """Valid (creditable) involvements with their deal's account and timing."""
        dated = self._dated_involvements
        return dated.filter(dated.before_close).drop("before_close")

    @cached_property
    def post_close_involvements(self) -> ir.Table:
        """The pitfall rows: involvements attached after their deal closed (never counted;
        the data-quality panel counts them)."""
        dated = self._dated_involvements
        return dated.filter(~dated.before_close).drop("before_close")

    @cached_property
    def opportunities(self) -> ir.Table:
        """As-of opportunities with ``bucket`` and ``partner_lead`` (a lead source in the
        rules' ``partner_lead_sources``), without the columns no metric reads from it
        (``UNUSED_OPPORTUNITY_COLUMNS``; the data-quality panel reads ``stage`` from the raw
        table, the currency check :attr:`opportunities_as_of`): writing the materialised
        copy is the single largest cost of a board, and it grows with every string column.
        The account's strata are not in it either: see :meth:`with_accounts`."""
        classified = attr.classify(self.opportunities_as_of, self.involvements, self.rules)
        # The lead source only matters as "a partner lead or not" (retention's attach
        # rule): a boolean costs far less to store than the string.
        flagged = classified.mutate(partner_lead=attr.partner_lead(classified, self.rules))
        return self._maybe_cache(flagged.drop("lead_source", *UNUSED_OPPORTUNITY_COLUMNS))

    def with_accounts(self, opps: ir.Table) -> ir.Table:
        """``opps`` (rows of :attr:`opportunities`) plus the account's ``size_band`` and
        ``industry``. Joined per stratified query, on the few deals of its period, rather
        than into the materialised table: probing every deal's account and storing two
        more string columns cost about as much as the rest of that table (10M deals)."""
        return attr.with_accounts(opps, self.tables["accounts"])

    @cached_property
    def credited(self) -> ir.Table:
        """Valid involvements joined with their deal's outcome, amount and bucket."""
        opp = self.opportunities.select("opportunity_id", "amount", "is_closed", "is_won", "bucket")
        inv = self.involvements.select(
            "opportunity_id",
            "partner_id",
            "role",
            "attached_at",
            "is_primary",
            "closed_at",
            "account_id",
        )
        return inv.join(opp, "opportunity_id")

    @cached_property
    def leads(self) -> ir.Table:
        leads = self.tables["leads"]
        leads = leads.filter(leads.created_at < self.hi)
        converted = leads.converted_at.notnull() & (leads.converted_at < self.hi)
        return leads.mutate(converted_at=converted.ifelse(leads.converted_at, None))

    @cached_property
    def revenue(self) -> ir.Table:
        rev = self.tables["revenue_months"]
        return rev.filter(rev.month < self.hi).mutate(mrr=rev.mrr.cast("float64"))

    @cached_property
    def costs(self) -> ir.Table:
        costs = self.tables["costs"]
        return costs.filter(costs.month < self.hi).mutate(amount=costs.amount.cast("float64"))


def as_snapshot(
    tables: Tables | Snapshot, as_of: DateLike, rules: AttributionRules | None = None
) -> Snapshot:
    if isinstance(tables, Snapshot):
        if tables.as_of != as_date(as_of):
            raise ValueError(f"snapshot is as of {tables.as_of}, not {as_date(as_of)}")
        return tables
    return Snapshot(tables, as_of, rules)


def rows(expr: ir.Table) -> list[dict[str, Any]]:
    """Execute a *small* aggregated expression into plain Python dicts (no pandas NaN)."""
    return expr.to_pyarrow().to_pylist()


def in_range(col: ir.TimestampValue, lo: dt.datetime, hi: dt.datetime) -> ir.BooleanValue:
    return (col >= lo) & (col < hi)
