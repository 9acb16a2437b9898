"""Drafting, editing (versions, diffs, the reset of only the affected sign-offs), approval
rules, signing into targets, termination and the reminder sweep."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.http import Http404

from mutualist.agreements import actions, terms
from mutualist.agreements.models import Agreement, AgreementVersion, Approval, Target
from mutualist.audit.models import AuditEntry
from mutualist.cosell.models import Notification
from mutualist.lib.errors import Conflict, NotAllowed, ValidationFailed
from tests.agreements.helpers import (
    START,
    Approvers,
    in_review,
    make_approvers,
    make_template,
    signed,
)
from tests.conftest import World


@pytest.fixture
def approvers(world: World) -> Approvers:
    return make_approvers()


@pytest.fixture
def reviewing(world: World, approvers: Approvers) -> Agreement:
    return in_review(world.alice, world.acme, make_template(world.cpo))


def roles_live(agreement: Agreement) -> list[str]:
    agreement.refresh_from_db()
    return sorted(actions.live_approvals(agreement).values_list("role", flat=True))


def test_drafting_copies_the_template_into_version_1(world: World) -> None:
    template = make_template(world.cpo)
    agreement = actions.draft(world.alice, world.acme, template, "Acme reseller", "2026-03-01")
    assert (agreement.status, agreement.end_on) == ("draft", dt.date(2027, 2, 28))
    version = agreement.versions.get()
    assert (version.number, version.terms, version.kpis) == (1, template.terms, template.kpis)
    assert agreement.required_approvals == template.required_approvals


def test_bob_cannot_draft_for_alices_partner_and_bad_input_is_named(world: World) -> None:
    template = make_template(world.cpo)
    with pytest.raises(NotAllowed, match="cannot draft or change Acme's agreements"):
        actions.draft(world.bob, world.acme, template, "x", START)
    with pytest.raises(ValidationFailed) as caught:
        actions.draft(world.alice, world.acme, template, " ", "01/03/2026", "400")
    assert caught.value.errors == {
        "title": "is required",
        "start_on": "must be a date, YYYY-MM-DD",
        "renewal_notice_days": "must be a whole number of days from 0 to 365",
    }
    assert Agreement.objects.count() == 0


def test_an_edit_makes_a_version_with_a_readable_diff(world: World, reviewing: Agreement) -> None:
    version = actions.edit(
        world.alice,
        reviewing,
        {
            "terms": {"discount_pct": "25", "territory": "North America and Mexico"},
            "responsibilities": {
                "vendor": ["Provide sales training", "Register deals within 1 day"],
                "partner": ["Keep two certified sellers", "Report pipeline monthly"],
            },
        },
        "Bigger discount for Mexico",
        based_on=1,
    )
    assert (version.number, version.terms["discount_pct"]) == (2, "25.00")
    reviewing.refresh_from_db()
    assert reviewing.current_version == 2
    old = AgreementVersion.objects.get(agreement=reviewing, number=1)
    changes = terms.diff(terms.content(old), terms.content(version))
    assert [(c.field, c.old, c.new) for c in changes[:2]] == [
        ("territory", "North America", "North America and Mexico"),
        ("discount_pct", "20.00", "25.00"),
    ]
    assert changes[2].field == "responsibilities"
    assert changes[2].lines == [
        "- Vendor: Register deals within 2 days",
        "+ Vendor: Register deals within 1 day",
    ]


def test_an_edit_that_changes_nothing_or_a_stale_edit_is_refused(
    world: World, reviewing: Agreement
) -> None:
    with pytest.raises(ValidationFailed, match="nothing differs from version 1"):
        actions.edit(world.alice, reviewing, {"terms": {"discount_pct": "20.00"}})
    actions.edit(world.alice, reviewing, {"terms": {"discount_pct": "21"}}, based_on=1)
    with pytest.raises(Conflict, match="You edited version 1, but version 2 was saved"):
        actions.edit(world.alice, reviewing, {"terms": {"discount_pct": "22"}}, based_on=1)
    assert reviewing.versions.count() == 2


def test_a_finance_change_resets_finance_and_keeps_legal(
    world: World, reviewing: Agreement, approvers: Approvers
) -> None:
    legal = actions.approve(approvers.legal, reviewing, 1)
    actions.approve(approvers.finance, reviewing, 1)
    assert roles_live(reviewing) == ["approver_finance", "approver_legal"]
    actions.edit(world.alice, reviewing, {"terms": {"commission_pct": "5"}}, "add commission")
    assert roles_live(reviewing) == ["approver_legal"]
    carried = Approval.objects.get(agreement=reviewing, version__number=2)
    assert (carried.approver, carried.approved_at, carried.carried_from) == (
        approvers.legal,
        legal.approved_at,
        legal,
    )
    reset = Approval.objects.get(role="approver_finance")
    assert reset.reset_reason == "Version 2 changed Commission (%)."
    entry = AuditEntry.objects.filter(action="agreement.edit").get()
    assert entry.after["approvals_reset"] == ["approver_finance"]
    assert entry.after["approvals_kept"] == ["approver_legal"]


def test_a_responsibility_change_resets_legal_and_ops_but_not_finance(
    world: World, reviewing: Agreement, approvers: Approvers
) -> None:
    for approver in (approvers.legal, approvers.finance):
        actions.approve(approver, reviewing, 1)
    actions.edit(
        world.alice,
        reviewing,
        {"responsibilities": {"vendor": ["Provide sales training"], "partner": []}},
    )
    assert roles_live(reviewing) == ["approver_finance"]


def test_approval_rules(world: World, reviewing: Agreement, approvers: Approvers) -> None:
    with pytest.raises(NotAllowed) as caught:
        actions.approve(world.alice, reviewing, 1)
    assert str(caught.value) == (
        "This agreement needs the sign-off of: Approver (legal), Approver (finance), Approver "
        "(operations). You drafted it, but Your role (Alliance manager) is not one of them, so "
        "you cannot approve it; ask a user who holds the approver role."
    )
    with pytest.raises(NotAllowed, match=r"Your role \(Chief Partner Officer\)"):
        actions.approve(world.cpo, reviewing, 1)
    with pytest.raises(Http404):
        actions.approve(world.acme_admin, reviewing, 1)
    actions.edit(world.alice, reviewing, {"kpis": []})
    with pytest.raises(Conflict, match="You reviewed version 1, but the agreement is at version 2"):
        actions.approve(approvers.ops, reviewing, 1)
    actions.approve(approvers.ops, reviewing, 2)
    with pytest.raises(Conflict, match="approved as Approver \\(operations\\) already, by ops"):
        actions.approve(approvers.ops, reviewing, 2)
    assert Approval.objects.count() == 1
    assert AuditEntry.objects.filter(action="agreement.approve").count() == 1


def test_a_draft_is_not_approved_until_submitted(world: World, approvers: Approvers) -> None:
    agreement = actions.draft(world.alice, world.acme, make_template(world.cpo), "x", START)
    with pytest.raises(Conflict, match="Submit it for review first"):
        actions.approve(approvers.legal, agreement, 1)


def test_submitting_tells_the_approvers(world: World, approvers: Approvers) -> None:
    in_review(world.alice, world.acme, make_template(world.cpo))
    assert sorted(Notification.objects.values_list("user__username", flat=True)) == [
        "finance",
        "legal",
        "ops",
    ]


def test_the_last_sign_off_signs_and_sets_the_partners_targets(
    world: World, approvers: Approvers
) -> None:
    agreement = signed(world.alice, world.acme, approvers)
    assert agreement.status == "signed" and agreement.signed_at is not None
    targets = list(
        Target.objects.filter(partner=world.acme)
        .order_by("name")
        .values_list(
            "name", "metric_key", "target", "unit", "cadence", "period_start", "period_end"
        )
    )
    assert targets == [
        (
            "Certified sellers",
            "",
            Decimal("2.00"),
            "people",
            "annual",
            START,
            dt.date(2026, 12, 31),
        ),
        (
            "Sourced pipeline",
            "sourced_pipeline",
            Decimal("500000.00"),
            "USD",
            "quarterly",
            START,
            dt.date(2026, 12, 31),
        ),
    ]
    assert AuditEntry.objects.get(action="agreement.sign").after == {"version": 1, "targets": 2}
    # The owner (alice) and the CPO hear of it.
    signed_to = Notification.objects.filter(verb="agreement.signed").values_list(
        "user__username", flat=True
    )
    assert sorted(signed_to) == ["alice", "cpo"]


def test_an_amendment_of_a_signed_agreement_goes_back_to_review(
    world: World, approvers: Approvers
) -> None:
    agreement = signed(world.alice, world.acme, approvers)
    actions.edit(
        world.alice,
        agreement,
        {
            "kpis": [
                {
                    "name": "Sourced pipeline",
                    "target": "750000",
                    "unit": "USD",
                    "cadence": "quarterly",
                }
            ]
        },
    )
    agreement.refresh_from_db()
    assert agreement.status == "in_review"
    assert roles_live(agreement) == ["approver_finance", "approver_legal"]
    # The signed targets hold until the amendment is signed.
    assert Target.objects.filter(agreement=agreement).count() == 2
    actions.approve(approvers.ops, agreement, 2)
    agreement.refresh_from_db()
    assert agreement.status == "signed"
    assert list(Target.objects.values_list("name", "target")) == [
        ("Sourced pipeline", Decimal("750000.00"))
    ]


def test_concurrent_approvals_in_one_role_the_constraint_keeps_one(
    world: World, reviewing: Agreement, approvers: Approvers
) -> None:
    """The lock path, sequentially: if the check before the insert were passed by both, the
    unique constraint refuses the second row (the threaded race runs on PostgreSQL)."""
    actions.approve(approvers.legal, reviewing, 1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Approval.objects.create(
            agreement=reviewing,
            version=reviewing.versions.get(),
            role="approver_legal",
            approver=approvers.legal,
            approved_at=reviewing.created_at,
        )
    assert Approval.objects.filter(role="approver_legal").count() == 1


def test_terminate(world: World, approvers: Approvers) -> None:
    agreement = signed(world.alice, world.acme, approvers)
    with pytest.raises(ValidationFailed, match="say why"):
        actions.terminate(world.alice, agreement, " ")
    with pytest.raises(NotAllowed):
        actions.terminate(world.ann, agreement, "x")
    actions.terminate(world.alice, agreement, "Partner acquired")
    agreement.refresh_from_db()
    assert (agreement.status, agreement.termination_reason) == ("terminated", "Partner acquired")
    with pytest.raises(Conflict, match="terminated already"):
        actions.terminate(world.alice, agreement, "again")


def test_reminders_are_sent_once_per_end_date_and_expiry_follows(
    world: World, approvers: Approvers
) -> None:
    agreement = signed(world.alice, world.acme, approvers)  # ends 2026-12-31, 60 days notice
    Notification.objects.all().delete()
    early = dt.datetime(2026, 10, 1, 12, tzinfo=dt.UTC)
    assert actions.reminders(early) == actions.SweepResult(reminded=0, expired=0)
    inside = dt.datetime(2026, 11, 15, 12, tzinfo=dt.UTC)
    assert actions.reminders(inside) == actions.SweepResult(reminded=1, expired=0)
    assert actions.reminders(inside) == actions.SweepResult(reminded=0, expired=0)
    texts = list(Notification.objects.values_list("user__username", "text"))
    message = "Acme reseller 2026 with Acme ends on 2026-12-31 (in 46 days); decide on its renewal."
    assert sorted(texts) == [("alice", message), ("cpo", message)]
    after = dt.datetime(2027, 1, 2, 12, tzinfo=dt.UTC)
    assert actions.reminders(after) == actions.SweepResult(reminded=0, expired=1)
    agreement.refresh_from_db()
    assert agreement.status == "expired"
    assert actions.reminders(after) == actions.SweepResult(reminded=0, expired=0)
