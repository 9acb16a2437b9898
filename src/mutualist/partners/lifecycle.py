"""The lifecycle board: partners by stage, how long each has been there, and which are stuck.

A partner is stuck when it has stayed in a stage longer than that stage usually takes; the
limits below are the defaults a partner programme starts from (an evaluation that drags past two
months, a negotiation past three, onboarding past three, a prospect nobody looked at in half a
year, an inactive partner nobody reactivated or exited in half a year).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from mutualist.partners.choices import Status
from mutualist.partners.models import Partner

STUCK_AFTER_DAYS: dict[str, int | None] = {
    Status.PROSPECT: 180,
    Status.EVALUATING: 60,
    Status.NEGOTIATING: 90,
    Status.ONBOARDING: 90,
    Status.ACTIVE: None,  # being active is the goal, not a stage to leave
    Status.INACTIVE: 180,
    Status.EXITED: None,
}
CARDS_PER_COLUMN = 40


@dataclass(frozen=True)
class Card:
    partner: Partner
    days: int
    stuck: bool


@dataclass
class Column:
    status: str
    label: str
    stuck_after: int | None
    cards: list[Card] = field(default_factory=list)
    count: int = 0
    stuck_count: int = 0
    median_days: float | None = None  # None under 3 partners: not enough to summarise

    @property
    def hidden(self) -> int:
        return self.count - len(self.cards)


def days_in_stage(partner: Partner, now: datetime) -> int:
    return max(0, (now - partner.status_since).days)


def is_stuck(status: str, days: int) -> bool:
    limit = STUCK_AFTER_DAYS.get(status)
    return limit is not None and days > limit


def board(
    partners: QuerySet[Partner], *, stuck_only: bool = False, now: datetime | None = None
) -> list[Column]:
    """One column per stage; stuck partners first, then the longest in stage."""
    now = now or timezone.now()
    columns = {s.value: Column(s.value, s.label, STUCK_AFTER_DAYS[s.value]) for s in Status}
    everyone: dict[str, list[Card]] = {s: [] for s in columns}
    for partner in partners.select_related("owner").order_by("status_since", "pk"):
        days = days_in_stage(partner, now)
        everyone[partner.status].append(Card(partner, days, is_stuck(partner.status, days)))
    for status, cards in everyone.items():
        column = columns[status]
        column.count = len(cards)
        column.stuck_count = sum(c.stuck for c in cards)
        if len(cards) >= 3:
            column.median_days = statistics.median(c.days for c in cards)
        shown = [c for c in cards if c.stuck] if stuck_only else cards
        shown.sort(key=lambda c: (not c.stuck, -c.days))
        column.cards = shown[:CARDS_PER_COLUMN]
        if stuck_only:
            column.count = len(shown)
    return list(columns.values())
