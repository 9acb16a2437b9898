"""Agreement pages and API: what each side reads, the forms' acts, the printable page, CSV,
and 404 for outsiders."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from mutualist.agreements import actions
from mutualist.agreements.models import Agreement, Approval
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
def done(world: World, approvers: Approvers) -> Agreement:
    return signed(world.alice, world.acme, approvers)


def api(client: Client, token: str, method: str, url: str, body: Any = None) -> Any:
    kwargs: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if body is not None:
        kwargs.update(content_type="application/json", data=json.dumps(body))
    return getattr(client, method)(f"/api/v1{url}", **kwargs)


def test_the_list_filters_and_exports_csv(world: World, done: Agreement) -> None:
    draft = actions.draft(world.bob, world.globex, done.template, "Globex pilot", START)
    client = world.client_for(world.ann)
    page = client.get("/agreements/", {"status": "signed"})
    assert page.status_code == 200
    assert (
        "Acme reseller 2026" in page.content.decode()
        and "Globex pilot" not in page.content.decode()
    )
    csv = client.get("/agreements/", {"partner": world.globex.pk, "format": "csv"})
    lines = b"".join(csv.streaming_content).decode().splitlines()
    assert lines[0] == "id,title,partner,type,status,version,start_on,end_on,signed_at"
    assert lines[1].startswith(
        f"{draft.pk},Globex pilot,Globex,reseller,draft,1,2026-01-01,2026-12-31,"
    )
    assert len(lines) == 2
    bad = client.get("/agreements/", {"status": "lost"})
    assert bad.status_code == 400 and "unknown status; use one of: draft" in bad.content.decode()


def test_the_list_page_drafts_an_agreement(world: World) -> None:
    template = make_template(world.cpo)
    client = world.client_for(world.alice)
    bad = client.post(
        "/agreements/",
        {"template": template.pk, "partner": world.acme.pk, "title": "", "start_on": "x"},
    )
    assert bad.status_code == 400 and "must be a date, YYYY-MM-DD" in bad.content.decode()
    response = client.post(
        "/agreements/",
        {
            "template": template.pk,
            "partner": world.acme.pk,
            "title": "Acme 2026",
            "start_on": "2026-02-01",
        },
    )
    agreement = Agreement.objects.get()
    assert response["Location"] == f"/agreements/{agreement.pk}/"
    assert (agreement.title, agreement.end_on.isoformat()) == ("Acme 2026", "2027-01-31")


def test_partner_people_see_only_their_signed_agreements(world: World, done: Agreement) -> None:
    reviewing = in_review(world.alice, world.acme, done.template)
    acme = world.client_for(world.acme_user)
    assert acme.get(f"/agreements/{done.pk}/").status_code == 200
    assert acme.get(f"/agreements/{reviewing.pk}/").status_code == 404
    listed = acme.get("/agreements/").content.decode()
    assert f"/agreements/{done.pk}/" in listed and f"/agreements/{reviewing.pk}/" not in listed
    assert acme.get("/agreements/templates/").status_code == 404
    globex = world.client_for(world.globex_user)
    for url in (
        f"/agreements/{done.pk}/",
        f"/agreements/{done.pk}/print/",
        f"/agreements/partner/{world.acme.pk}/",
    ):
        assert globex.get(url).status_code == 404, url
    assert globex.post(f"/agreements/{done.pk}/approve/").status_code == 404


def test_the_edit_form_makes_a_version_and_shows_the_reset(
    world: World, approvers: Approvers
) -> None:
    agreement = in_review(world.alice, world.acme, make_template(world.cpo))
    actions.approve(approvers.legal, agreement, 1)
    actions.approve(approvers.finance, agreement, 1)
    client = world.client_for(world.alice)
    form = {
        "based_on": "1",
        "territory": "North America",
        "term_months": "12",
        "renewal": "manual",
        "discount_pct": "30",
        "commission_pct": "0",
        "mdf_eligible": "on",
        "vendor_responsibilities": "Provide sales training\nRegister deals within 2 days",
        "partner_responsibilities": "Keep two certified sellers\nReport pipeline monthly",
        "kpis": "Sourced pipeline | 500000 | USD | quarterly | sourced_pipeline\nCertified sellers | 2 | people | annual",
        "note": "Deeper discount",
    }
    response = client.post(f"/agreements/{agreement.pk}/edit/", form)
    assert response.status_code == 302
    page = client.get(f"/agreements/{agreement.pk}/").content.decode()
    assert "Version 2 changed Discount (%)." in page
    assert "<del>20.00</del></td><td><ins>30.00</ins>" in page
    assert "(carried over: its fields did not change)" in page
    bad = client.post(
        f"/agreements/{agreement.pk}/edit/",
        {**form, "based_on": "2", "kpis": "Pipeline | | USD | weekly"},
    )
    assert bad.status_code == 400
    assert "is required: the number Pipeline must reach" in bad.content.decode()
    assert agreement.versions.count() == 2


def test_each_approver_sees_their_button_and_wrong_roles_get_403(
    world: World, approvers: Approvers
) -> None:
    agreement = in_review(world.alice, world.acme, make_template(world.cpo))
    legal = world.client_for(approvers.legal)
    assert (
        "Approve version 1 as Approver (legal)"
        in legal.get(f"/agreements/{agreement.pk}/").content.decode()
    )
    assert (
        "Approve version 1"
        not in world.client_for(world.alice).get(f"/agreements/{agreement.pk}/").content.decode()
    )
    refused = world.client_for(world.alice).post(
        f"/agreements/{agreement.pk}/approve/", {"version": "1"}
    )
    assert refused.status_code == 403 and "cannot approve it" in refused.content.decode()
    assert legal.post(f"/agreements/{agreement.pk}/approve/", {"version": "1"}).status_code == 302
    again = legal.post(f"/agreements/{agreement.pk}/approve/", {"version": "1"})
    assert again.status_code == 409
    assert Approval.objects.count() == 1


def test_the_printable_page(world: World, done: Agreement) -> None:
    page = world.client_for(world.acme_admin).get(f"/agreements/{done.pk}/print/").content.decode()
    assert "<nav" not in page and "@media print" in page
    assert "Reseller agreement between the vendor and <b>Acme Inc.</b> · version 1" in page
    assert "<tr><th>Discount (%)</th><td>20.00</td></tr>" in page
    assert "<td>Sourced pipeline</td><td>500000.00 USD</td><td>quarterly</td>" in page
    assert "Approved by legal" in page and "Approved by ops" in page


def test_the_partner_panel_shows_targets(world: World, done: Agreement) -> None:
    page = (
        world.client_for(world.acme_user)
        .get(f"/agreements/partner/{world.acme.pk}/")
        .content.decode()
    )
    row = page.split("Sourced pipeline</a></td>")[1].split("</tr>")[0]
    assert row.startswith('<td class="num">500000.00 USD</td><td>Quarterly</td>')
    empty = (
        world.client_for(world.ann).get(f"/agreements/partner/{world.globex.pk}/").content.decode()
    )
    assert "No targets yet" in empty


def test_api_reads_diffs_and_approves(world: World, approvers: Approvers) -> None:
    agreement = in_review(world.alice, world.acme, make_template(world.cpo))
    actions.edit(world.alice, agreement, {"terms": {"exclusivity": True}})
    client = Client()
    token = world.token_for(approvers.legal)
    body = api(client, token, "get", f"/agreements/{agreement.pk}").json()
    assert (body["status"], body["version"], body["terms"]["exclusivity"]) == ("in_review", 2, True)
    diff = api(client, token, "get", f"/agreements/{agreement.pk}/diff").json()
    assert diff == {
        "from_version": 1,
        "to_version": 2,
        "changes": [
            {"field": "exclusivity", "label": "Exclusivity", "old": "no", "new": "yes", "lines": []}
        ],
    }
    stale = api(client, token, "post", f"/agreements/{agreement.pk}/approvals", {"version": 1})
    assert stale.status_code == 409 and "at version 2" in stale.json()["detail"]
    made = api(client, token, "post", f"/agreements/{agreement.pk}/approvals", {"version": 2})
    assert made.status_code == 201
    assert [a["role"] for a in made.json()["approvals"]] == ["approver_legal"]
    refused = api(
        client, world.token_for(world.cpo), "post", f"/agreements/{agreement.pk}/approvals", {}
    )
    assert refused.status_code == 403
    outsider = api(
        client,
        world.token_for(world.acme_user),
        "post",
        f"/agreements/{agreement.pk}/approvals",
        {},
    )
    assert outsider.status_code == 404


def test_api_lists_and_targets_for_each_side(world: World, done: Agreement) -> None:
    client = Client()
    acme = world.token_for(world.acme_admin)
    listed = api(client, acme, "get", "/agreements").json()
    assert (listed["count"], listed["items"][0]["id"]) == (1, done.pk)
    targets = api(client, acme, "get", f"/partners/{world.acme.pk}/targets").json()
    assert [(t["name"], t["target"], t["cadence"]) for t in targets["items"]] == [
        ("Certified sellers", "2.00", "annual"),
        ("Sourced pipeline", "500000.00", "quarterly"),
    ]
    globex = world.token_for(world.globex_user)
    assert api(client, globex, "get", f"/partners/{world.acme.pk}/targets").status_code == 404
    assert api(client, globex, "get", f"/agreements/{done.pk}").status_code == 404
    assert api(client, globex, "get", "/agreements").json()["count"] == 0
    bad = api(client, world.token_for(world.ann), "get", "/agreements?status=lost")
    assert bad.status_code == 422
