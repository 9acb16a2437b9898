from __future__ import annotations

import csv
import io

import pytest
from django.test import Client

from tests.conftest import PASSWORD, World


def test_login_page_and_login_flow(world: World) -> None:
    client = Client()
    assert client.get("/").status_code == 302  # to login
    page = client.get("/login/")
    assert b"Log in to mutualist" in page.content
    wrong = client.post("/login/", {"username": "cpo", "password": "nope"})
    assert b"did not match" in wrong.content
    ok = client.post("/login/", {"username": "cpo", "password": PASSWORD})
    assert ok.status_code == 302
    assert b"Your partner ecosystem" in client.get("/").content


def test_vendor_home_summarises_the_ecosystem(world: World) -> None:
    page = world.client_for(world.ann).get("/")
    assert page.context["summary"]["partner_count"] == 2
    assert page.context["summary"]["open_count"] == 2
    assert page.context["summary"]["won_count"] == 1


def test_partner_user_lands_on_its_portal(world: World) -> None:
    page = world.client_for(world.acme_user).get("/")
    assert b"Acme \xc2\xb7 partner portal" in page.content
    assert b"Globex" not in page.content
    assert b"Pied Piper" not in page.content
    assert page.context["summary"]["partner_count"] == 1


def test_directory_filters_sort_and_paginate(world: World) -> None:
    client = world.client_for(world.ann)
    page = client.get("/partners/?type=isv")
    assert [p.name for p in page.context["page"]] == ["Globex"]
    page = client.get(f"/partners/?owner={world.alice.pk}")
    assert [p.name for p in page.context["page"]] == ["Acme"]
    page = client.get("/partners/?sort=-name")
    assert [p.name for p in page.context["page"]] == ["Globex", "Acme"]
    page = client.get("/partners/?q=glob")
    assert [p.name for p in page.context["page"]] == ["Globex"]


def test_directory_unknown_filter_says_what_is_wrong(world: World) -> None:
    page = world.client_for(world.ann).get("/partners/?tier=diamond")
    assert page.status_code == 400
    assert b"unknown tier" in page.content and b"platinum" in page.content


def test_directory_csv_export_follows_filters(world: World) -> None:
    response = world.client_for(world.ann).get("/partners/?format=csv&type=reseller")
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [r["name"] for r in rows] == ["Acme"]
    assert rows[0]["types"] == "reseller system_integrator"


def test_partner_page_shows_profile_history_and_deals(world: World) -> None:
    page = world.client_for(world.alice).get(f"/partners/{world.acme.pk}/")
    assert page.status_code == 200
    assert page.context["opportunity_count"] == 2
    assert b"Initech" in page.content


@pytest.mark.parametrize(
    "url_name",
    [
        "partner",
        "account",
        "opportunity",
    ],
)
def test_outsider_gets_404_on_detail_pages(world: World, url_name: str) -> None:
    urls = {
        "partner": f"/partners/{world.globex.pk}/",
        "account": f"/crm/accounts/{world.globex_account.pk}/",
        "opportunity": f"/crm/opportunities/{world.globex_opp.pk}/",
    }
    assert world.client_for(world.acme_user).get(urls[url_name]).status_code == 404
    assert world.client_for(world.cpo).get(urls[url_name]).status_code == 200


def test_partner_lists_contain_only_its_records(world: World) -> None:
    client = world.client_for(world.acme_user)
    assert [o.name for o in client.get("/crm/opportunities/?sort=name").context["page"]] == [
        "Initech expansion",
        "Initech renewal",
    ]
    assert [a.name for a in client.get("/crm/accounts/").context["page"]] == ["Initech"]
    assert [lead.company for lead in client.get("/crm/leads/").context["page"]] == ["Hooli"]
    partners = client.get("/partners/?format=csv")
    assert "Globex" not in b"".join(partners.streaming_content).decode()  # type: ignore[attr-defined]


def test_shared_deal_page_hides_the_other_partner(world: World) -> None:
    page = world.client_for(world.acme_user).get(f"/crm/opportunities/{world.shared_opp.pk}/")
    assert b"Acme" in page.content and b"Globex" not in page.content


def test_crm_lists_filter_and_export(world: World) -> None:
    client = world.client_for(world.ann)
    assert client.get("/crm/opportunities/?state=won").context["paginator"].count == 1
    assert client.get("/crm/accounts/?lifecycle=customer").context["paginator"].count == 1
    assert client.get("/crm/leads/?source=partner_referral").context["paginator"].count == 2
    assert client.get("/crm/opportunities/?state=nope").status_code == 400
    body = b"".join(client.get("/crm/opportunities/?format=csv").streaming_content).decode()  # type: ignore[attr-defined]
    assert len(list(csv.DictReader(io.StringIO(body)))) == 3


def test_tokens_page_creates_shows_once_and_revokes(world: World) -> None:
    client = world.client_for(world.ann)
    page = client.post("/settings/tokens/", {"name": "script"})
    key = page.context["new_key"]
    assert key.startswith("mut_")
    assert Client().get("/api/v1/partners", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200
    assert key.encode() not in client.get("/settings/tokens/").content
    token = world.ann.api_tokens.get()
    client.post(f"/settings/tokens/{token.pk}/revoke/")
    assert Client().get("/api/v1/partners", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 401


def test_someone_elses_token_cannot_be_revoked(world: World) -> None:
    world.token_for(world.cpo)
    token = world.cpo.api_tokens.get()
    response = world.client_for(world.ann).post(f"/settings/tokens/{token.pk}/revoke/")
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_admin_is_for_staff(world: World) -> None:
    world.cpo.is_staff = True
    world.cpo.is_superuser = True
    world.cpo.save()
    assert world.client_for(world.cpo).get("/admin/partners/partner/").status_code == 200
    assert world.client_for(world.ann).get("/admin/").status_code == 302


def test_healthz(db: object) -> None:
    assert Client().get("/healthz").json() == {"status": "ok"}


def test_create_partner_through_the_form(world: World) -> None:
    client = world.client_for(world.alice)
    assert client.get("/partners/new/").status_code == 200
    response = client.post(
        "/partners/new/",
        {
            "name": "Initrode",
            "domain": "www.initrode.example",
            "country": "fr",
            "types": ["msp"],
            "segments": ["security"],
            "owner": str(world.alice.pk),
        },
    )
    assert response.status_code == 302
    from mutualist.partners.models import Partner

    partner = Partner.objects.get(name="Initrode")
    assert (partner.domain, partner.country, partner.owner) == (
        "initrode.example",
        "FR",
        world.alice,
    )


def test_partner_form_errors_point_at_the_field(world: World) -> None:
    response = world.client_for(world.alice).post(
        "/partners/new/",
        {
            "name": "Initrode",
            "country": "QQ",
            "types": ["msp"],
        },
    )
    assert response.status_code == 400
    assert "ISO 3166" in str(response.context["form"].errors["country"])


def test_edit_and_move_status_through_pages(world: World) -> None:
    client = world.client_for(world.alice)
    form = client.get(f"/partners/{world.acme.pk}/edit/")
    assert form.context["form"].initial["name"] == "Acme"
    data = {**form.context["form"].initial, "name": "Acme Ltd"}
    assert client.post(f"/partners/{world.acme.pk}/edit/", data).status_code == 302
    moved = client.post(
        f"/partners/{world.acme.pk}/status/", {"status": "inactive", "reason": "Quiet for a year"}
    )
    assert moved.status_code == 302
    world.acme.refresh_from_db()
    assert (world.acme.name, world.acme.status) == ("Acme Ltd", "inactive")
    bad = client.post(f"/partners/{world.acme.pk}/status/", {"status": "onboarding", "reason": "x"})
    assert bad.status_code == 400 and b"cannot go from inactive" in bad.content


def test_forms_refuse_the_wrong_people(world: World) -> None:
    assert world.client_for(world.ann).get("/partners/new/").status_code == 403
    assert world.client_for(world.ann).get(f"/partners/{world.acme.pk}/edit/").status_code == 403
    assert world.client_for(world.bob).get(f"/partners/{world.acme.pk}/edit/").status_code == 403
    outsider = world.client_for(world.globex_user)
    assert outsider.get(f"/partners/{world.acme.pk}/edit/").status_code == 404
    assert (
        outsider.post(
            f"/partners/{world.acme.pk}/status/", {"status": "inactive", "reason": "x"}
        ).status_code
        == 404
    )
