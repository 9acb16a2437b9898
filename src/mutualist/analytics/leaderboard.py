"""Partner leaderboard (gross view): every partner with a creditable involvement on a deal
closed in the period gets that deal, so totals may exceed the company numbers.

Raw per-partner win rates on a handful of deals are noise, so next to the Wilson interval
(hidden below ``min_closed``) each partner gets an empirical-Bayes rate: the posterior
under a beta prior fitted to all partners' won/closed counts (beta-binomial maximum
likelihood), which pulls small samples toward the ecosystem's typical rate.
"""

from __future__ import annotations

from typing import Any

from .attribution import AttributionRules
from .estimate import NOT_ENOUGH_DATA, Estimate
from .period import DateLike, Period
from .schema import Tables
from .snapshot import Snapshot, as_snapshot, in_range, rows
from .stats import BetaPrior, fit_beta_binomial, proportion

MIN_CLOSED = 10
GROSS_LABEL = "gross, may exceed 100%: one deal can credit several partners"


def _per_partner(snap: Snapshot, period: Period) -> list[dict[str, Any]]:
    credit = snap.credited
    closed = credit.filter(credit.is_closed & in_range(credit.closed_at, period.lo, period.hi))
    # A partner holding two roles on one deal still gets the deal once.
    deals = closed.select("partner_id", "opportunity_id", "is_won", "amount").distinct()
    agg = deals.group_by("partner_id").agg(
        closed=deals.count(),
        won=deals.is_won.sum(),
        won_revenue=deals.is_won.ifelse(deals.amount.fill_null(0.0), 0.0).sum(),
    )
    partners = snap.tables["partners"].select("partner_id", "name")
    return rows(agg.left_join(partners, "partner_id").drop("partner_id_right"))


def _double_credit(snap: Snapshot, period: Period) -> bool:
    credit = snap.credited
    won = credit.filter(credit.is_won & in_range(credit.closed_at, period.lo, period.hi))
    per_deal = won.select("opportunity_id", "partner_id").distinct()
    counts = per_deal.group_by("opportunity_id").agg(k=per_deal.count())
    return int(counts.filter(counts.k > 1).count().execute()) > 0


def _entry(r: dict[str, Any], prior: BetaPrior | None, min_closed: int) -> dict[str, Any]:
    won, closed = int(r["won"]), int(r["closed"])
    rate = proportion(won, closed, win=True)
    if closed < min_closed:
        rate = Estimate.missing(n=closed, method="wilson", won=won, closed=closed).with_note(
            f"fewer than {min_closed} closed deals"
        )
    shrunk = (
        prior.shrink(won, closed)
        if prior
        else Estimate.missing(n=closed, note=NOT_ENOUGH_DATA, won=won, closed=closed)
    )
    return {
        "partner_id": int(r["partner_id"]),
        "name": r["name"],
        "won_revenue": _cents(r["won_revenue"]),
        "won_deals": won,
        "closed_deals": closed,
        "win_rate": rate,
        "win_rate_shrunk": shrunk,
    }


def _cents(amount: float | None) -> float:
    # The engine sums floats in whatever order its threads finish, so the last digits of a
    # total vary from run to run; rounded to the cent, ranks and figures are reproducible.
    return round(float(amount or 0.0), 2)


def _rank_key(r: dict[str, Any]) -> tuple[float, int, int]:
    return (-_cents(r["won_revenue"]), -int(r["won"]), int(r["partner_id"]))


def leaderboard(
    tables: Tables | Snapshot,
    period: Period,
    as_of: DateLike,
    rules: AttributionRules | None = None,
    min_closed: int = MIN_CLOSED,
    limit: int | None = 50,
) -> dict[str, Any]:
    snap = as_snapshot(tables, as_of, rules)
    raw = _per_partner(snap, period)
    prior = fit_beta_binomial([int(r["won"]) for r in raw], [int(r["closed"]) for r in raw])
    # Rank first, then build entries for the partners shown only: each posterior interval
    # is two beta quantiles (scipy), about a millisecond, and there are 10,000 partners.
    ranked = sorted(raw, key=_rank_key)
    shown = ranked[:limit] if limit is not None else ranked
    entries = [_entry(r, prior, min_closed) for r in shown]
    out: dict[str, Any] = {
        "partners": entries,
        "total_partners": len(raw),
        "prior": {"alpha": prior.alpha, "beta": prior.beta, "mean": prior.mean} if prior else None,
        "min_closed": min_closed,
        "view": "gross",
    }
    if _double_credit(snap, period):
        out["label"] = GROSS_LABEL
    if not raw:
        out["note"] = NOT_ENOUGH_DATA
    return out
