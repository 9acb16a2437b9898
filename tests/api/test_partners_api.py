from __future__ import annotations

from typing import Any

from django.test import Client

from mutualist.audit.models import AuditEntry
from mutualist.partners.models import Partner
from tests.conftest import World


def api(world: World, user: Any) -> tuple[Client, dict[str, str]]:
    return Client(), {"HTTP_AUTHORIZATION": f"Bearer {world.token_for(user)}"}


def test_without_credentials_is_401(world: World) -> None:
    assert Client().get("/api/v1/partners").status_code == 401
    bad = Client().get("/api/v1/partners", HTTP_AUTHORIZATION="Bearer mut_wrong")
    assert bad.status_code == 401


def test_revoked_token_is_refused(world: World) -> None:
    from mutualist.accounts import actions
    from mutualist.accounts.models import ApiToken

    client, auth = api(world, world.cpo)
    assert client.get("/api/v1/partners", **auth).status_code == 200
    actions.revoke_api_token(world.cpo, ApiToken.objects.get(user=world.cpo))
    assert client.get("/api/v1/partners", **auth).status_code == 401


def test_list_is_paginated_and_filtered(world: World) -> None:
    client, auth = api(world, world.ann)
    body = client.get("/api/v1/partners?page_size=1", **auth).json()
    assert body["count"] == 2 and body["page_size"] == 1
    assert [p["name"] for p in body["items"]] == ["Acme"]
    body = client.get("/api/v1/partners?type=isv", **auth).json()
    assert [p["name"] for p in body["items"]] == ["Globex"]
    assert body["items"][0]["types"] == ["isv"]


def test_unknown_filter_value_is_422_naming_the_filter(world: World) -> None:
    client, auth = api(world, world.ann)
    response = client.get("/api/v1/partners?status=sleeping", **auth)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail[0]["loc"] == ["body", "status"]
    assert "prospect" in detail[0]["msg"]


def test_partner_token_lists_only_its_partner(world: World) -> None:
    client, auth = api(world, world.acme_user)
    body = client.get("/api/v1/partners", **auth).json()
    assert [p["name"] for p in body["items"]] == ["Acme"]


def test_outsider_gets_404_on_every_partner_endpoint(world: World) -> None:
    client, auth = api(world, world.globex_user)
    pid = world.acme.pk
    assert client.get(f"/api/v1/partners/{pid}", **auth).status_code == 404
    assert client.get(f"/api/v1/partners/{pid}/status-history", **auth).status_code == 404
    patch = client.patch(f"/api/v1/partners/{pid}", {"name": "x"}, "application/json", **auth)
    assert patch.status_code == 404
    status = client.post(
        f"/api/v1/partners/{pid}/status",
        {"status": "inactive", "reason": "x"},
        "application/json",
        **auth,
    )
    assert status.status_code == 404
    assert client.delete(f"/api/v1/partners/{pid}", **auth).status_code == 404
    world.acme.refresh_from_db()
    assert world.acme.name == "Acme" and world.acme.status == "active"


def test_create_update_and_status_through_the_api(world: World) -> None:
    client, auth = api(world, world.alice)
    created = client.post(
        "/api/v1/partners",
        {
            "name": "Vandelay",
            "types": ["distributor"],
            "country": "US",
            "domain": "vandelay.example",
        },
        "application/json",
        **auth,
    )
    assert created.status_code == 201, created.content
    pid = created.json()["id"]
    assert created.json()["status"] == "prospect"
    patched = client.patch(
        f"/api/v1/partners/{pid}",
        {"legal_name": "Vandelay Industries LLC"},
        "application/json",
        **auth,
    )
    assert patched.json()["legal_name"] == "Vandelay Industries LLC"
    moved = client.post(
        f"/api/v1/partners/{pid}/status",
        {"status": "evaluating", "reason": "Intro call went well"},
        "application/json",
        **auth,
    )
    assert moved.json()["status"] == "evaluating"
    history = client.get(f"/api/v1/partners/{pid}/status-history", **auth).json()
    assert [h["to_status"] for h in history] == ["prospect", "evaluating"]


def test_malformed_bodies_are_422_with_field_and_change_nothing(world: World) -> None:
    client, auth = api(world, world.cpo)
    count, audits = Partner.objects.count(), AuditEntry.objects.count()
    cases = [
        ({"types": ["reseller"]}, "name"),
        ({"name": "X", "types": ["wizard"]}, "types"),
        ({"name": "X", "types": ["reseller"], "colour": "red"}, "colour"),
        ({"name": "X", "types": ["reseller"], "country": "ZZ"}, "country"),
        ({"name": "X", "types": []}, "types"),
    ]
    for body, field in cases:
        response = client.post("/api/v1/partners", body, "application/json", **auth)
        assert response.status_code == 422, (body, response.content)
        assert field in str(response.json()["detail"]), (body, response.json())
    not_json = client.post("/api/v1/partners", "{nope", "application/json", **auth)
    assert not_json.status_code in (400, 422)
    assert (Partner.objects.count(), AuditEntry.objects.count()) == (count, audits)


def test_invalid_transition_is_422(world: World) -> None:
    client, auth = api(world, world.alice)
    response = client.post(
        f"/api/v1/partners/{world.acme.pk}/status",
        {"status": "prospect", "reason": "Start over"},
        "application/json",
        **auth,
    )
    assert response.status_code == 422
    assert "cannot go from active to prospect" in response.json()["detail"][0]["msg"]


def test_analyst_cannot_write_through_the_api(world: World) -> None:
    client, auth = api(world, world.ann)
    create = client.post(
        "/api/v1/partners", {"name": "X", "types": ["reseller"]}, "application/json", **auth
    )
    assert create.status_code == 403
    patch = client.patch(
        f"/api/v1/partners/{world.acme.pk}", {"name": "x"}, "application/json", **auth
    )
    assert patch.status_code == 403
    assert client.delete(f"/api/v1/partners/{world.acme.pk}", **auth).status_code == 403


def test_delete_with_deals_is_409(world: World) -> None:
    client, auth = api(world, world.cpo)
    response = client.delete(f"/api/v1/partners/{world.acme.pk}", **auth)
    assert response.status_code == 409
    assert "exited" in response.json()["detail"]


def test_openapi_schema_and_docs_page(world: World) -> None:
    schema = Client().get("/api/v1/openapi.json").json()
    assert "/api/v1/partners" in schema["paths"]
    assert "/api/v1/opportunities/{opportunity_id}" in schema["paths"]
    client = world.client_for(world.cpo)
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    assert b"cdn." not in docs.content  # served from our own static files
