"""Targets tracked against actuals per review period: the periods, each metric's reading, the
status rules (pro-rated totals, levels, rates judged by their interval), and KPIs with no
metric."""

from __future__ import annotations

import datetime as dt
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from mutualist.agreements import api as progress_api
from mutualist.agreements import progress
from mutualist.agreements import views as progress_views
from mutualist.agreements.models import Target
from mutualist.agreements.progress import review_periods, target_progress
from mutualist.agreements.terms import clean_kpis
from mutualist.analytics import Period
from mutualist.crm.models import PartnerInvolvement
from mutualist.lib.errors import ValidationFailed
from mutualist.tiers.models import PartnerFact
from tests.agreements.helpers import START, Approvers, make_approvers, make_template, signed
from tests.conftest import World, make_opportunity

KPIS = [
    {
        "name": "Sourced pipeline",
        "metric_key": "sourced_pipeline",
        "target": "500000",
        "unit": "USD",
        "cadence": "quarterly",
    },
    {"name": "Win rate", "metric_key": "win_rate", "target": "0.5", "cadence": "quarterly"},
    {
        "name": "Certified sellers",
        "metric_key": "certifications",
        "target": "2",
        "cadence": "annual",
    },
    {"name": "Executive sponsor", "target": "1", "cadence": "annual"},
]


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


@pytest.fixture
def targets(world: World) -> dict[str, Target]:
    approvers: Approvers = make_approvers()
    make_template(world.cpo, kpis=KPIS)
    agreement = signed(world.alice, world.acme, approvers)
    return {t.metric_key or "manual": t for t in Target.objects.filter(agreement=agreement)}


def opportunity(world: World, name: str, created: str, amount: int, **kwargs: object) -> object:
    return make_opportunity(
        world.acme_account, name, created_at=at(created), amount=Decimal(amount), **kwargs
    )


def involve(opp: object, partner: object, role: str, attached: str) -> None:
    PartnerInvolvement.objects.create(
        opportunity=opp, partner=partner, role=role, attached_at=at(attached)
    )


@pytest.fixture
def pipeline(world: World, targets: dict[str, Target]) -> None:
    """Acme sources $300k in Q1 2026: two deals inside the window, three that do not count."""
    involve(opportunity(world, "p1", "2026-01-10", 200_000), world.acme, "sourced", "2026-01-10")
    involve(opportunity(world, "p2", "2026-02-01", 100_000), world.acme, "referral", "2026-02-06")
    # sourced 40 days after creation: outside the 30-day window, so not Acme's pipeline
    involve(opportunity(world, "late", "2026-02-03", 400_000), world.acme, "sourced", "2026-03-15")
    involve(
        opportunity(world, "infl", "2026-02-05", 50_000), world.acme, "influenced", "2026-02-05"
    )
    involve(opportunity(world, "gx", "2026-02-07", 70_000), world.globex, "sourced", "2026-02-07")


def test_review_periods_follow_the_cadence_from_the_start() -> None:
    assert review_periods(dt.date(2026, 3, 15), dt.date(2027, 3, 14), "quarterly") == [
        (dt.date(2026, 3, 15), dt.date(2026, 6, 14)),
        (dt.date(2026, 6, 15), dt.date(2026, 9, 14)),
        (dt.date(2026, 9, 15), dt.date(2026, 12, 14)),
        (dt.date(2026, 12, 15), dt.date(2027, 3, 14)),
    ]
    # the last period is cut at the agreement's end; month ends clamp (31 Jan + 1 month)
    assert review_periods(dt.date(2026, 1, 31), dt.date(2026, 4, 10), "monthly") == [
        (dt.date(2026, 1, 31), dt.date(2026, 2, 27)),
        (dt.date(2026, 2, 28), dt.date(2026, 3, 30)),
        (dt.date(2026, 3, 31), dt.date(2026, 4, 10)),
    ]
    assert review_periods(START, dt.date(2026, 12, 31), "annual") == [
        (START, dt.date(2026, 12, 31))
    ]


@pytest.mark.usefixtures("pipeline")
def test_a_running_total_is_judged_against_the_pro_rated_target(
    targets: dict[str, Target],
) -> None:
    # 14 February: day 45 of Q1's 90, so $250k expected; $300k sourced
    (q1,) = target_progress(targets["sourced_pipeline"], dt.date(2026, 2, 14))
    assert (q1.start, q1.end, q1.running) == (START, dt.date(2026, 3, 31), True)
    assert q1.reading.value == 300_000.0 and q1.reading.n == 2
    assert q1.expected == pytest.approx(250_000.0)
    assert (q1.status, q1.attainment) == ("on_track", pytest.approx(0.6))
    # 20 March: day 79, $438,889 expected, still $300k
    (q1,) = target_progress(targets["sourced_pipeline"], dt.date(2026, 3, 20))
    assert q1.status == "behind" and q1.expected == pytest.approx(500_000 * 79 / 90)


@pytest.mark.usefixtures("pipeline")
def test_an_ended_period_is_met_or_missed_and_the_next_one_runs(
    world: World, targets: dict[str, Target]
) -> None:
    q1, q2 = target_progress(targets["sourced_pipeline"], dt.date(2026, 4, 10))
    assert (q1.running, q1.status, q1.expected, q1.reading.value) == (
        False,
        "missed",
        None,
        300_000.0,
    )
    assert (q2.start, q2.running, q2.reading.value, q2.status) == (
        dt.date(2026, 4, 1),
        True,
        0.0,
        "behind",
    )
    involve(opportunity(world, "big", "2026-04-02", 600_000), world.acme, "sourced", "2026-04-02")
    q2 = target_progress(targets["sourced_pipeline"], dt.date(2026, 4, 10))[1]
    assert (q2.status, q2.reading.n) == ("met", 1)


def test_a_win_rate_needs_enough_deals_and_is_judged_by_its_interval(
    world: World, targets: dict[str, Target]
) -> None:
    def closed(name: str, won: bool) -> None:
        opp = opportunity(
            world,
            name,
            "2026-01-05",
            10_000,
            is_closed=True,
            is_won=won,
            closed_at=at("2026-02-20"),
        )
        involve(opp, world.acme, "influenced", "2026-01-06")

    for i in range(3):
        closed(f"w{i}", True)
    (q1,) = target_progress(targets["win_rate"], dt.date(2026, 3, 31))
    assert (q1.status, q1.reading.value, q1.reading.n) == ("no_data", None, 3)
    assert q1.reading.note == "not enough data: 3 closed deal(s)"
    for i in range(3, 9):
        closed(f"w{i}", True)
    closed("lost", False)
    # 9 won of 10: Wilson 95% interval 0.596 to 0.982, all above the 0.5 target
    (q1,) = target_progress(targets["win_rate"], dt.date(2026, 3, 31))
    assert q1.reading.value == pytest.approx(0.9) and q1.reading.n == 10
    assert q1.reading.low == pytest.approx(0.5958, abs=1e-4)
    assert q1.reading.high == pytest.approx(0.9821, abs=1e-4)
    assert q1.status == "met"
    for i in range(4):
        closed(f"lost{i}", False)
    # 9 of 14: 0.643, interval 0.388 to 0.837 straddles 0.5
    (q1,) = target_progress(targets["win_rate"], dt.date(2026, 3, 31))
    assert (q1.status, q1.reading.n) == ("not_conclusive", 14)


def test_a_level_is_read_at_the_period_end_from_recorded_facts(
    world: World, targets: dict[str, Target]
) -> None:
    (year,) = target_progress(targets["certifications"], dt.date(2026, 5, 1))
    assert (year.status, year.reading.value, year.reading.note) == (
        "no_data",
        None,
        "nothing recorded yet",
    )
    PartnerFact.objects.create(
        partner=world.acme,
        key="certifications",
        value=1,
        as_of=dt.date(2026, 3, 1),
        recorded_at=at("2026-03-01"),
    )
    (year,) = target_progress(targets["certifications"], dt.date(2026, 5, 1))
    assert (year.status, year.reading.value, year.expected) == ("below", 1.0, 2.0)
    PartnerFact.objects.create(
        partner=world.acme,
        key="certifications",
        value=3,
        as_of=dt.date(2026, 6, 1),
        recorded_at=at("2026-06-01"),
    )
    assert target_progress(targets["certifications"], dt.date(2026, 5, 1))[0].status == "below"
    assert target_progress(targets["certifications"], dt.date(2026, 6, 2))[0].status == "met"
    # after the term, the newest fact up to the end decides
    (year,) = target_progress(targets["certifications"], dt.date(2027, 2, 1))
    assert (year.running, year.status) == (False, "met")


def test_a_kpi_without_a_metric_is_reviewed_by_hand(targets: dict[str, Target]) -> None:
    (year,) = target_progress(targets["manual"], dt.date(2026, 5, 1))
    assert (year.status, year.label, year.reading.value) == ("manual", "Reviewed by hand", None)
    assert year.reading.note == "this KPI names no metric: it is reviewed by hand"


def test_nothing_is_shown_before_the_agreement_starts(targets: dict[str, Target]) -> None:
    assert target_progress(targets["sourced_pipeline"], dt.date(2025, 12, 31)) == []
    assert progress.latest(targets["sourced_pipeline"], dt.date(2025, 12, 31)) is None


@pytest.mark.usefixtures("pipeline")
def test_any_period_can_be_measured_for_a_review(targets: dict[str, Target]) -> None:
    review = progress.progress_in(
        targets["sourced_pipeline"],
        Period(dt.date(2026, 2, 1), dt.date(2026, 2, 28)),
        dt.date(2026, 3, 1),
    )
    assert review.reading.value == 100_000.0 and review.status == "missed"


def test_a_kpi_on_an_unknown_metric_is_refused() -> None:
    with pytest.raises(ValidationFailed) as caught:
        clean_kpis([{"name": "Pipe", "target": "5", "cadence": "annual", "metric_key": "pipe"}])
    message = caught.value.errors["kpis[0].metric_key"]
    assert message.startswith("'pipe' is not a metric we can measure; use one of: ")
    assert "sourced_pipeline" in message


@pytest.mark.usefixtures("pipeline")
def test_the_partner_panel_target_page_csv_and_api_show_progress(
    world: World, targets: dict[str, Target], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(progress_views.timezone, "localdate", lambda: dt.date(2026, 4, 10))
    monkeypatch.setattr(progress_api.timezone, "localdate", lambda: dt.date(2026, 4, 10))
    pipeline = targets["sourced_pipeline"]
    for user in (world.alice, world.acme_user):
        client = world.client_for(user)
        panel = client.get(f"/agreements/partner/{world.acme.pk}/").content.decode()
        row = panel.split(f'data-testid="target-{pipeline.pk}"')[1].split("</tr>")[0]
        assert "2026-04-01 \u2013 2026-06-30" in row and "Behind" in row and "(running)" in row
        page = client.get(f"/agreements/targets/{pipeline.pk}/")
        assert page.status_code == 200
        text = page.content.decode()
        assert "Missed" in text and "300,000" in text and "60%" in text
        download = client.get(f"/agreements/targets/{pipeline.pk}/?format=csv")
        csv_lines = b"".join(download.streaming_content).decode()  # type: ignore[attr-defined]
        assert csv_lines.splitlines()[1].startswith(
            "2026-01-01,2026-03-31,False,300000.0,2,,,500000.0,,0.6,missed,"
        )
    body = (
        world.client_for(world.acme_user)
        .get(
            f"/api/v1/agreements/targets/{pipeline.pk}",
            HTTP_AUTHORIZATION=f"Bearer {world.token_for(world.acme_user)}",
        )
        .json()
    )
    assert [(p["start"], p["status"], p["actual"]) for p in body["periods"]] == [
        ("2026-01-01", "missed", 300000.0),
        ("2026-04-01", "behind", 0.0),
    ]
    assert body["current"]["start"] == "2026-04-01"
    listed = world.client_for(world.alice).get(f"/api/v1/partners/{world.acme.pk}/targets")
    by_key = {t["metric_key"]: t for t in listed.json()["items"]}
    assert by_key["sourced_pipeline"]["current"]["expected"] == pytest.approx(500000 * 10 / 91)
    assert by_key[""]["current"]["status"] == "manual"


def test_another_partner_gets_404_on_a_target(world: World, targets: dict[str, Target]) -> None:
    client = world.client_for(world.globex_user)
    pk = targets["sourced_pipeline"].pk
    assert client.get(f"/agreements/targets/{pk}/").status_code == 404
    assert client.get(f"/agreements/targets/{pk}/?format=csv").status_code == 404
    assert client.get(f"/api/v1/agreements/targets/{pk}").status_code == 404
    assert client.get("/agreements/targets/999999/").status_code == 404
