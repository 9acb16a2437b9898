"""Races, on PostgreSQL, through a live server: of two partners registering one company at the
same moment exactly one is protected; of two staff approving at once exactly one succeeds.

SQLite serialises every write, so it cannot show a race; CI runs this on PostgreSQL.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from typing import Any

import pytest
from django.db import connection

from mutualist.cosell import registrations
from mutualist.cosell.models import DealRegistration, RegistrationClaim
from mutualist.crm.models import Opportunity
from tests.conftest import World
from tests.cosell.conftest import deal

pytestmark = pytest.mark.django_db(transaction=True)
ROUNDS = 25


@pytest.fixture
def postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("a race needs a database that runs writes in parallel: run on PostgreSQL")


def post(url: str, token: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def at_once(calls: list[tuple[str, str, dict[str, Any]]]) -> list[tuple[int, dict[str, Any]]]:
    """Start the calls together (a barrier) and return their answers in call order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, url: str, token: str, body: dict[str, Any]) -> None:
        barrier.wait()
        results[index] = post(url, token, body)

    threads = [threading.Thread(target=run, args=(i, *call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_two_partners_registering_one_company_at_once(
    live_server: Any, resolved: World, postgres: None
) -> None:
    registrations.new_rules(
        resolved.cpo, {"submissions_per_hour": 1000}, "no rate limit in this test"
    )
    url = f"{live_server.url}/api/v1/deal-registrations"
    acme, globex = resolved.token_for(resolved.acme_user), resolved.token_for(resolved.globex_user)
    for round_ in range(ROUNDS):
        # Half the rounds identify the company by domain, half by name and country only.
        body = deal(
            company_name=f"Racecar {round_} Inc.",
            domain=f"racecar{round_}.com" if round_ % 2 else "",
        )
        answers = at_once([(url, acme, body), (url, globex, body)])
        assert sorted(code for code, _ in answers) == [201, 201], answers
        assert sorted(b["status"] for _, b in answers) == ["conflict", "pending"], (round_, answers)
        loser = next(b for _, b in answers if b["status"] == "conflict")
        assert loser["reasons"][0]["code"] == "registered_by_other"
    assert DealRegistration.objects.filter(status="pending").count() == ROUNDS
    assert RegistrationClaim.objects.count() == ROUNDS


def test_two_staff_approving_at_once(live_server: Any, resolved: World, postgres: None) -> None:
    registrations.new_rules(
        resolved.cpo, {"submissions_per_hour": 1000}, "no rate limit in this test"
    )
    pending = [
        registrations.submit(resolved.acme_user, deal(domain=f"approve{i}.com"))
        for i in range(ROUNDS)
    ]
    alice, cpo = resolved.token_for(resolved.alice), resolved.token_for(resolved.cpo)
    for registration in pending:
        url = f"{live_server.url}/api/v1/deal-registrations/{registration.pk}/approve"
        answers = at_once([(url, alice, {"reason": "a"}), (url, cpo, {"reason": "b"})])
        assert sorted(code for code, _ in answers) == [200, 409], answers
        assert Opportunity.objects.filter(external_id=f"reg-{registration.pk}").count() == 1
    assert DealRegistration.objects.filter(status="approved").count() == ROUNDS
