"""Renewing agreements: a drafted renewal from the current terms, refused when it cannot be
one; auto-renewal by the sweep; and the whole life cycle over the API."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client

from mutualist.agreements import actions
from mutualist.agreements.models import Agreement, Target
from mutualist.audit.models import AuditEntry
from mutualist.cosell.models import Notification
from mutualist.lib.errors import Conflict, NotAllowed, ValidationFailed
from tests.agreements.helpers import Approvers, in_review, make_approvers, make_template, signed
from tests.conftest import World


@pytest.fixture
def approvers(world: World) -> Approvers:
    return make_approvers()


def test_a_renewal_is_a_draft_from_the_current_terms_starting_after_the_end(
    world: World, approvers: Approvers
) -> None:
    agreement = signed(world.alice, world.acme, approvers)  # 2026-01-01 to 2026-12-31
    actions.edit(
        world.alice,
        agreement,
        {"terms": {**actions.current_version(agreement).terms, "discount_pct": "30"}},
        "better discount",
    )
    agreement.refresh_from_db()
    actions.approve(approvers.finance, agreement)  # a discount is finance's: the rest carried
    agreement.refresh_from_db()
    assert agreement.status == "signed"
    renewal = actions.renew(world.alice, agreement, "Acme reseller 2027")
    assert (renewal.status, renewal.start_on, renewal.end_on, renewal.renews_id) == (
        "draft",
        dt.date(2027, 1, 1),
        dt.date(2027, 12, 31),
        agreement.pk,
    )
    version = actions.current_version(renewal)
    assert version.terms["discount_pct"] == "30.00" and version.kpis == (
        actions.current_version(agreement).kpis
    )
    assert version.note == f"Renewal of agreement #{agreement.pk} (version 2)"
    assert AuditEntry.objects.filter(action="agreement.renew", object_id=str(renewal.pk)).exists()
    with pytest.raises(Conflict, match=f"Already renewed by agreement #{renewal.pk}"):
        actions.renew(world.alice, agreement)
    # a terminated renewal frees the way for another
    actions.terminate(world.alice, renewal, "renegotiating")
    assert actions.renew(world.alice, agreement).title == agreement.title


def test_what_cannot_be_renewed(world: World, approvers: Approvers) -> None:
    template = make_template(world.cpo)
    reviewing = in_review(world.alice, world.acme, template)
    with pytest.raises(ValidationFailed) as caught:
        actions.renew(world.alice, reviewing)
    assert caught.value.errors == {
        "status": "is in review; only a signed or expired agreement can be renewed "
        "(amend a draft or one in review instead)"
    }
    done = signed(world.bob, world.globex, approvers)
    with pytest.raises(NotAllowed):
        actions.renew(world.alice, done)  # Globex is Bob's partner
    with pytest.raises(ValidationFailed, match="title"):
        actions.renew(world.bob, done, "x" * 201)
    assert Agreement.objects.filter(renews=done).count() == 0


def test_the_sweep_rolls_an_auto_renewing_agreement_over(
    world: World, approvers: Approvers
) -> None:
    agreement = signed(world.alice, world.acme, approvers)
    version = actions.current_version(agreement)
    version.terms = {**version.terms, "renewal": "auto"}  # as signed with auto-renewal
    version.save()
    Notification.objects.all().delete()
    after = dt.datetime(2027, 1, 5, 12, tzinfo=dt.UTC)
    assert actions.reminders(after) == actions.SweepResult(reminded=0, expired=0, renewed=1)
    agreement.refresh_from_db()
    assert (agreement.status, agreement.end_on) == ("signed", dt.date(2027, 12, 31))
    assert set(Target.objects.filter(agreement=agreement).values_list("period_end", flat=True)) == {
        dt.date(2027, 12, 31)
    }
    assert (
        Notification.objects.filter(
            text="Acme reseller 2026 with Acme renewed itself until 2027-12-31 "
            "(its terms say auto-renewal)."
        ).count()
        == 2
    )  # the owner and the CPO
    assert actions.reminders(after) == actions.SweepResult(reminded=0, expired=0, renewed=0)
    # a drafted renewal means it is being renegotiated: at the end it expires instead
    actions.renew(world.alice, agreement)
    end = dt.datetime(2028, 1, 2, 12, tzinfo=dt.UTC)
    assert actions.reminders(end) == actions.SweepResult(reminded=0, expired=1, renewed=0)


def test_renewing_in_the_browser_leads_to_the_draft(world: World, approvers: Approvers) -> None:
    agreement = signed(world.alice, world.acme, approvers)
    page = world.client_for(world.alice).get(f"/agreements/{agreement.pk}/").content.decode()
    assert "Draft the renewal" in page
    assert "Draft the renewal" not in (
        world.client_for(world.acme_admin).get(f"/agreements/{agreement.pk}/").content.decode()
    )
    response = world.client_for(world.alice).post(
        f"/agreements/{agreement.pk}/renew/", {"title": "Acme 2027"}
    )
    renewal = Agreement.objects.get(renews=agreement)
    assert response.status_code == 302 and response["Location"] == f"/agreements/{renewal.pk}/"
    page = world.client_for(world.alice).get(f"/agreements/{agreement.pk}/").content.decode()
    assert "Draft the renewal" not in page and "renewed by" in page and "Acme 2027" in page
    assert (
        world.client_for(world.globex_user).post(f"/agreements/{agreement.pk}/renew/").status_code
        == 404
    )


def api(client: Client, token: str, url: str, body: Any = None) -> Any:
    return client.post(
        f"/api/v1{url}",
        content_type="application/json",
        data=json.dumps(body or {}),
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def test_the_life_cycle_over_the_api(world: World, approvers: Approvers) -> None:
    template = make_template(world.cpo)
    client, token = Client(), world.token_for(world.alice)
    bad = api(
        client,
        token,
        "/agreements",
        {
            "partner_id": world.acme.pk,
            "template_id": template.pk,
            "title": "",
            "start_on": "2026-13-01",
        },
    )
    assert bad.status_code == 422
    assert {d["loc"][1] for d in bad.json()["detail"]} == {"title", "start_on"}
    made = api(
        client,
        token,
        "/agreements",
        {
            "partner_id": world.acme.pk,
            "template_id": template.pk,
            "title": "Acme 2026",
            "start_on": "2026-01-01",
        },
    )
    assert made.status_code == 201
    pk = made.json()["id"]
    terms = made.json()["terms"]
    edited = api(
        client,
        token,
        f"/agreements/{pk}/versions",
        {"changes": {"terms": {**terms, "territory": "EMEA"}}, "based_on": 1},
    )
    assert edited.status_code == 201 and edited.json()["version"] == 2
    stale = api(
        client, token, f"/agreements/{pk}/versions", {"changes": {"terms": terms}, "based_on": 1}
    )
    assert stale.status_code == 409
    assert api(client, token, f"/agreements/{pk}/submission").json()["status"] == "in_review"
    for approver in approvers.all():
        assert (
            api(
                client, world.token_for(approver), f"/agreements/{pk}/approvals", {"version": 2}
            ).status_code
            == 201
        )
    renewed = api(client, token, f"/agreements/{pk}/renewal", {"title": "Acme 2027"})
    assert renewed.status_code == 201
    assert (renewed.json()["renews_id"], renewed.json()["start_on"]) == (pk, "2027-01-01")
    assert api(client, token, f"/agreements/{pk}/renewal").status_code == 409
    ended = api(client, token, f"/agreements/{pk}/termination", {"reason": "acquired"})
    assert ended.json()["status"] == "terminated"
    outsider = world.token_for(world.globex_user)
    for url in ("/renewal", "/submission", "/termination", "/versions"):
        body = {"reason": "x", "changes": {}}
        assert api(client, outsider, f"/agreements/{pk}{url}", body).status_code == 404
    assert (
        api(
            client,
            outsider,
            "/agreements",
            {
                "partner_id": world.acme.pk,
                "template_id": template.pk,
                "title": "x",
                "start_on": "2026-01-01",
            },
        ).status_code
        == 404
    )
