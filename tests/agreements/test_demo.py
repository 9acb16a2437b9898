"""The demo loader leaves agreements in each state on partners with logins."""

from __future__ import annotations

from mutualist.accounts import actions as account_actions
from mutualist.accounts.roles import Role
from mutualist.agreements import demo
from mutualist.agreements.models import Agreement, Target
from mutualist.cosell.models import Notification
from tests.agreements.helpers import make_approvers
from tests.conftest import PASSWORD, World


def test_it_loads_agreements_in_several_states(world: World) -> None:
    make_approvers()
    account_actions.create_user(
        None, "partner1-admin", PASSWORD, Role.PARTNER_ADMIN, partner=world.acme
    )
    account_actions.create_user(
        None, "partner2-admin", PASSWORD, Role.PARTNER_ADMIN, partner=world.globex
    )
    demo.load()
    states = sorted(Agreement.objects.values_list("partner__name", "status", "current_version"))
    assert states == [("Acme", "signed", 2), ("Globex", "in_review", 1), ("Globex", "signed", 1)]
    assert sorted(Target.objects.filter(partner=world.acme).values_list("name", flat=True)) == [
        "Certified people",
        "Closed-won revenue",
        "Sourced pipeline",
    ]
    assert Notification.objects.filter(verb="agreement.expiring").count() == 2  # bob and the CPO
    demo.load()  # a second run adds nothing
    assert Agreement.objects.count() == 3
