"""Orchestration: run the table builders in dependency order and assemble the truth."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .accounts import build_account_base, finalize_accounts
from .config import SynthConfig
from .costs import build_costs
from .leads import build_leads
from .opportunities import UNATTRIBUTED, build_opportunities
from .partners import build_partners
from .revenue import build_revenue
from .timeline import Array, Clock
from .truth import build_truth

Progress = Callable[[str, int, int], None]
STEPS = ("partners", "accounts", "opportunities", "leads", "revenue", "costs", "truth")


@dataclass
class Ecosystem:
    """Columnar tables (table -> column -> 1-D array) plus the JSON ground truth."""

    config: SynthConfig
    tables: dict[str, dict[str, Array]]
    truth: dict[str, Any]


def generate(config: SynthConfig, progress: Progress | None = None) -> Ecosystem:
    """Generate a whole ecosystem. Same config (incl. seed) -> identical tables.

    ``progress(step, done, total)`` is called after each step completes, ``step`` being
    the name of the step just finished (``done`` of ``total`` steps done).
    """

    def tick(step: str) -> None:
        if progress is not None:
            progress(step, STEPS.index(step) + 1, len(STEPS))

    clock = Clock.from_config(config)
    partners = build_partners(config, clock)
    tick("partners")
    accounts = build_account_base(config)
    tick("accounts")
    opps = build_opportunities(config, clock, accounts, partners)
    tick("opportunities")
    leads = build_leads(config, clock, partners, opps, accounts.name)
    tick("leads")
    revenue = build_revenue(
        config,
        clock,
        opps.table["account_id"],
        opps.closed,
        opps.table["is_won"],
        opps.table["acv"],
        opps.opp_type,
        opps.bucket != UNATTRIBUTED,
    )
    tick("revenue")
    costs = build_costs(config, clock, partners, opps, revenue.table)
    tick("costs")
    account_table = finalize_accounts(
        config,
        clock,
        accounts,
        opps.table["account_id"],
        opps.created,
        leads.account,
        leads.converted,
        revenue.lifecycle,
    )
    tables = {
        "partners": partners.table,
        "partner_status_history": partners.status_history,
        "partner_tier_history": partners.tier_history,
        "accounts": account_table,
        "opportunities": opps.table,
        "involvements": opps.involvements,
        "leads": leads.table,
        "revenue_months": revenue.table,
        "costs": costs,
    }
    active = partners.table["status"] == "active"
    growth = {
        str(ext): float(g)
        for ext, g in zip(
            partners.table["external_id"][active].tolist(),
            partners.growth[active].tolist(),
            strict=True,
        )
    }
    truth = build_truth(config, tables, growth, opps.stats)
    tick("truth")
    return Ecosystem(config=config, tables=tables, truth=truth)
