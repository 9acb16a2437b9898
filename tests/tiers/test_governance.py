"""Rules, evaluation, proposals, approval and the dated tier history."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.http import Http404

from mutualist.crm.models import Opportunity, PartnerInvolvement
from mutualist.lib.errors import Conflict, NotAllowed, ValidationFailed
from mutualist.tiers import actions
from mutualist.tiers.evaluate import evaluate
from mutualist.tiers.models import Level, Program, Proposal, Rule
from tests.conftest import make_opportunity
from tests.tiers.conftest import AS_OF, Tiered

UTC = dt.UTC


def won_sourced_deal(tiered: Tiered, amount: str = "3000.00") -> Opportunity:
    w = tiered.world
    opp = make_opportunity(
        w.acme_account,
        "Initech add-on",
        amount=Decimal(amount),
        is_closed=True,
        is_won=True,
        created_at=dt.datetime(2025, 4, 1, tzinfo=UTC),
        closed_at=dt.datetime(2025, 5, 1, tzinfo=UTC),
    )
    PartnerInvolvement.objects.create(
        opportunity=opp,
        partner=w.acme,
        role="sourced",
        attached_at=dt.datetime(2025, 4, 2, tzinfo=UTC),
        is_primary=True,
    )
    return opp


def by_partner(evaluations: list[Any]) -> dict[str, Any]:
    return {e.partner.name: e for e in evaluations}


def measured(evaluation: Any, metric: str) -> float | None:
    return next(d["value"] for d in evaluation.details if d["metric"] == metric)


def test_it_refuses_a_rule_on_an_unknown_metric_and_stores_nothing(tiered: Tiered) -> None:
    w = tiered.world
    with pytest.raises(ValidationFailed) as exc:
        actions.add_level(
            w.cpo,
            tiered.program,
            {
                "tier": "platinum",
                "rank": 4,
                "rules": [
                    {"metric": "sourced_revenue", "threshold": "1"},
                    {"metric": "nps_score", "threshold": "50"},
                ],
            },
        )
    assert "rules[1].metric" in exc.value.errors
    assert "'nps_score' is not a known metric" in exc.value.errors["rules[1].metric"]
    assert not Level.objects.filter(tier="platinum").exists()
    before = Rule.objects.count()
    with pytest.raises(ValidationFailed):
        actions.replace_rules(
            w.cpo,
            tiered.levels["gold"],
            [{"metric": "won_deals", "threshold": "1"}, {"metric": "bogus", "threshold": "1"}],
        )
    with pytest.raises(ValidationFailed) as single:
        actions.add_rule(w.cpo, tiered.levels["silver"], {"metric": "x", "threshold": "abc"})
    assert set(single.value.errors) == {"metric", "threshold"}
    assert Rule.objects.count() == before


def test_it_lets_only_the_cpo_change_programs(tiered: Tiered) -> None:
    w = tiered.world
    with pytest.raises(NotAllowed):
        actions.create_program(w.alice, {"name": "Mine"})
    with pytest.raises(Http404):
        actions.add_rule(w.acme_admin, tiered.levels["gold"], {"metric": "csat", "threshold": 1})
    assert Program.objects.count() == 1


def test_it_measures_rules_from_the_crm_and_the_scorecard(tiered: Tiered) -> None:
    won_sourced_deal(tiered)
    actions.record_fact(tiered.world.alice, tiered.world.acme, "csat", "8.5", "2025-06-01")
    actions.add_rule(tiered.world.cpo, tiered.levels["silver"], {"metric": "csat", "threshold": 8})
    found = by_partner(evaluate(tiered.program, AS_OF))
    acme, globex = found["Acme"], found["Globex"]
    assert measured(acme, "sourced_revenue") == 3000.0
    assert measured(acme, "influenced_revenue") == 1000.0  # co-sell on the Initech renewal
    assert measured(globex, "sourced_revenue") == 0.0
    assert measured(globex, "influenced_revenue") == 1000.0  # technology partner on it
    assert measured(acme, "won_deals") == 2
    assert measured(acme, "csat") == 8.5
    assert measured(globex, "csat") is None
    assert acme.eligible_tier == "gold" and globex.eligible_tier == "registered"


def test_it_proposes_a_downgrade_after_the_grace_period(tiered: Tiered) -> None:
    evaluate(tiered.program, AS_OF)
    proposal = Proposal.objects.get(partner=tiered.world.acme)
    assert (proposal.from_tier, proposal.to_tier, proposal.status) == ("gold", "silver", "proposed")
    assert proposal.effective_on == AS_OF + dt.timedelta(days=90) == proposal.grace_until
    assert tiered.world.acme.tier == "gold"  # eligibility never assigns
    evaluate(tiered.program, AS_OF + dt.timedelta(days=1))
    assert Proposal.objects.filter(partner=tiered.world.acme).count() == 1


def test_it_supersedes_a_downgrade_when_the_partner_is_eligible_again(tiered: Tiered) -> None:
    evaluate(tiered.program, AS_OF - dt.timedelta(days=30))
    downgrade = Proposal.objects.get(partner=tiered.world.acme)
    won_sourced_deal(tiered)
    evaluate(tiered.program, AS_OF)
    downgrade.refresh_from_db()
    assert downgrade.status == "superseded"
    assert not Proposal.objects.filter(partner=tiered.world.acme, status="proposed").exists()


def test_it_proposes_an_upgrade_for_the_next_day(tiered: Tiered) -> None:
    w = tiered.world
    actions.approve(w.cpo, _downgrade(tiered), now=dt.datetime(2025, 9, 30, tzinfo=UTC))
    won_sourced_deal(tiered)
    evaluate(tiered.program, dt.date(2025, 10, 1))
    upgrade = Proposal.objects.get(partner=w.acme, status="proposed")
    assert (upgrade.from_tier, upgrade.to_tier) == ("silver", "gold")
    assert upgrade.effective_on == dt.date(2025, 10, 2) and upgrade.grace_until is None


def _downgrade(tiered: Tiered) -> Proposal:
    evaluate(tiered.program, AS_OF)
    return Proposal.objects.get(partner=tiered.world.acme, status="proposed")


def test_it_lets_the_owner_and_the_cpo_decide_and_no_one_else(tiered: Tiered) -> None:
    w = tiered.world
    proposal = _downgrade(tiered)
    for outsider in (w.bob, w.ann):
        with pytest.raises(NotAllowed):
            actions.approve(outsider, proposal)
    for partner_person in (w.acme_admin, w.acme_user, w.globex_user):
        with pytest.raises(Http404):
            actions.approve(partner_person, proposal)
    with pytest.raises(ValidationFailed):
        actions.reject(w.alice, proposal, "  ")
    actions.approve(w.alice, proposal, "agreed", now=dt.datetime(2025, 7, 1, tzinfo=UTC))
    assert proposal.status == "approved" and proposal.decided_by == w.alice
    with pytest.raises(Conflict):
        actions.approve(w.cpo, proposal)
    globex = Proposal.objects.get(partner=w.globex)
    actions.reject(w.cpo, globex, "pending the Q3 review")
    assert globex.status == "rejected"


def test_apply_due_changes_the_tier_from_its_effective_day(tiered: Tiered) -> None:
    w = tiered.world
    proposal = _downgrade(tiered)
    actions.approve(w.alice, proposal, now=dt.datetime(2025, 7, 1, tzinfo=UTC))
    assert actions.apply_due(dt.datetime(2025, 9, 27, tzinfo=UTC)) == 0
    assert actions.apply_due(dt.datetime(2025, 9, 28, 6, tzinfo=UTC)) == 1
    w.acme.refresh_from_db()
    proposal.refresh_from_db()
    assert w.acme.tier == "silver" and proposal.status == "applied"
    change = w.acme.tier_changes.order_by("-effective_from").first()
    assert change is not None
    assert change.effective_from == dt.datetime(2025, 9, 28, tzinfo=UTC)
    assert "approved by alice" in change.reason
    assert actions.tier_on(w.acme, dt.date(2025, 9, 27)) == "gold"
    assert actions.tier_on(w.acme, dt.date(2025, 9, 28)) == "silver"
    assert actions.tier_on(w.acme, dt.date(2024, 12, 31)) == ""  # before its first record
    assert actions.apply_due(dt.datetime(2025, 10, 1, tzinfo=UTC)) == 0


def test_an_overdue_approval_takes_effect_at_once(tiered: Tiered) -> None:
    w = tiered.world
    proposal = _downgrade(tiered)
    actions.approve(w.cpo, proposal, now=dt.datetime(2025, 10, 15, 9, tzinfo=UTC))
    assert proposal.status == "applied" and proposal.effective_on == dt.date(2025, 10, 15)
    assert actions.tier_on(w.acme, dt.date(2025, 10, 15)) == "silver"


def test_benefits_follow_the_tier_and_their_validity(tiered: Tiered) -> None:
    w = tiered.world
    gold = tiered.levels["gold"]
    actions.add_benefit(
        w.cpo,
        gold,
        {"kind": "mdf_rate", "value": "2.5", "valid_from": "2025-01-01", "valid_to": "2025-03-31"},
    )
    with pytest.raises(ValidationFailed) as exc:
        actions.add_benefit(
            w.cpo,
            gold,
            {
                "kind": "mdf_rate",
                "value": "1",
                "valid_from": "2025-05-01",
                "valid_to": "2025-04-01",
            },
        )
    assert "valid_to" in exc.value.errors
    kinds = lambda day: sorted(b.kind for b in actions.benefits_on(w.acme, day))  # noqa: E731
    assert kinds(dt.date(2025, 2, 1)) == ["discount", "mdf_rate"]
    assert kinds(dt.date(2025, 4, 1)) == ["discount"]
    assert kinds(dt.date(2024, 12, 1)) == []  # no tier yet then
