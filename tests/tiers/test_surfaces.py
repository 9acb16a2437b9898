"""Pages, API and CLI of tier governance show the right things to the right people only."""

from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace
from typing import Any

import pytest

from mutualist import cli_tiers
from mutualist.tiers.evaluate import evaluate
from mutualist.tiers.models import Proposal
from tests.tiers.conftest import AS_OF, Tiered


@pytest.fixture
def proposal(tiered: Tiered) -> Proposal:
    evaluate(tiered.program, AS_OF)
    return Proposal.objects.get(partner=tiered.world.acme)


def test_the_tiers_page_shows_program_eligibility_and_queue(proposal: Proposal) -> None:
    from mutualist.accounts.models import User

    client = _client("ann")
    page = client.get("/tiers/")
    body = page.content.decode()
    assert page.status_code == 200
    assert "Partner program" in body and "sourced_revenue" in body
    assert 'data-testid="eligibility-table"' in body and "Globex" in body
    assert f"/tiers/proposals/{proposal.pk}/" in body
    csv = _csv(client.get("/tiers/?format=csv&eligible=silver&q=acm"))
    assert csv.splitlines()[0].startswith("partner_id,partner,as_of")
    assert "Acme" in csv and "Globex" not in csv
    assert client.get("/tiers/?eligible=diamond").status_code == 400
    assert User.objects.filter(username="ann").exists()


def _csv(response: Any) -> str:
    return b"".join(response.streaming_content).decode()


def _client(username: str) -> Any:
    from django.test import Client

    from mutualist.accounts.models import User

    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def test_partner_people_see_their_own_tier_only(proposal: Proposal, tiered: Tiered) -> None:
    w = tiered.world
    client = _client("acme_user")
    assert client.get("/tiers/").url == f"/tiers/partners/{w.acme.pk}/"
    own = client.get(f"/tiers/partners/{w.acme.pk}/")
    assert own.status_code == 200
    assert b'data-testid="current-tier">gold' in own.content and b"Discount" in own.content
    assert b"eligible for silver" in own.content
    assert b"tiers/proposals" not in own.content  # the vendor's queue stays internal
    assert client.get(f"/tiers/partners/{w.globex.pk}/").status_code == 404
    assert client.get(f"/tiers/proposals/{proposal.pk}/").status_code == 404
    assert client.post(f"/tiers/proposals/{proposal.pk}/", {"action": "approve"}).status_code == 404


def test_the_owner_approves_on_the_proposal_page(proposal: Proposal, tiered: Tiered) -> None:
    assert (
        _client("bob").post(f"/tiers/proposals/{proposal.pk}/", {"action": "approve"}).status_code
        == 403
    )
    page = _client("alice").get(f"/tiers/proposals/{proposal.pk}/")
    assert b'value="approve"' in page.content
    done = _client("alice").post(f"/tiers/proposals/{proposal.pk}/", {"action": "approve"})
    assert done.status_code == 302
    proposal.refresh_from_db()
    # Its effective day (end of the grace period in 2025) has passed: it applies at once.
    assert proposal.status == "applied"
    again = _client("cpo").post(f"/tiers/proposals/{proposal.pk}/", {"action": "approve"})
    assert again.status_code == 409
    listing = _csv(_client("ann").get("/tiers/proposals/?status=applied&format=csv"))
    assert "Acme" in listing and "Globex" not in listing


def test_the_api_reads_and_decides(proposal: Proposal, tiered: Tiered) -> None:
    w = tiered.world
    from django.test import Client

    def get(user: Any, url: str) -> tuple[int, Any]:
        r = Client().get(url, HTTP_AUTHORIZATION=f"Bearer {w.token_for(user)}")
        return r.status_code, r.json()

    status, programs = get(w.acme_user, "/api/v1/tiers/programs")
    assert (
        status == 200
        and programs["items"][0]["levels"][2]["rules"][0]["metric"] == "sourced_revenue"
    )
    status, evaluations = get(w.acme_user, "/api/v1/tiers/evaluations")
    assert [e["partner_id"] for e in evaluations["items"]] == [w.acme.pk]
    assert get(w.acme_user, "/api/v1/tiers/proposals")[1]["count"] == 0
    assert get(w.ann, "/api/v1/tiers/proposals?status=proposed")[1]["count"] == 2
    assert get(w.ann, "/api/v1/tiers/proposals?status=maybe")[0] == 422
    assert get(w.globex_user, f"/api/v1/partners/{w.acme.pk}/tier-history")[0] == 404
    status, history = get(w.acme_user, f"/api/v1/partners/{w.acme.pk}/tier-history?on=2025-02-01")
    assert (
        status == 200 and history["tier"] == "gold" and history["benefits"][0]["kind"] == "discount"
    )

    def post(user: Any, action: str) -> Any:
        return Client().post(
            f"/api/v1/tiers/proposals/{proposal.pk}/{action}",
            data=json.dumps({"note": "ok"}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {w.token_for(user)}",
        )

    assert post(w.globex_user, "approve").status_code == 404
    assert post(w.bob, "approve").status_code == 403
    answer = post(w.alice, "approve")
    assert answer.status_code == 200 and answer.json()["status"] == "applied"
    assert post(w.cpo, "reject").status_code == 409


def test_the_cli_evaluates_and_reports(tiered: Tiered, capsys: pytest.CaptureFixture[str]) -> None:
    args = SimpleNamespace(as_of=AS_OF.isoformat(), program=None)
    assert cli_tiers.run(args) == 0  # type: ignore[arg-type]
    out = capsys.readouterr().out
    assert "eligibility as of 2025-06-30" in out and "2 proposals made" in out
    assert cli_tiers.run(SimpleNamespace(as_of="30/06/2025", program=None)) == 2  # type: ignore[arg-type]
    assert "not a date" in capsys.readouterr().err
    assert Proposal.objects.filter(effective_on=AS_OF + dt.timedelta(days=90)).count() == 2
