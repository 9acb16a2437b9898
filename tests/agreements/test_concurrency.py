"""A race, on PostgreSQL, through a live server: two legal approvers sign off one agreement at
the same moment; exactly one approval stands and the other gets 409.

SQLite serialises every write, so it cannot show a race (the sequential lock path is tested in
test_actions); CI runs this on PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from mutualist.accounts import actions as account_actions
from mutualist.accounts.roles import Role
from mutualist.agreements.models import Approval
from tests.agreements.helpers import in_review, make_approvers, make_template
from tests.conftest import PASSWORD, World
from tests.cosell.test_concurrency import at_once

pytestmark = [pytest.mark.django_db(transaction=True)]
ROUNDS = 10


@pytest.fixture
def postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("a race needs a database that runs writes in parallel: run on PostgreSQL")


def test_two_legal_approvals_at_once_one_wins(
    live_server: Any, world: World, postgres: None
) -> None:
    approvers = make_approvers()
    second = account_actions.create_user(None, "legal2", PASSWORD, Role.APPROVER_LEGAL)
    tokens = [world.token_for(approvers.legal), world.token_for(second)]
    template = make_template(world.cpo)
    for _ in range(ROUNDS):
        agreement = in_review(world.alice, world.acme, template)
        url = f"{live_server.url}/api/v1/agreements/{agreement.pk}/approvals"
        answers = at_once([(url, token, {"version": 1}) for token in tokens])
        assert sorted(code for code, _ in answers) == [201, 409], answers
        assert Approval.objects.filter(agreement=agreement, role="approver_legal").count() == 1
