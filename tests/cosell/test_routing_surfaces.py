"""Lead routing and referral pages and API endpoints: what each role gets, a 404 for an
outsider partner everywhere, 403 for staff who may look but not act, 422 naming the field."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from mutualist.accounts import actions as account_actions
from mutualist.accounts.models import User
from mutualist.accounts.roles import Role
from mutualist.cosell import referrals, routing
from mutualist.cosell.models import LeadOffer, Referral
from mutualist.crm.models import Lead
from mutualist.partners.models import Partner
from tests.conftest import PASSWORD, T0, World, make_partner

API = "/api/v1"


@dataclass
class Surfaces:
    world: World
    lead: Lead  # routed to Acme, unanswered
    offer: LeadOffer
    spare: Lead  # not routed yet
    referral: Referral  # Acme -> Initrode
    initrode_user: User


@pytest.fixture
def surfaces(world: World) -> Surfaces:
    lead = Lead.objects.create(company="Vandelay Industries", created_at=T0, country="US")
    spare = Lead.objects.create(company="Kramerica", created_at=T0, country="US")
    offer = routing.offer_lead(world.alice, lead, world.acme)
    initrode = make_partner("Initrode", None)
    initrode_user = account_actions.create_user(
        None, "initrode_user", PASSWORD, Role.PARTNER_USER, partner=initrode
    )
    referral = referrals.refer(
        world.acme_admin,
        initrode,
        {"company_name": "Hooli", "domain": "hooli.com", "country": "US", "currency": "USD"},
    )
    return Surfaces(world, lead, offer, spare, referral, initrode_user)


def api(client: Client, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    kwargs: dict[str, Any] = {}
    if body is not None:
        kwargs = {"data": json.dumps(body), "content_type": "application/json"}
    return getattr(client, method)(url, **kwargs)


def test_an_outsider_partner_gets_404_on_every_page(surfaces: Surfaces) -> None:
    s = surfaces
    client = s.world.client_for(s.world.globex_user)
    for url in (
        reverse("lead-offer", args=[s.offer.pk]),
        reverse("lead-route", args=[s.lead.pk]),
        reverse("lead-route", args=[s.spare.pk]),
        reverse("referral", args=[s.referral.pk]),
    ):
        assert client.get(url).status_code == 404, url
    assert (
        client.post(reverse("lead-offer", args=[s.offer.pk]), {"action": "accept"}).status_code
        == 404
    )
    assert (
        client.post(reverse("lead-route", args=[s.spare.pk]), {"partner": "rule"}).status_code
        == 404
    )
    assert (
        client.post(reverse("referral", args=[s.referral.pk]), {"action": "accept"}).status_code
        == 404
    )
    # The lists show Globex's own (none), nothing of Acme's.
    for url in (reverse("lead-offers"), reverse("referrals")):
        response = client.get(url)
        assert response.status_code == 200
        assert b"Vandelay" not in response.content and b"Hooli" not in response.content
    assert client.get(reverse("lead-offers") + "?format=csv").getvalue().decode().count("\n") == 1
    assert LeadOffer.objects.get(pk=s.offer.pk).status == LeadOffer.Status.OFFERED
    assert Referral.objects.get(pk=s.referral.pk).status == Referral.Status.OFFERED


def test_an_outsider_partner_gets_404_on_every_endpoint(surfaces: Surfaces) -> None:
    s = surfaces
    client = Client(HTTP_AUTHORIZATION=f"Bearer {s.world.token_for(s.world.globex_user)}")
    for method, url, body in [
        ("post", f"{API}/leads/{s.spare.pk}/offers", {}),
        ("post", f"{API}/leads/{s.lead.pk}/offers", {"partner_id": s.world.globex.pk}),
        ("post", f"{API}/lead-offers/{s.offer.pk}/accept", None),
        ("post", f"{API}/lead-offers/{s.offer.pk}/decline", {"reason": "no"}),
        ("get", f"{API}/lead-offers/stats", None),
        ("post", f"{API}/referrals/{s.referral.pk}/accept", None),
        ("post", f"{API}/referrals/{s.referral.pk}/decline", None),
    ]:
        assert api(client, method, url, body).status_code == 404, url
    for url in (f"{API}/lead-offers", f"{API}/referrals"):
        response = api(client, "get", url)
        assert response.status_code == 200
        assert response.json() == {"count": 0, "page": 1, "page_size": 50, "items": []}
    assert LeadOffer.objects.get(pk=s.offer.pk).status == LeadOffer.Status.OFFERED


def test_anonymous_is_sent_to_log_in_and_the_api_says_401(
    surfaces: Surfaces, client: Client
) -> None:
    response = client.get(reverse("lead-offers"))
    assert response.status_code == 302 and "login" in response["Location"]
    assert client.get(f"{API}/lead-offers").status_code == 401
    assert api(client, "post", f"{API}/leads/{surfaces.spare.pk}/offers", {}).status_code == 401


def test_an_analyst_may_look_but_not_offer(surfaces: Surfaces) -> None:
    s = surfaces
    client = s.world.client_for(s.world.ann)
    page = client.get(reverse("lead-route", args=[s.spare.pk]))
    assert page.status_code == 200
    assert b"Offer to" not in page.content  # no buttons for a role that cannot offer
    assert (
        client.post(reverse("lead-route", args=[s.spare.pk]), {"partner": "rule"}).status_code
        == 403
    )
    token = s.world.token_for(s.world.ann)
    response = api(
        Client(HTTP_AUTHORIZATION=f"Bearer {token}"), "post", f"{API}/leads/{s.spare.pk}/offers", {}
    )
    assert response.status_code == 403
    assert "cannot offer leads" in response.json()["detail"]
    assert not LeadOffer.objects.filter(lead=s.spare).exists()


def test_staff_route_a_lead_on_the_page(surfaces: Surfaces) -> None:
    s = surfaces
    client = s.world.client_for(s.world.alice)
    page = client.get(reverse("lead-route", args=[s.spare.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    # Acme and Initrode: US gold resellers like the lead (30+0+0+10+10+10); Acme has one open
    # offer already, so 9 capacity points: Initrode 60, Acme 59.
    assert "1. Initrode" in text and "2. Acme" in text and "based in US, like the lead" in text
    response = client.post(
        reverse("lead-route", args=[s.spare.pk]), {"partner": str(s.world.acme.pk)}
    )
    offer = LeadOffer.objects.get(lead=s.spare)
    assert response.status_code == 302 and response["Location"] == reverse(
        "lead-offer", args=[offer.pk]
    )
    assert (offer.partner, offer.score) == (s.world.acme, 59)
    again = client.post(reverse("lead-route", args=[s.spare.pk]), {"partner": "rule"})
    assert again.status_code == 409 and b"unanswered offer" in again.content
    bad = client.post(
        reverse("lead-route", args=[s.lead.pk]), {"partner": "rule", "sla_hours": "soon"}
    )
    assert bad.status_code == 400 and b"sla_hours" in bad.content


def test_the_partner_answers_on_the_page(surfaces: Surfaces) -> None:
    s = surfaces
    client = s.world.client_for(s.world.acme_user)
    listing = client.get(reverse("lead-offers"))
    assert listing.status_code == 200 and b"Accept Vandelay Industries" in listing.content
    url = reverse("lead-offer", args=[s.offer.pk])
    missing = client.post(url, {"action": "decline", "reason": ""})
    assert missing.status_code == 400 and b"say why you decline" in missing.content
    assert client.post(url, {"action": "accept"}).status_code == 302
    s.lead.refresh_from_db()
    assert s.lead.partner == s.world.acme


def test_staff_cannot_answer_for_the_partner(surfaces: Surfaces) -> None:
    s = surfaces
    client = s.world.client_for(s.world.cpo)
    url = reverse("lead-offer", args=[s.offer.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, {"action": "accept"}).status_code == 403
    assert LeadOffer.objects.get(pk=s.offer.pk).status == LeadOffer.Status.OFFERED


def test_the_offers_list_filters_and_exports(surfaces: Surfaces) -> None:
    s = surfaces
    client = s.world.client_for(s.world.cpo)
    page = client.get(
        reverse("lead-offers"), {"partner": str(s.world.acme.pk), "status": "offered"}
    )
    assert page.status_code == 200 and b"Vandelay Industries" in page.content
    assert b"Kramerica" in page.content  # waiting for routing
    empty = client.get(reverse("lead-offers"), {"partner": s.world.globex.pk})
    assert b"No offers match" in empty.content
    bad = client.get(reverse("lead-offers"), {"status": "maybe"})
    assert (
        bad.status_code == 400 and b"unknown status" in bad.content and b"accepted" in bad.content
    )
    exported = client.get(reverse("lead-offers"), {"format": "csv", "q": "vandelay"})
    rows = list(csv.DictReader(io.StringIO(exported.getvalue().decode())))
    assert [(r["lead"], r["partner"], r["status"]) for r in rows] == [
        ("Vandelay Industries", "Acme", "offered")
    ]


def test_the_api_offers_answers_and_counts(surfaces: Surfaces) -> None:
    s = surfaces
    staff = Client(HTTP_AUTHORIZATION=f"Bearer {s.world.token_for(s.world.cpo)}")
    created = api(staff, "post", f"{API}/leads/{s.spare.pk}/offers", {"sla_hours": 12})
    assert created.status_code == 201
    body = created.json()
    assert (body["lead_company"], body["partner_name"], body["score"]) == (
        "Kramerica",
        "Initrode",
        60.0,
    )
    assert [f["factor"] for f in body["explanation"]] == [
        "geography", "industry", "technology", "type", "tier", "capacity"
    ]  # fmt: skip
    partner = Client(HTTP_AUTHORIZATION=f"Bearer {s.world.token_for(s.world.acme_user)}")
    listed = api(partner, "get", f"{API}/lead-offers").json()
    assert listed["count"] == 1 and listed["items"][0]["lead_company"] == "Vandelay Industries"
    no_reason = api(partner, "post", f"{API}/lead-offers/{s.offer.pk}/decline", {"reason": " "})
    assert no_reason.status_code == 422
    assert no_reason.json()["detail"][0]["loc"] == ["body", "reason"]
    accepted = api(partner, "post", f"{API}/lead-offers/{s.offer.pk}/accept")
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    again = api(partner, "post", f"{API}/lead-offers/{s.offer.pk}/accept")
    assert again.status_code == 409
    stats = {r["partner_name"]: r for r in api(staff, "get", f"{API}/lead-offers/stats").json()}
    assert (stats["Acme"]["offers"], stats["Acme"]["accepted"]) == (1, 1)
    assert stats["Acme"]["acceptance_rate"]["value"] == 1.0
    assert stats["Acme"]["acceptance_rate"]["low"] == pytest.approx(0.2065, abs=1e-4)
    assert stats["Acme"]["median_note"] == "not enough data (1 accepted, 5 needed)"
    assert (stats["Initrode"]["open"], stats["Initrode"]["acceptance_rate"]["value"]) == (1, None)


def test_the_api_refers_and_names_wrong_fields(surfaces: Surfaces) -> None:
    s = surfaces
    acme = Client(HTTP_AUTHORIZATION=f"Bearer {s.world.token_for(s.world.acme_admin)}")
    bad = api(
        acme,
        "post",
        f"{API}/referrals",
        {"to_partner_id": s.world.globex.pk, "company_name": "Pied Piper", "country": "Narnia"},
    )
    assert bad.status_code == 422
    assert [d["loc"] for d in bad.json()["detail"]] == [["body", "country"]]
    good = api(
        acme,
        "post",
        f"{API}/referrals",
        {
            "to_partner_id": s.world.globex.pk,
            "company_name": "Pied Piper",
            "country": "US",
            "amount": "1200.50",
        },
    )
    assert good.status_code == 201
    referral_id = good.json()["id"]
    assert good.json()["amount"] == "1200.50" and good.json()["to_partner_name"] == "Globex"
    globex = Client(HTTP_AUTHORIZATION=f"Bearer {s.world.token_for(s.world.globex_user)}")
    received = api(globex, "get", f"{API}/referrals?direction=received").json()
    assert [r["company_name"] for r in received["items"]] == ["Pied Piper"]
    assert api(acme, "post", f"{API}/referrals/{referral_id}/accept").status_code == 403
    accepted = api(globex, "post", f"{API}/referrals/{referral_id}/accept")
    assert accepted.status_code == 200 and accepted.json()["opportunity_id"] is not None
    staff = Client(HTTP_AUTHORIZATION=f"Bearer {s.world.token_for(s.world.cpo)}")
    assert (
        api(
            staff,
            "post",
            f"{API}/referrals",
            {"to_partner_id": s.world.globex.pk, "company_name": "X", "country": "US"},
        ).status_code
        == 403
    )


def test_the_referral_pages(surfaces: Surfaces) -> None:
    s = surfaces
    client = s.world.client_for(s.world.acme_admin)
    form = client.get(reverse("referral-new"))
    assert form.status_code == 200
    assert b"Initrode" in form.content and b">Acme<" not in form.content  # never to itself
    bad = client.post(
        reverse("referral-new"),
        {"to_partner": s.world.globex.pk, "company_name": "", "country": "US"},
    )
    assert bad.status_code == 400 and b"company_name" in bad.content
    good = client.post(
        reverse("referral-new"),
        {
            "to_partner": s.world.globex.pk,
            "company_name": "Pied Piper",
            "country": "US",
            "currency": "USD",
        },
    )
    referral = Referral.objects.get(company_name="Pied Piper")
    assert good.status_code == 302 and good["Location"] == reverse("referral", args=[referral.pk])
    globex = s.world.client_for(s.world.globex_user)
    assert b"Accept referral" in globex.get(reverse("referral", args=[referral.pk])).content
    assert (
        globex.post(reverse("referral", args=[referral.pk]), {"action": "accept"}).status_code
        == 302
    )
    detail = globex.get(reverse("referral", args=[referral.pk])).content.decode()
    assert "Accepted" in detail and "Pied Piper (referral)" in detail
    assert s.world.client_for(s.world.cpo).get(reverse("referral-new")).status_code == 403
    listing = client.get(reverse("referrals"), {"direction": "made"})
    assert b"Pied Piper" in listing.content and b"Hooli" in listing.content


def test_partners_do_not_reach_the_staff_only_parts(surfaces: Surfaces) -> None:
    s = surfaces
    client = s.world.client_for(s.world.acme_admin)
    # Its own lead's routing is still the vendor's business.
    assert client.get(reverse("lead-route", args=[s.lead.pk])).status_code == 404
    listing = client.get(reverse("lead-offers")).content
    assert b"acceptance-stats" not in listing and b"Kramerica" not in listing
    assert Partner.objects.count() == 3
