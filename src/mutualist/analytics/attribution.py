"""Attribution: put every opportunity in exactly one bucket, as of a date.

Rule (documented in docs/metrics.md, same as the generator's truth):

* ``sourced``: a sourcing involvement (role in ``sourcing_roles``) attached at or before
  ``created_at + window_days``, or a lead source in ``partner_lead_sources``;
* ``influenced``: otherwise, any involvement attached after that window;
* ``unattributed``: everything else.

An involvement only counts if it was attached no later than the deal's close (or the as-of
moment for open deals): partners tagged onto a won deal afterwards must not earn credit.
Pure Ibis expressions, so the same rule compiles for DuckDB, PostgreSQL or Spark.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

SOURCED, INFLUENCED, UNATTRIBUTED = "sourced", "influenced", "unattributed"
BUCKETS: tuple[str, ...] = (SOURCED, INFLUENCED, UNATTRIBUTED)
PARTNER = "partner"  # sourced + influenced
PARTNER_BUCKETS: tuple[str, ...] = (SOURCED, INFLUENCED)


@dataclass(frozen=True)
class AttributionRules:
    window_days: int = 30
    sourcing_roles: tuple[str, ...] = ("sourced", "referral")
    partner_lead_sources: tuple[str, ...] = ("Partner Referral",)
    # A non-sourcing partner (co-sell, delivery, ...) attached inside the window is, by the
    # default rule, neither sourcing nor influencing: it was there from the start but did
    # not bring the deal. Set True to count it as influence instead.
    early_helpers_influence: bool = False


def opportunities_as_of(opp: ir.Table, hi: dt.datetime) -> ir.Table:
    """Opportunities created before ``hi`` as they stood then: a deal closed after the
    as-of moment is still open, and money columns are float64 whatever the source type."""
    opp = opp.filter(opp.created_at < hi)
    closed = opp.is_closed.fill_null(False) & opp.closed_at.notnull() & (opp.closed_at < hi)
    return opp.mutate(
        is_closed=closed,
        is_won=closed & opp.is_won.fill_null(False),
        closed_at=ibis.ifelse(closed, opp.closed_at, ibis.null("timestamp")),
        amount=opp.amount.cast("float64"),
        acv=opp.acv.cast("float64"),
    )


def valid_involvements(
    inv: ir.Table, opps: ir.Table, hi: dt.datetime, rules: AttributionRules
) -> ir.Table:
    """Involvements that may earn credit: attached before the as-of moment and not after
    the deal closed; ``in_window`` marks attachment within the sourcing window."""
    deal = opps.select("opportunity_id", "created_at", "closed_at")
    joined = inv.join(deal, "opportunity_id")
    before_close = joined.closed_at.isnull() | (joined.attached_at <= joined.closed_at)
    joined = joined.filter((joined.attached_at < hi) & before_close)
    window = ibis.interval(days=rules.window_days)
    return joined.mutate(in_window=joined.attached_at <= joined.created_at + window)


def post_close_involvements(inv: ir.Table, opps: ir.Table, hi: dt.datetime) -> ir.Table:
    """The pitfall rows: involvements attached after their deal closed (never counted)."""
    deal = opps.select("opportunity_id", "closed_at")
    joined = inv.join(deal, "opportunity_id")
    late = joined.closed_at.notnull() & (joined.attached_at > joined.closed_at)
    return joined.filter(late & (joined.attached_at < hi))


def classify(opps: ir.Table, valid: ir.Table, rules: AttributionRules) -> ir.Table:
    """``opps`` plus a ``bucket`` column (sourced / influenced / unattributed)."""
    sourcing = valid.in_window & valid.role.isin(list(rules.sourcing_roles))
    influencing = ~valid.in_window
    if rules.early_helpers_influence:
        influencing = influencing | ~valid.role.isin(list(rules.sourcing_roles))
    flags = valid.group_by("opportunity_id").agg(
        has_sourcing=sourcing.any(), has_influence=influencing.any()
    )
    joined = opps.left_join(flags, "opportunity_id").drop("opportunity_id_right")
    by_lead = joined.lead_source.isin(list(rules.partner_lead_sources)).fill_null(False)
    sourced = joined.has_sourcing.fill_null(False) | by_lead
    influenced = joined.has_influence.fill_null(False)
    bucket = ibis.cases((sourced, SOURCED), (influenced, INFLUENCED), else_=UNATTRIBUTED)
    return joined.mutate(bucket=bucket).drop("has_sourcing", "has_influence")


def with_accounts(opps: ir.Table, accounts: ir.Table) -> ir.Table:
    """Add the account's size band and industry (the confounders we stratify on)."""
    acc = accounts.select(
        "account_id",
        size_band=accounts.size_band.fill_null("unknown"),
        industry=accounts.industry.fill_null("unknown"),
    )
    return (
        opps.left_join(acc, "account_id")
        .drop("account_id_right")
        .mutate(
            size_band=ibis._.size_band.fill_null("unknown"),
            industry=ibis._.industry.fill_null("unknown"),
        )
    )
