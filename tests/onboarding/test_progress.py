from __future__ import annotations

import datetime as dt
from decimal import Decimal

from mutualist.cosell.models import DealRegistration, RegistrationRules
from mutualist.crm.models import PartnerInvolvement
from mutualist.onboarding import actions, progress
from mutualist.onboarding.models import Journey
from mutualist.partners.models import Partner
from tests.conftest import World, make_opportunity, make_partner
from tests.onboarding.conftest import put_in_onboarding, standard_template

START = dt.datetime(2025, 1, 10, tzinfo=dt.UTC)


def registration(partner: Partner, at: dt.datetime) -> DealRegistration:
    rules = RegistrationRules.objects.get_or_create(version=1)[0]
    return DealRegistration.objects.create(
        partner=partner,
        submitted_at=at,
        company_name="Hooli",
        country="US",
        contact_name="Gavin",
        product="Platform",
        amount=Decimal("1000"),
        currency="USD",
        expected_close=dt.date(2025, 6, 1),
        name_key="hooli",
        status="pending",
        rules=rules,
    )


def acme_journey(world: World) -> Journey:
    standard_template(world)
    put_in_onboarding(world.acme)
    return actions.start_journey(world.alice, world.acme, at=START)


def test_percent_overdue_and_next_due(world: World) -> None:
    journey = acme_journey(world)
    tasks = {t.title: t for t in journey.tasks.select_related("journey__partner")}
    actions.complete_task(world.alice, tasks["Kickoff call"])
    actions.complete_task(world.acme_user, tasks["Name contacts"])
    actions.skip_task(world.alice, tasks["Connector build"], "Resells only")
    figures = progress.of(journey, today=dt.date(2025, 1, 31))
    # Skipped tasks count neither way: 2 done of the 5 that remain to do.
    assert (figures.done, figures.total, figures.percent) == (2, 5, 40)
    assert [t.title for t in figures.overdue] == ["Sales training"]  # due 30 January
    assert figures.next_due is not None
    assert (figures.next_due.title, figures.next_due.due_on) == ("API keys", dt.date(2025, 2, 4))


def test_time_to_first_registered_deal_and_first_won_deal(world: World) -> None:
    journey = acme_journey(world)
    registration(world.acme, dt.datetime(2025, 1, 1, tzinfo=dt.UTC))  # before the start: ignored
    earlier_win = make_opportunity(
        world.acme_account,
        "Old win",
        is_closed=True,
        is_won=True,
        closed_at=dt.datetime(2025, 1, 5, tzinfo=dt.UTC),
    )
    PartnerInvolvement.objects.create(
        opportunity=earlier_win, partner=world.acme, role="sourced", attached_at=START
    )
    # Attached on the start day itself: a registered deal after 0 days (counted from the start).
    figures = progress.of(journey)
    assert figures.days_to_first_deal == 0
    # The world's Initech renewal (Acme co-sells it) was won on 1 March: 50 days after 10 January.
    assert figures.days_to_first_win == 50


def test_a_registration_before_any_involvement_counts(world: World) -> None:
    journey = acme_journey(world)
    PartnerInvolvement.objects.filter(partner=world.acme).update(
        attached_at=dt.datetime(2025, 2, 1, tzinfo=dt.UTC)
    )
    registration(world.acme, dt.datetime(2025, 1, 13, 9, tzinfo=dt.UTC))
    figures = progress.of(journey)
    assert (figures.days_to_first_deal, figures.days_to_first_win) == (3, 50)


def test_not_yet(world: World) -> None:
    standard_template(world)
    put_in_onboarding(world.globex)
    PartnerInvolvement.objects.filter(partner=world.globex).delete()
    journey = actions.start_journey(world.bob, world.globex, at=START)
    figures = progress.of(journey)
    assert (figures.days_to_first_deal, figures.days_to_first_win) == (None, None)


def _won_after(world: World, name: str, days: int | None, cancelled: bool = False) -> None:
    partner = put_in_onboarding(make_partner(name, world.alice))
    journey = actions.start_journey(world.alice, partner, at=START)
    if days is not None:
        opp = make_opportunity(
            world.acme_account,
            f"{name} win",
            is_closed=True,
            is_won=True,
            closed_at=START + dt.timedelta(days=days, hours=1),
        )
        PartnerInvolvement.objects.create(
            opportunity=opp, partner=partner, role="sourced", attached_at=START
        )
    if cancelled:
        actions.cancel_journey(world.alice, journey, "stopped")


def test_median_time_to_first_won_deal(world: World) -> None:
    standard_template(world)
    for name, days in (("P1", 10), ("P2", 20), ("P3", 40), ("P4", 90)):
        _won_after(world, name, days)
    _won_after(world, "P5", None)  # no win yet
    _won_after(world, "P6", 1, cancelled=True)  # cancelled journeys are left out
    assert progress.median_days_to_first_win() == progress.Median(days=None, n=4, journeys=5)
    _won_after(world, "P7", 30)
    assert progress.median_days_to_first_win() == progress.Median(days=30.0, n=5, journeys=6)
    for name, days in (("P8", 5), ("P9", 60), ("P10", 70), ("P11", 15)):
        _won_after(world, name, days)
    # 5 10 15 20 30 40 60 70 90: median 30; exact binomial 95% ranks 2nd and 8th (10 to 70)
    assert progress.median_days_to_first_win() == progress.Median(30.0, 9, 10, 10.0, 70.0)
