"""Monthly recurring revenue, churn and account lifecycle.

A customer's revenue comes in *spells*. A spell starts the month after a won deal closes,
lasts a geometric number of months (the planted monthly churn hazard, lower for accounts
whose first win was partner-attributed) and then stops: no more rows. A deal won after
the churn month starts a new spell (a win-back). Within a spell, MRR is the sum of ACV/12
of the deals won so far (renewals add nothing: they extend a contract), times organic
monthly growth (the planted expansion rate).

Spells are built in rounds, each vectorised over all accounts: one round per win-back, so
a handful of rounds in total.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import effects as fx
from .config import LIFECYCLES, OPP_TYPES, SynthConfig
from .timeline import Array, Clock, categorical, rng_for, segment_starts, to_datetime

_RENEWAL = OPP_TYPES.index("renewal")


@dataclass
class RevenueFrame:
    table: dict[str, Array]
    lifecycle: Array  # code into LIFECYCLES per account
    partner_attached: Array  # bool per account: first won deal was partner-attributed
    has_won: Array  # bool per account


@dataclass
class _Won:
    """Won deals sorted by (account, close month)."""

    account: Array
    month: Array  # close month index
    mrr: Array  # ACV / 12
    renewal: Array
    key: Array  # account * stride + month, sorted


def build_revenue(
    cfg: SynthConfig,
    clock: Clock,
    account: Array,
    closed: Array,
    is_won: Array,
    acv: Array,
    opp_type: Array,
    attributed: Array,
) -> RevenueFrame:
    rng = rng_for(cfg.seed, "revenue")
    n_acc, m = cfg.accounts, clock.months
    stride = m + 2
    won_idx = np.flatnonzero(is_won)
    order = won_idx[np.lexsort((closed[won_idx], account[won_idx]))]
    month = clock.month_of(closed[order])
    won = _Won(
        account=account[order],
        month=month,
        mrr=acv[order] / 12.0,
        renewal=opp_type[order] == _RENEWAL,
        key=account[order] * stride + month,
    )
    first = segment_starts(won.account)
    has_won = np.zeros(n_acc, dtype=bool)
    has_won[won.account[first]] = True
    partner_attached = np.zeros(n_acc, dtype=bool)
    partner_attached[won.account[first]] = attributed[order[first]]
    hazard = np.where(partner_attached, fx.CHURN_HAZARD["partner"], fx.CHURN_HAZARD["direct"])
    growth_mean = np.where(
        partner_attached, fx.EXPANSION_RATE["partner"], fx.EXPANSION_RATE["direct"]
    )
    growth = growth_mean + fx.EXPANSION_RATE_SD * rng.standard_normal(n_acc)
    spells, pending = _spells(rng, won, first, hazard, m, stride)
    table = _rows(cfg, clock, won, spells, growth, stride)
    in_last_month = np.zeros(n_acc, dtype=bool)
    in_last_month[spells.account[spells.end == m - 1]] = True
    lifecycle = np.where(
        has_won,
        np.where(
            in_last_month | pending, LIFECYCLES.index("customer"), LIFECYCLES.index("churned")
        ),
        LIFECYCLES.index("prospect"),
    )
    return RevenueFrame(
        table=table, lifecycle=lifecycle, partner_attached=partner_attached, has_won=has_won
    )


@dataclass
class _Spells:
    account: Array
    start: Array  # first revenue month
    end: Array  # last revenue month (clipped to the data's last month)


def _spells(
    rng: np.random.Generator, won: _Won, first: Array, hazard: Array, m: int, stride: int
) -> tuple[_Spells, Array]:
    pending = np.zeros(len(hazard), dtype=bool)
    acc, start = won.account[first], won.month[first] + 1
    parts: list[tuple[Array, Array, Array]] = []
    while len(acc):
        # A win in the data's last month starts revenue after the data ends.
        later = start > m - 1
        pending[acc[later]] = True
        acc, start = acc[~later], start[~later]
        if not len(acc):
            break
        end = start + rng.geometric(hazard[acc]) - 1
        parts.append((acc, start, np.minimum(end, m - 1)))
        churned = end < m - 1
        acc, end = acc[churned], end[churned]
        # Win-back: the first deal of the account won after its churn month.
        i = np.searchsorted(won.key, acc * stride + end + 1, side="left")
        i_safe = np.minimum(i, len(won.key) - 1)
        back = (i < len(won.key)) & (won.account[i_safe] == acc)
        acc, start = acc[back], won.month[i_safe[back]] + 1
    if not parts:
        parts = [(np.zeros(0, np.int64),) * 3]
    sp = _Spells(*(np.concatenate([p[k] for p in parts]).astype(np.int64) for k in range(3)))
    order = np.lexsort((sp.start, sp.account))
    return _Spells(sp.account[order], sp.start[order], sp.end[order]), pending


def _rows(
    cfg: SynthConfig, clock: Clock, won: _Won, sp: _Spells, growth: Array, stride: int
) -> dict[str, Array]:
    if not len(sp.account):
        sp = _Spells(*(np.zeros(0, np.int64),) * 3)
        won = _Won(*(np.zeros(0, t) for t in (np.int64, np.int64, float, bool, np.int64)))
    length = sp.end - sp.start + 1
    first_row = (np.cumsum(length) - length).astype(np.int64)
    n_rows = int(length.sum())
    spell_of_row = np.repeat(np.arange(len(length)), length)
    offset = np.arange(n_rows) - first_row[spell_of_row]
    month = sp.start[spell_of_row] + offset
    # Place each won deal's ACV/12 in the row of the month after it closed, if that month
    # falls inside one of the account's spells; renewals only count when they start one.
    effect = won.month + 1
    spell_key = sp.account * stride + sp.start
    j = np.searchsorted(spell_key, won.account * stride + effect, side="right") - 1
    j_safe = np.maximum(j, 0)
    inside = (
        (j >= 0)
        & (sp.account[j_safe] == won.account)
        & (effect <= sp.end[j_safe])
        & (~won.renewal | (effect == sp.start[j_safe]))
    )
    row = first_row[j_safe[inside]] + effect[inside] - sp.start[j_safe[inside]]
    delta = np.bincount(row, weights=won.mrr[inside], minlength=n_rows)
    running = np.cumsum(delta)
    # Per-spell running sum: subtract what had accumulated before each spell's first row.
    contract = running - np.repeat(running[first_row] - delta[first_row], length)
    account = sp.account[spell_of_row]
    mrr = np.round(contract * (1.0 + growth[account]) ** offset, 2)
    return {
        "account_id": account.astype(np.int64),
        "month": to_datetime(clock.edges[month]),
        "mrr": mrr,
        "currency": categorical([cfg.currency], np.zeros(n_rows, dtype=np.int64)),
    }
