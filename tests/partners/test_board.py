"""The lifecycle board: stages, days in stage, stuck partners."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from mutualist.partners import lifecycle
from mutualist.partners.models import Partner
from tests.conftest import T0, World, make_partner


def test_columns_count_days_and_flag_stuck_partners(world: World) -> None:
    now = T0 + dt.timedelta(days=100)
    slow = make_partner("Slowpoke", world.alice)
    Partner.objects.filter(pk=slow.pk).update(
        status="evaluating", status_since=T0 + dt.timedelta(days=10)
    )
    fresh = make_partner("Freshco", world.alice)
    Partner.objects.filter(pk=fresh.pk).update(
        status="evaluating", status_since=T0 + dt.timedelta(days=80)
    )
    columns = {c.status: c for c in lifecycle.board(Partner.objects.all(), now=now)}
    evaluating = columns["evaluating"]
    assert [(c.partner.name, c.days, c.stuck) for c in evaluating.cards] == [
        ("Slowpoke", 90, True),
        ("Freshco", 20, False),
    ]
    assert (evaluating.count, evaluating.stuck_count, evaluating.median_days) == (2, 1, None)
    active = columns["active"]
    assert active.count == 2 and active.stuck_count == 0  # Acme and Globex: active is never stuck
    assert active.median_days is None
    stuck = {c.status: c for c in lifecycle.board(Partner.objects.all(), stuck_only=True, now=now)}
    assert [c.partner.name for c in stuck["evaluating"].cards] == ["Slowpoke"]
    assert stuck["active"].count == 0


def test_board_page_filters_and_exports(world: World) -> None:
    client = world.client_for(world.ann)
    page = client.get(reverse("partner-board") + "?q=acm")
    assert page.status_code == 200
    assert b"Acme" in page.content and b"Globex" not in page.content
    export = client.get(reverse("partner-board") + "?format=csv").content.decode().splitlines()
    assert export[0] == "id,name,status,days_in_stage,stuck,tier,owner" and len(export) == 3
    assert world.client_for(world.acme_user).get(reverse("partner-board")).status_code == 404
