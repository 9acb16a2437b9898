"""A tier program over the shared personas: Acme (alice's) and Globex (bob's), both gold, with
a dated tier history, and a program whose thresholds the fixture's deals decide."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.core.cache import cache

from tests.conftest import T0, World

AS_OF = dt.date(2025, 6, 30)


@dataclass
class Tiered:
    world: World
    program: Any
    levels: dict[str, Any]


@pytest.fixture(autouse=True)
def fresh_engine_tables() -> None:
    """The metrics engine caches the app's tables by the newest audit id, which a rolled-back
    test can reuse: start every test from a cold cache."""
    from mutualist.insights import service

    service._tables = None
    cache.clear()


def history(partner: Any, tier: str, when: dt.datetime = T0) -> None:
    from mutualist.partners.models import TierChange

    TierChange.objects.create(partner=partner, tier=tier, effective_from=when, reason="initial")


@pytest.fixture
def tiered(world: World) -> Tiered:
    from mutualist.tiers import actions

    history(world.acme, "gold")
    history(world.globex, "gold")
    program = actions.create_program(world.cpo, {"name": "Partner program", "grace_days": 90})
    levels = {
        "registered": actions.add_level(
            world.cpo, program, {"tier": "registered", "rank": 1, "name": "Registered"}
        ),
        "silver": actions.add_level(
            world.cpo,
            program,
            {
                "tier": "silver",
                "rank": 2,
                "name": "Silver",
                "rules": [{"metric": "influenced_revenue", "operator": ">=", "threshold": "500"}],
            },
        ),
        "gold": actions.add_level(
            world.cpo,
            program,
            {
                "tier": "gold",
                "rank": 3,
                "name": "Gold",
                "rules": [
                    {"metric": "sourced_revenue", "operator": ">=", "threshold": "2000"},
                    {"metric": "won_deals", "operator": ">=", "threshold": "1"},
                ],
            },
        ),
    }
    actions.add_benefit(
        world.cpo,
        levels["gold"],
        {"kind": "discount", "value": Decimal("20"), "valid_from": "2025-01-01"},
    )
    return Tiered(world, program, levels)
