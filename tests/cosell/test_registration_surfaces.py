"""Deal registration pages and API: status codes, what each side reads, and 404 for outsiders."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from mutualist.cosell import registrations
from mutualist.cosell.models import DealRegistration
from tests.conftest import World
from tests.cosell.conftest import deal


def api(
    client: Client,
    token: str,
    method: str,
    url: str,
    body: dict[str, Any] | None = None,
    **headers: str,
) -> Any:
    kwargs: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {token}", **headers}
    if body is not None:
        kwargs.update(content_type="application/json", data=json.dumps(body))
    return getattr(client, method)(f"/api/v1{url}", **kwargs)


def test_partner_registers_by_api_and_reads_the_outcome(resolved: World) -> None:
    client, token = Client(), resolved.token_for(resolved.acme_user)
    created = api(client, token, "post", "/deal-registrations", deal(), HTTP_IDEMPOTENCY_KEY="k-1")
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["status"], body["reasons"], body["rules_version"]) == ("pending", [], 1)
    replay = api(client, token, "post", "/deal-registrations", deal(), HTTP_IDEMPOTENCY_KEY="k-1")
    assert replay.status_code == 409 and str(body["id"]) in replay.json()["detail"]
    conflict = api(
        Client(), resolved.token_for(resolved.globex_user), "post", "/deal-registrations", deal()
    )
    assert conflict.json()["status"] == "conflict"
    assert conflict.json()["reasons"] == [
        {
            "code": "registered_by_other",
            "message": conflict.json()["reasons"][0]["message"],
            "kind": None,
            "object_id": None,
        }
    ]
    assert "Acme" not in conflict.content.decode()


def test_bad_api_input_is_422_with_each_field(resolved: World) -> None:
    response = api(
        Client(),
        resolved.token_for(resolved.acme_user),
        "post",
        "/deal-registrations",
        deal(domain="nope", currency="ZZZ", expected_close="2000-01-01", company_name=""),
    )
    assert response.status_code == 422
    fields = {d["loc"][1] for d in response.json()["detail"]}
    assert fields == {"domain", "currency", "expected_close", "company_name"}
    assert not DealRegistration.objects.exists()


def test_rate_limited_submissions_get_429(resolved: World) -> None:
    registrations.new_rules(resolved.cpo, {"submissions_per_hour": 1}, "tight")
    client, token = Client(), resolved.token_for(resolved.acme_user)
    assert api(client, token, "post", "/deal-registrations", deal()).status_code == 201
    limited = api(client, token, "post", "/deal-registrations", deal(domain="other.com"))
    assert limited.status_code == 429 and "limit is 1 an hour" in limited.json()["detail"]


def test_staff_decide_by_api_and_a_second_approval_is_409(resolved: World) -> None:
    r = registrations.submit(resolved.acme_user, deal())
    client, token = Client(), resolved.token_for(resolved.alice)
    approved = api(client, token, "post", f"/deal-registrations/{r.pk}/approve", {"reason": "ok"})
    assert approved.status_code == 200 and approved.json()["opportunity_id"]
    assert (
        api(
            client, token, "post", f"/deal-registrations/{r.pk}/approve", {"reason": "ok"}
        ).status_code
        == 409
    )
    sla = api(client, token, "get", "/deal-registrations/sla").json()
    assert (sla["decided"], sla["within_sla"]["count"], sla["median_hours"]) == (1, 1, None)


def test_outsiders_get_404_on_every_registration_endpoint_and_page(resolved: World) -> None:
    r = registrations.submit(resolved.acme_user, deal())
    client, token = Client(), resolved.token_for(resolved.globex_user)
    for method, url, body in [
        ("get", f"/deal-registrations/{r.pk}", None),
        ("post", f"/deal-registrations/{r.pk}/approve", {"reason": ""}),
        ("post", f"/deal-registrations/{r.pk}/reject", {"reason": "x"}),
        ("post", f"/deal-registrations/{r.pk}/withdraw", None),
        ("post", f"/deal-registrations/{r.pk}/extensions", {"reason": "x"}),
        ("post", f"/deal-registrations/{r.pk}/appeal", {"text": "x"}),
        ("post", f"/deal-registrations/{r.pk}/appeal/decision", {"overturn": True, "reason": "x"}),
        ("get", "/deal-registrations/sla", None),
    ]:
        assert api(client, token, method, url, body).status_code == 404, url
    assert api(client, token, "get", "/deal-registrations").json()["count"] == 0
    browser = resolved.client_for(resolved.globex_user)
    assert browser.get(reverse("registration-details", args=[r.pk])).status_code == 404
    for action in ("approve", "reject", "withdraw", "extend", "appeal", "overturn"):
        assert (
            browser.post(
                reverse("registration-act", args=[r.pk, action]), {"reason": "x", "text": "x"}
            ).status_code
            == 404
        )
    assert DealRegistration.objects.get().status == "pending"


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("alice", 302),
        ("cpo", 302),
        ("bob", 403),
        ("ann", 403),
        ("acme_user", 404),
        ("acme_admin", 404),
    ],
)
def test_who_may_approve_on_the_page(resolved: World, who: str, status: int) -> None:
    r = registrations.submit(resolved.acme_user, deal())
    response = resolved.client_for(getattr(resolved, who)).post(
        reverse("registration-act", args=[r.pk, "approve"]), {"reason": ""}
    )
    assert response.status_code == status
    r.refresh_from_db()
    assert (r.status == "approved") == (status == 302)


def test_portal_form_registers_and_shows_errors_by_field(resolved: World) -> None:
    client = resolved.client_for(resolved.acme_user)
    form = client.get(reverse("registration-new"))
    assert form.status_code == 200 and b'name="idempotency_key"' in form.content
    bad = client.post(
        reverse("registration-new"), {**deal(currency="EURO"), "idempotency_key": "f-1"}
    )
    assert bad.status_code == 400 and b"ISO 4217" in bad.content
    good = client.post(reverse("registration-new"), {**deal(), "idempotency_key": "f-2"})
    assert good.status_code == 302
    page = client.get(good["Location"])
    assert b"Pending review" in page.content and b"No conflict found" in page.content
    again = client.post(reverse("registration-new"), {**deal(), "idempotency_key": "f-2"})
    assert again.status_code == 409
    assert DealRegistration.objects.count() == 1


def test_staff_list_shows_the_service_level_and_filters(resolved: World) -> None:
    registrations.submit(resolved.acme_user, deal())
    registrations.submit(resolved.globex_user, deal(company_name="Initech", domain=""))
    client = resolved.client_for(resolved.ann)
    page = client.get(reverse("registration-list") + "?status=pending")
    assert page.status_code == 200
    assert (
        b'data-testid="sla"' in page.content
        and b"Hooli" in page.content
        and b"Initech" not in page.content
    )
    assert client.get(reverse("registration-list") + "?status=maybe").status_code == 400
    export = client.get(reverse("registration-list") + "?format=csv")
    csv_text = b"".join(export.streaming_content).decode()  # type: ignore[attr-defined]
    assert (
        csv_text.splitlines()[0].startswith("id,partner,company")
        and len(csv_text.splitlines()) == 3
    )
    portal = resolved.client_for(resolved.globex_user).get(reverse("registration-list"))
    assert b"Hooli" not in portal.content and b"Initech" in portal.content


def test_notifications_page_lists_and_marks_read(resolved: World) -> None:
    registrations.submit(resolved.acme_user, deal())
    client = resolved.client_for(resolved.alice)
    assert b"Notifications (1)" in client.get(reverse("home")).content
    page = client.get(reverse("notifications"))
    assert b"Acme registered Hooli" in page.content
    assert b"Notifications (1)" not in client.get(reverse("home")).content
