"""The CPO defines scorecards in the browser and by API: a new scorecard, a draft's criteria
table (replaced whole), publishing; published versions are frozen; nobody else may."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from mutualist.fit.models import Criterion, Scorecard, ScorecardVersion
from tests.fit.conftest import Fit


def _rows(*rows: dict[str, Any]) -> dict[str, Any]:
    """A posted criteria table: one list per column, evidence by row index."""
    fields = ("key", "name", "kind", "scale_max", "weight", "gate_min", "full_at")
    data: dict[str, Any] = {f: [str(r.get(f, "")) for r in rows] for f in fields}
    data["evidence_required"] = [str(i) for i, r in enumerate(rows) if r.get("evidence")]
    return data


GOOD: tuple[dict[str, Any], ...] = (
    {"key": "vision", "name": "Vision", "kind": "manual", "scale_max": 10, "weight": 60,
     "gate_min": "4.5", "evidence": True},
    {"key": "reach", "name": "Reach", "kind": "segment_coverage", "weight": 25},
    {"key": "deals", "name": "Deals", "kind": "deal_flow", "weight": 15, "full_at": 6},
    {},  # a blank row is left out
)  # fmt: skip


def _stored(version: ScorecardVersion) -> list[tuple[Any, ...]]:
    return [
        (c.key, c.kind, c.scale_max, c.weight, c.gate_min, c.evidence_required, c.full_at)
        for c in version.criteria.all()
    ]


def _api(client: Client, method: str, url: str, token: str, body: Any = None) -> Any:
    return getattr(client, method)(
        url,
        json.dumps(body or {}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def test_the_cpo_creates_edits_and_publishes_in_the_browser(fit: Fit) -> None:
    w = fit.world
    client = w.client_for(w.cpo)
    page = client.get("/fit/")
    assert b"New scorecard" in page.content
    made = client.post(
        "/fit/",
        {"scorecard_name": "Resellers", "target_segments": ["industry:retail"], **_rows(*GOOD)},
    )
    card = Scorecard.objects.get(name="Resellers")
    assert made.status_code == 302 and made["Location"] == f"/fit/scorecards/{card.pk}/"
    draft = card.versions.get()
    assert draft.target_segments == ["industry:retail"] and not draft.published
    assert _stored(draft) == [
        ("vision", "manual", 10, 60, 4.5, True, 1),
        ("reach", "segment_coverage", 5, 25, None, False, 1),
        ("deals", "deal_flow", 5, 15, None, False, 6),
    ]
    url = f"/fit/scorecards/{card.pk}/"
    shown = client.get(url)
    assert shown.context["versions"][0]["form"]["weight_total"] == 100
    assert b'name="weight"' in shown.content and b"Save criteria" in shown.content
    edit = _rows(
        {"key": "vision", "name": "Vision", "weight": 70, "gate_min": ""},
        {"key": "overlap", "name": "Overlap", "kind": "customer_overlap", "weight": 30,
         "full_at": 3, "evidence": True},
    )  # fmt: skip
    saved = client.post(
        url, {"action": "criteria", "version": draft.pk, "target_segments": [], **edit}
    )
    assert saved.status_code == 302
    draft.refresh_from_db()
    assert draft.target_segments == []
    assert _stored(draft) == [
        ("vision", "manual", 5, 70, None, False, 1),
        ("overlap", "customer_overlap", 5, 30, None, True, 3),
    ]
    assert client.post(url, {"action": "publish", "version": draft.pk}).status_code == 302
    draft.refresh_from_db()
    assert draft.published
    frozen = client.get(url)
    assert frozen.context["versions"][0]["form"] is None
    assert b"make a new version" in frozen.content and b"Save criteria" not in frozen.content
    refused = client.post(url, {"action": "criteria", "version": draft.pk, **edit})
    assert refused.status_code == 409
    assert len(_stored(draft)) == 2


def test_the_browser_names_each_rows_errors_and_the_weight_sum(fit: Fit) -> None:
    w = fit.world
    client = w.client_for(w.cpo)
    bad = _rows(
        {"key": "vision", "name": "Vision", "weight": 50, "gate_min": "9"},
        {"key": "Bad Key", "name": "Reach", "kind": "segment_coverage", "weight": 20},
    )
    made = client.post("/fit/", {"scorecard_name": "Resellers", **bad})
    assert made.status_code == 400
    assert not Scorecard.objects.filter(name="Resellers").exists()
    form = made.context["new"]
    assert form["rows"][1]["errors"]["key"].startswith("'Bad Key' is not a key")
    assert form["rows"][0]["errors"]["gate_min"].startswith("9 is outside vision's scale")
    assert form["rows"][0]["gate_min"] == "9" and form["name"] == "Resellers"
    sums = _rows(
        {"key": "vision", "name": "Vision", "weight": 50},
        {"key": "reach", "name": "Reach", "weight": 20},
    )
    made = client.post("/fit/", {"scorecard_name": "Resellers", **sums})
    assert made.status_code == 400
    assert made.context["new"]["general"] == {
        "weights": "the weights sum to 70; they must sum to 100"
    }
    assert made.context["new"]["weight_total"] == 70
    assert b"the weights sum to 70" in made.content
    draft = fit.version.scorecard.versions.create(number=2, created_at=fit.version.created_at)
    Criterion.objects.create(version=draft, key="only", name="Only", kind="manual", weight=100)
    url = f"/fit/scorecards/{draft.scorecard_id}/"
    page = client.post(url, {"action": "criteria", "version": draft.pk, **sums})
    assert page.status_code == 400
    assert page.context["versions"][0]["form"]["general"]["weights"].startswith(
        "the weights sum to 70"
    )
    assert [c.key for c in draft.criteria.all()] == ["only"]


def test_only_the_cpo_edits_in_the_browser(fit: Fit) -> None:
    w = fit.world
    url = f"/fit/scorecards/{fit.version.scorecard_id}/"
    body = {"scorecard_name": "Resellers", **_rows(*GOOD)}
    for user in (w.alice, w.ann):
        client = w.client_for(user)
        assert client.post("/fit/", body).status_code == 403
        assert client.post(url, {"action": "new_version"}).status_code == 403
        assert b"New scorecard" not in client.get("/fit/").content
    acme = w.client_for(w.acme_user)
    assert acme.post("/fit/", body).status_code == 404
    assert acme.post(url, {"action": "criteria", "version": fit.version.pk}).status_code == 404
    assert not Scorecard.objects.filter(name="Resellers").exists()


API_BODY = {
    "name": "Resellers",
    "target_segments": ["technology:cloud"],
    "criteria": [
        {"key": "vision", "name": "Vision", "weight": 80, "gate_min": 3, "evidence_required": True},
        {"name": "Customer overlap", "kind": "customer_overlap", "weight": 20, "full_at": 5},
    ],
}


def test_the_cpo_creates_edits_and_publishes_by_api(fit: Fit) -> None:
    w = fit.world
    client, token = Client(), w.token_for(w.cpo)
    made = _api(client, "post", "/api/v1/fit/scorecards", token, API_BODY)
    assert made.status_code == 201, made.content
    out = made.json()
    assert out["number"] == 1 and not out["published"] and out["weight_total"] == 100
    version = ScorecardVersion.objects.get(pk=out["id"])
    assert version.scorecard.name == "Resellers"
    assert version.target_segments == ["technology:cloud"]
    assert _stored(version) == [
        ("vision", "manual", 5, 80, 3, True, 1),
        ("customer_overlap", "customer_overlap", 5, 20, None, False, 5),
    ]
    url = f"/api/v1/fit/versions/{version.pk}/criteria"
    edit = {"criteria": [{"key": "vision", "name": "Vision", "weight": 100, "scale_max": 10}]}
    changed = _api(client, "put", url, token, edit)
    assert changed.status_code == 200 and changed.json()["criteria"][0]["scale_max"] == 10
    assert _stored(version) == [("vision", "manual", 10, 100, None, False, 1)]
    assert version.target_segments == ["technology:cloud"]  # the instance read before
    version.refresh_from_db()
    assert version.target_segments == []
    published = _api(client, "post", f"/api/v1/fit/versions/{version.pk}/publish", token)
    assert published.status_code == 200 and published.json()["published"]
    frozen = _api(client, "put", url, token, API_BODY)
    assert frozen.status_code == 409 and "make a new version" in frozen.json()["detail"]
    assert _stored(version) == [("vision", "manual", 10, 100, None, False, 1)]
    again = _api(client, "post", f"/api/v1/fit/versions/{version.pk}/publish", token)
    assert again.status_code == 409


def test_the_api_refuses_weights_not_summing_to_100_and_stores_nothing(fit: Fit) -> None:
    w = fit.world
    client, token = Client(), w.token_for(w.cpo)
    bad = json.loads(json.dumps(API_BODY))
    bad["criteria"][1]["weight"] = 30
    made = _api(client, "post", "/api/v1/fit/scorecards", token, bad)
    assert made.status_code == 422
    assert {"loc": ["body", "weights"], "msg": "the weights sum to 110; they must sum to 100"} in (
        made.json()["detail"]
    )
    assert not Scorecard.objects.filter(name="Resellers").exists()
    draft = fit.version.scorecard.versions.create(number=2, created_at=fit.version.created_at)
    Criterion.objects.create(version=draft, key="only", name="Only", kind="manual", weight=100)
    url = f"/api/v1/fit/versions/{draft.pk}/criteria"
    refused = _api(client, "put", url, token, bad)
    assert refused.status_code == 422 and "sum to 110" in json.dumps(refused.json())
    gate = {"criteria": [{"key": "only", "name": "Only", "weight": 100, "gate_min": 7}]}
    refused = _api(client, "put", url, token, gate)
    assert refused.json()["detail"][0]["loc"] == ["body", "criteria[0].gate_min"]
    assert [(c.key, c.weight) for c in draft.criteria.all()] == [("only", 100)]


def test_only_the_cpo_may_by_api_and_partner_people_see_nothing(fit: Fit) -> None:
    w = fit.world
    client = Client()
    draft = fit.version.scorecard.versions.create(number=2, created_at=fit.version.created_at)
    calls = [
        ("post", "/api/v1/fit/scorecards", API_BODY),
        ("put", f"/api/v1/fit/versions/{draft.pk}/criteria", API_BODY),
        ("post", f"/api/v1/fit/versions/{draft.pk}/publish", None),
    ]
    for user, expected in ((w.alice, 403), (w.ann, 403), (w.acme_user, 404)):
        token = w.token_for(user)
        for method, url, body in calls:
            assert _api(client, method, url, token, body).status_code == expected, (user, url)
    assert (
        _api(
            client, "put", "/api/v1/fit/versions/999999/criteria", w.token_for(w.cpo), API_BODY
        ).status_code
        == 404
    )
    assert not Scorecard.objects.filter(name="Resellers").exists()
    assert (
        draft.criteria.count() == 0
        and ScorecardVersion.objects.get(pk=draft.pk).published_at is None
    )
