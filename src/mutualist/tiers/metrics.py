"""The measures a tier rule can test, by key. Three sources:

- `scorecard`: one partner's figures from the metrics engine (`insights.service.scorecard_for`,
  the same numbers as the partner's scorecard page), over the twelve months up to the as-of day;
- `crm`: sourced and influenced won revenue per partner, read from the CRM tables;
- `fact`: facts staff record by hand (`PartnerFact`): certifications held, customer satisfaction.

A rule on a key that is not here is refused when the rule is saved, so evaluation never meets
an unknown metric.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from mutualist.analytics import Period
from mutualist.crm.models import PartnerInvolvement
from mutualist.tiers.models import PartnerFact

# Same defaults as the engine's attribution (docs/metrics.md): a sourcing involvement counts
# when attached within 30 days of the deal's creation, and nothing attached after close counts.
SOURCING_ROLES = frozenset({"sourced", "referral"})
SOURCING_WINDOW = dt.timedelta(days=30)


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    source: str  # scorecard | crm | fact
    unit: str
    read: Callable[[dict[str, Any]], Any] | None = None


def _estimate(value: Any) -> Any:
    """Rates in the scorecard are estimates {value, low, high, n, ...}; a rule tests the value."""
    return value.get("value") if isinstance(value, dict) else value


def _card(section: str, name: str) -> Callable[[dict[str, Any]], Any]:
    return lambda card: _estimate(card.get(section, {}).get(name))


METRICS: dict[str, Metric] = {
    m.key: m
    for m in [
        Metric("sourced_revenue", "Sourced won revenue (12 months)", "crm", "USD"),
        Metric("influenced_revenue", "Influenced won revenue (12 months)", "crm", "USD"),
        Metric(
            "won_revenue",
            "Won revenue (12 months)",
            "scorecard",
            "USD",
            _card("sell", "won_revenue"),
        ),
        Metric(
            "won_deals", "Won deals (12 months)", "scorecard", "deals", _card("sell", "won_deals")
        ),
        Metric("win_rate", "Win rate", "scorecard", "share", _card("sell", "win_rate")),
        Metric(
            "yoy_growth", "Year-on-year growth", "scorecard", "ratio", _card("sell", "yoy_growth")
        ),
        Metric(
            "leads_referred",
            "Leads referred",
            "scorecard",
            "leads",
            _card("market", "leads_referred"),
        ),
        Metric(
            "lead_conversion",
            "Referred lead conversion",
            "scorecard",
            "share",
            _card("market", "lead_conversion"),
        ),
        Metric(
            "mdf_spend",
            "MDF spent on the partner",
            "scorecard",
            "USD",
            _card("market", "mdf_spend"),
        ),
        Metric(
            "technology_win_rate",
            "Win rate as technology partner",
            "scorecard",
            "share",
            _card("build", "deals_as_technology_partner"),
        ),
        Metric(
            "delivery_win_rate",
            "Win rate as delivery partner",
            "scorecard",
            "share",
            _card("serve", "deals_as_delivery_partner"),
        ),
        Metric("certifications", "Certifications held (recorded)", "fact", "count"),
        Metric("csat", "Customer satisfaction (recorded)", "fact", "score"),
    ]
}
FACT_KEYS = tuple(k for k, m in METRICS.items() if m.source == "fact")


def trailing_year(as_of: dt.date) -> Period:
    """The twelve months up to and including `as_of` (the scorecard's default period)."""
    try:
        year_before = as_of.replace(year=as_of.year - 1)
    except ValueError:  # 29 February
        year_before = as_of.replace(year=as_of.year - 1, day=28)
    return Period(year_before + dt.timedelta(days=1), as_of)


def _utc(day: dt.date, end: bool = False) -> dt.datetime:
    moment = dt.time.max if end else dt.time.min
    return dt.datetime.combine(day, moment, tzinfo=dt.UTC)


def won_deal_kinds(
    period: Period, partner_id: int | None = None
) -> dict[tuple[int, int], tuple[str, Decimal]]:
    """{(partner_id, opportunity_id): ("sourced" | "influenced", amount)} over deals won in the
    period, for every partner or one.

    A partner sourced a deal when it has a sourcing involvement attached within the window;
    it influenced one when it has any other involvement attached no later than the close.
    Each deal counts once per partner, at its full amount (partners are not split).
    """
    rows = PartnerInvolvement.objects.filter(
        opportunity__is_won=True,
        opportunity__closed_at__gte=_utc(period.start),
        opportunity__closed_at__lte=_utc(period.end, end=True),
    )
    if partner_id is not None:
        rows = rows.filter(partner_id=partner_id)
    kinds: dict[tuple[int, int], tuple[str, Decimal]] = {}
    for partner, opp_id, role, attached, amount, created, closed in rows.values_list(
        "partner_id",
        "opportunity_id",
        "role",
        "attached_at",
        "opportunity__amount",
        "opportunity__created_at",
        "opportunity__closed_at",
    ):
        if closed is None or attached > closed:
            continue  # attached after the win: never credited
        sourced = role in SOURCING_ROLES and attached <= created + SOURCING_WINDOW
        previous = kinds.get((partner, opp_id))
        if previous is None or (sourced and previous[0] != "sourced"):
            kinds[(partner, opp_id)] = (
                "sourced" if sourced else "influenced",
                amount or Decimal(0),
            )
    return kinds


def revenue_by_partner(period: Period) -> dict[int, dict[str, float]]:
    """{partner_id: {sourced_revenue, influenced_revenue}} over deals won in the period."""
    totals: dict[int, dict[str, float]] = defaultdict(
        lambda: {"sourced_revenue": 0.0, "influenced_revenue": 0.0}
    )
    for (partner_id, _), (kind, amount) in won_deal_kinds(period).items():
        totals[partner_id][f"{kind}_revenue"] += float(amount)
    return dict(totals)


def fact_on(partner_id: int, key: str, day: dt.date) -> float | None:
    """The newest recorded fact of `key` on or before `day`, or None if none was recorded."""
    fact = (
        PartnerFact.objects.filter(partner_id=partner_id, key=key, as_of__lte=day)
        .order_by("-as_of", "-id")
        .first()
    )
    return float(fact.value) if fact else None


class Measures:
    """Reads metric values for many partners on one day, computing each source once."""

    def __init__(self, as_of: dt.date) -> None:
        self.as_of = as_of
        self.period = trailing_year(as_of)
        self._revenue: dict[int, dict[str, float]] | None = None
        self._cards: dict[int, dict[str, Any]] = {}

    def value(self, key: str, partner_id: int) -> float | None:
        metric = METRICS[key]
        if metric.source == "fact":
            return fact_on(partner_id, key, self.as_of)
        if metric.source == "crm":
            if self._revenue is None:
                self._revenue = revenue_by_partner(self.period)
            return self._revenue.get(partner_id, {}).get(key, 0.0)
        assert metric.read is not None
        raw = metric.read(self._card(partner_id))
        return None if raw is None else float(raw)

    def _card(self, partner_id: int) -> dict[str, Any]:
        if partner_id not in self._cards:
            from mutualist.insights.service import scorecard_for

            self._cards[partner_id] = scorecard_for(partner_id, self.period, self.as_of)
        return self._cards[partner_id]
