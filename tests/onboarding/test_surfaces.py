from __future__ import annotations

import json
from typing import Any

from django.test import Client

from mutualist.accounts.models import User
from mutualist.onboarding.models import Journey, Task
from tests.conftest import World
from tests.onboarding.conftest import Onboarding, put_in_onboarding, standard_template


def test_staff_list_filters_and_csv(onboarding: Onboarding) -> None:
    w = onboarding.world
    client = w.client_for(w.ann)
    page = client.get("/onboarding/")
    assert page.status_code == 200
    table = page.content.decode()
    assert "Acme" in table and "0 / 6" in table
    assert client.get("/onboarding/?status=cancelled").context["page"].paginator.count == 0
    assert client.get("/onboarding/?overdue=1").context["page"].paginator.count == 1
    bad = client.get("/onboarding/?status=paused")
    assert bad.status_code == 400
    assert "use one of: active, completed, cancelled" in bad.content.decode()
    csv: Any = client.get("/onboarding/?format=csv")
    lines = b"".join(csv.streaming_content).decode().splitlines()
    assert lines[0].startswith("journey_id,partner,template,status,started_at,tasks,done")
    assert lines[1].split(",")[1:9] == [
        "Acme", "Standard onboarding v1", "active", "2025-01-15", "6", "0", "0", "6",
    ]  # fmt: skip


def test_journey_page_shows_blocked_and_overdue(onboarding: Onboarding) -> None:
    w = onboarding.world
    page = w.client_for(w.alice).get(f"/onboarding/journeys/{onboarding.journey.pk}/")
    body = page.content.decode()
    assert page.status_code == 200
    assert "phase &#x27;Welcome&#x27; is not complete" in body
    assert page.context["progress"].percent == 0
    assert len(page.context["progress"].overdue) == 6  # T0 was long ago


def test_outsiders_get_404(onboarding: Onboarding) -> None:
    w = onboarding.world
    client = w.client_for(w.globex_user)
    task = onboarding.task("Name contacts")
    assert client.get(f"/onboarding/journeys/{onboarding.journey.pk}/").status_code == 404
    assert client.get(f"/onboarding/tasks/{task.pk}/").status_code == 404
    response = client.post(f"/onboarding/tasks/{task.pk}/", {"action": "complete"})
    assert response.status_code == 404
    assert client.get(f"/onboarding/templates/{onboarding.template.pk}/").status_code == 404
    assert Task.objects.get(pk=task.pk).status == "open"
    # Globex's own portal: no journey.
    assert b"There is no onboarding journey for Globex" in client.get("/onboarding/").content


def test_portal_completion(onboarding: Onboarding) -> None:
    w = onboarding.world
    client = w.client_for(w.acme_user)
    assert (
        client.get("/onboarding/")["Location"] == f"/onboarding/journeys/{onboarding.journey.pk}/"
    )
    task = onboarding.task("Name contacts")
    response = client.post(
        f"/onboarding/tasks/{task.pk}/", {"action": "complete", "note": "Jane is our lead"}
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.status, task.completed_by, task.note) == ("done", w.acme_user, "Jane is our lead")
    page = client.get(f"/onboarding/journeys/{onboarding.journey.pk}/")
    assert page.context["progress"].percent == 17  # 1 of 6


def test_portal_blocked_task_is_409_with_the_reason(onboarding: Onboarding) -> None:
    w = onboarding.world
    task = onboarding.task("Connector build")
    response = w.client_for(w.acme_user).post(
        f"/onboarding/tasks/{task.pk}/", {"action": "complete"}
    )
    assert response.status_code == 409
    assert "&#x27;API keys&#x27; (Integration) is not done" in response.content.decode()


def test_analyst_may_look_but_not_complete(onboarding: Onboarding) -> None:
    w = onboarding.world
    task = onboarding.task("Kickoff call")
    response = w.client_for(w.ann).post(f"/onboarding/tasks/{task.pk}/", {"action": "complete"})
    assert response.status_code == 403
    assert Task.objects.get(pk=task.pk).status == "open"


def test_staff_start_and_template_page(world: World) -> None:
    template = standard_template(world)
    put_in_onboarding(world.globex)
    client = world.client_for(world.bob)
    index = client.get("/onboarding/")
    assert [p.name for p in index.context["waiting"]] == ["Globex"]
    response = client.post("/onboarding/start/", {"partner": world.globex.pk})
    journey = Journey.objects.get(partner=world.globex)
    assert response["Location"] == f"/onboarding/journeys/{journey.pk}/"
    page = client.get(f"/onboarding/templates/{template.pk}/")
    assert page.status_code == 200 and b"Sales certification" in page.content


# --- API -----------------------------------------------------------------------------------


def _get(onboarding: Onboarding, user: User, url: str) -> Any:
    token = onboarding.world.token_for(user)
    return Client().get(url, HTTP_AUTHORIZATION=f"Bearer {token}")


def _post(onboarding: Onboarding, user: User, url: str, body: dict[str, Any]) -> Any:
    token = onboarding.world.token_for(user)
    return Client().post(
        url, json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )


def test_api_lists_and_reads_journeys(onboarding: Onboarding) -> None:
    w = onboarding.world
    listed = _get(onboarding, w.acme_user, "/api/v1/onboarding/journeys").json()
    assert listed["count"] == 1
    item = listed["items"][0]
    assert (item["partner"], item["tasks"], item["done"], item["percent_done"]) == ("Acme", 6, 0, 0)
    assert item["days_to_first_registered_deal"] == 0 and item["days_to_first_won_deal"] == 45
    detail = _get(onboarding, w.acme_user, f"/api/v1/onboarding/journeys/{onboarding.journey.pk}")
    tasks = {t["title"]: t for t in detail.json()["task_list"]}
    assert tasks["Connector build"]["blocked_by"] == ["'API keys' (Integration) is not done"]
    assert _get(onboarding, w.globex_user, "/api/v1/onboarding/journeys").json()["count"] == 0
    outsider = _get(
        onboarding, w.globex_user, f"/api/v1/onboarding/journeys/{onboarding.journey.pk}"
    )
    assert outsider.status_code == 404
    assert _get(onboarding, w.ann, "/api/v1/onboarding/journeys?status=paused").status_code == 422


def test_api_complete(onboarding: Onboarding) -> None:
    w = onboarding.world
    contacts, cert = onboarding.task("Name contacts"), onboarding.task("Sales certification")
    url = f"/api/v1/onboarding/tasks/{contacts.pk}/complete"
    assert _post(onboarding, w.globex_user, url, {}).status_code == 404
    done = _post(onboarding, w.acme_user, url, {"note": "Jane"})
    assert done.status_code == 200
    assert done.json()["status"] == "done"
    again = _post(onboarding, w.acme_user, url, {})
    assert again.status_code == 409
    blocked = _post(onboarding, w.acme_user, f"/api/v1/onboarding/tasks/{cert.pk}/complete", {})
    assert blocked.status_code == 409
    assert "phase 'Welcome' is not complete" in blocked.json()["detail"]


def test_api_start(onboarding: Onboarding) -> None:
    w = onboarding.world
    url = f"/api/v1/partners/{w.globex.pk}/onboarding"
    assert _post(onboarding, w.acme_user, url, {}).status_code == 404
    refused = _post(onboarding, w.bob, url, {})
    assert refused.status_code == 409  # Globex is active
    put_in_onboarding(w.globex)
    assert _post(onboarding, w.ann, url, {}).status_code == 403
    started = _post(onboarding, w.bob, url, {"template_id": onboarding.template.pk})
    assert started.status_code == 201
    assert len(started.json()["task_list"]) == 6
