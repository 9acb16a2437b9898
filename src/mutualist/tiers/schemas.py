"""The JSON shapes of the tiers API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ninja import Field, Schema


class TierRuleOut(Schema):
    id: int
    metric: str
    operator: str
    threshold: Decimal
    note: str


class BenefitOut(Schema):
    id: int
    kind: str
    value: Decimal
    valid_from: dt.date
    valid_to: dt.date | None


class LevelOut(Schema):
    id: int
    tier: str
    rank: int
    name: str
    rules: list[TierRuleOut]
    benefits: list[BenefitOut]


class ProgramOut(Schema):
    id: int
    name: str
    active: bool
    grace_days: int
    levels: list[LevelOut]


class EvaluationOut(Schema):
    id: int
    partner_id: int
    program_id: int
    as_of: dt.date
    current_tier: str
    eligible_tier: str
    details: list[dict[str, Any]]
    computed_at: dt.datetime


class ProposalOut(Schema):
    id: int
    partner_id: int
    program_id: int
    evaluation_id: int | None
    from_tier: str
    to_tier: str
    reason: str
    status: str
    proposed_at: dt.datetime
    effective_on: dt.date
    grace_until: dt.date | None
    decided_by_id: int | None
    decided_at: dt.datetime | None
    decision_note: str
    applied_at: dt.datetime | None


class DecisionIn(Schema):
    note: str = ""


class TierChangeOut(Schema):
    tier: str
    effective_from: dt.datetime
    reason: str


class TierHistoryOut(Schema):
    partner_id: int
    tier: str
    on: dt.date
    benefits: list[BenefitOut]
    history: list[TierChangeOut]


# Inputs. Numbers and days also accept strings: the actions parse them and answer 422 naming
# the field, with a message saying how to fix it.


class ProgramIn(Schema):
    name: str
    grace_days: int | str = 90


class TierRuleIn(Schema):
    metric: str
    operator: str = ">="
    threshold: Decimal | str
    note: str = ""


class LevelIn(Schema):
    tier: str
    rank: int | str
    name: str = ""
    rules: list[TierRuleIn] = Field(default_factory=list)


class RulesIn(Schema):
    """The level's complete rules: the ones not listed are removed. Required (`[]` opens the
    level to every active partner)."""

    rules: list[TierRuleIn] | None = None


class BenefitIn(Schema):
    kind: str
    value: Decimal | str
    valid_from: dt.date | str
    valid_to: dt.date | str | None = None


class FactIn(Schema):
    key: str
    value: Decimal | str
    as_of: dt.date | str | None = None
    note: str = ""


class FactOut(Schema):
    id: int
    partner_id: int
    key: str
    value: Decimal
    as_of: dt.date
    note: str
    recorded_by_id: int | None
    recorded_at: dt.datetime
