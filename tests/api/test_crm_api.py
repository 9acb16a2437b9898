from __future__ import annotations

from django.test import Client

from tests.conftest import World


def get(world: World, user: object, url: str) -> object:
    return Client().get(url, HTTP_AUTHORIZATION=f"Bearer {world.token_for(user)}")  # type: ignore[arg-type]


def test_vendor_lists_all_opportunities_with_filters(world: World) -> None:
    body = get(world, world.ann, "/api/v1/opportunities?state=won").json()  # type: ignore[attr-defined]
    assert [o["name"] for o in body["items"]] == ["Initech renewal"]
    body = get(world, world.ann, f"/api/v1/opportunities?partner={world.globex.pk}").json()  # type: ignore[attr-defined]
    assert body["count"] == 2
    assert body["items"][0]["amount"] in ("1000.00", "5000.00")


def test_partner_lists_only_its_records(world: World) -> None:
    opps = get(world, world.acme_user, "/api/v1/opportunities").json()  # type: ignore[attr-defined]
    assert {o["name"] for o in opps["items"]} == {"Initech expansion", "Initech renewal"}
    accounts = get(world, world.acme_user, "/api/v1/accounts").json()  # type: ignore[attr-defined]
    assert [a["name"] for a in accounts["items"]] == ["Initech"]
    leads = get(world, world.acme_user, "/api/v1/leads").json()  # type: ignore[attr-defined]
    assert [lead["company"] for lead in leads["items"]] == ["Hooli"]


def test_outsider_gets_404_for_every_crm_detail(world: World) -> None:
    for url in (
        f"/api/v1/accounts/{world.globex_account.pk}",
        f"/api/v1/opportunities/{world.globex_opp.pk}",
        f"/api/v1/leads/{world.globex_lead.pk}",
    ):
        assert get(world, world.acme_user, url).status_code == 404, url  # type: ignore[attr-defined]
        assert get(world, world.cpo, url).status_code == 200, url  # type: ignore[attr-defined]


def test_shared_deal_shows_a_partner_only_its_own_involvement(world: World) -> None:
    url = f"/api/v1/opportunities/{world.shared_opp.pk}"
    mine = get(world, world.acme_user, url).json()  # type: ignore[attr-defined]
    assert [i["partner_name"] for i in mine["involvements"]] == ["Acme"]
    everyone = get(world, world.cpo, url).json()  # type: ignore[attr-defined]
    assert {i["partner_name"] for i in everyone["involvements"]} == {"Acme", "Globex"}


def test_unknown_crm_filter_values_are_422(world: World) -> None:
    for url, field in (
        ("/api/v1/opportunities?state=maybe", "state"),
        ("/api/v1/accounts?lifecycle=zombie", "lifecycle"),
        ("/api/v1/leads?source=pigeon", "source"),
        ("/api/v1/opportunities?partner=abc", "partner"),
        ("/api/v1/opportunities?page_size=100000", "page_size"),
    ):
        response = get(world, world.cpo, url)
        assert response.status_code == 422, url  # type: ignore[attr-defined]
        assert field in str(response.json()["detail"]), url  # type: ignore[attr-defined]
