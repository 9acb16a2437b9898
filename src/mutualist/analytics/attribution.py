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


def dated_involvements(
    inv: ir.Table, opps: ir.Table, hi: dt.datetime, rules: AttributionRules
) -> ir.Table:
    """Involvements attached before the as-of moment, with their deal's account and timing;
    ``in_window`` marks attachment within the sourcing window and ``before_close`` no later
    than the deal's close (always, for open deals). The deal's ``account_id`` comes along
    (an integer, cheap to carry) so that account-level metrics need no second join."""
    deal = opps.select("opportunity_id", "account_id", "created_at", "closed_at")
    joined = inv.join(deal, "opportunity_id")
    joined = joined.filter(joined.attached_at < hi)
    window = ibis.interval(days=rules.window_days)
    return joined.mutate(
        in_window=joined.attached_at <= joined.created_at + window,
        before_close=joined.closed_at.isnull() | (joined.attached_at <= joined.closed_at),
    )


def partner_lead(opps: ir.Table, rules: AttributionRules) -> ir.BooleanColumn:
    """Whether each deal's lead source is one of the rules' partner lead sources."""
    return opps.lead_source.isin(list(rules.partner_lead_sources)).fill_null(False)


def classify(opps: ir.Table, valid: ir.Table, rules: AttributionRules) -> ir.Table:
    """``opps`` plus a ``bucket`` column (sourced / influenced / unattributed)."""
    sourcing = valid.in_window & valid.role.isin(list(rules.sourcing_roles))
    influencing = ~valid.in_window
    if rules.early_helpers_influence:
        influencing = influencing | ~valid.role.isin(list(rules.sourcing_roles))
    # Membership tests (semi joins) rather than per-deal flags grouped and left-joined:
    # the same answer without a group-by over every involvement (about 12% of the
    # materialised deals' cost at 10M). A NULL from ``isin`` acts as false in the cases.
    sourced_ids = valid.filter(sourcing).opportunity_id
    influenced_ids = valid.filter(influencing).opportunity_id
    by_lead = partner_lead(opps, rules)
    bucket = ibis.cases(
        (opps.opportunity_id.isin(sourced_ids) | by_lead, SOURCED),
        (opps.opportunity_id.isin(influenced_ids), INFLUENCED),
        else_=UNATTRIBUTED,
    )
    return opps.mutate(bucket=bucket)


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
