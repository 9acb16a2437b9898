"""The CPO creates programs, levels, rules and benefits, and records partner facts, on the tiers
page and by API; nobody else may (other staff 403, a partner's people 404)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest

from mutualist.tiers.models import Benefit, Level, PartnerFact, Program, Rule
from tests.tiers.conftest import Tiered


def _api(client: Any, method: str, url: str, body: dict[str, Any]) -> Any:
    return getattr(client, method)(
        f"/api/v1{url}", data=json.dumps(body), content_type="application/json"
    )


# The page.


def test_the_cpo_sees_the_forms_and_others_do_not(tiered: Tiered) -> None:
    w = tiered.world
    page = w.client_for(w.cpo).get("/tiers/").content.decode()
    for form in ("program", "level", "rules", "benefit", "fact"):
        assert f'data-testid="form-{form}"' in page
    assert 'value="certifications"' in page and "Customer satisfaction (recorded)" in page
    assert b"form-program" not in w.client_for(w.ann).get("/tiers/").content


def test_the_forms_create_what_they_say(tiered: Tiered) -> None:
    w = tiered.world
    client = w.client_for(w.cpo)
    done = client.post("/tiers/", {"form": "program", "name": "Services", "grace_days": "30"})
    program = Program.objects.get(name="Services")
    assert done.status_code == 302 and done["Location"] == f"/tiers/?program={program.pk}"
    assert program.grace_days == 30 and program.created_by == w.cpo

    data = {"form": "level", "program": program.pk, "tier": "gold", "rank": "5", "name": "Top"}
    assert client.post("/tiers/", data).status_code == 302
    level = Level.objects.get(program=program)
    assert (level.tier, level.rank, level.name) == ("gold", 5, "Top")

    rules = {
        "form": "rules",
        "level": level.pk,
        "metric_0": "csat",
        "operator_0": ">=",
        "threshold_0": "4.5",
        "metric_2": "won_deals",
        "operator_2": "<=",
        "threshold_2": "10",
    }
    assert client.post("/tiers/", rules).status_code == 302
    stored = {(r.metric, r.operator, r.threshold) for r in level.rules.all()}
    assert stored == {("csat", ">=", Decimal("4.5")), ("won_deals", "<=", Decimal("10"))}

    benefit = {
        "form": "benefit",
        "level": level.pk,
        "kind": "mdf_rate",
        "value": "2.5",
        "valid_from": "2025-01-01",
        "valid_to": "2025-12-31",
    }
    assert client.post("/tiers/", benefit).status_code == 302
    b = Benefit.objects.get(level=level)
    assert (b.kind, b.value, b.valid_from, b.valid_to) == (
        "mdf_rate",
        Decimal("2.5"),
        dt.date(2025, 1, 1),
        dt.date(2025, 12, 31),
    )

    fact = {"form": "fact", "partner": w.globex.pk, "key": "certifications", "value": "7"}
    fact |= {"as_of": "2025-03-01"}
    assert client.post("/tiers/", fact).status_code == 302
    f = PartnerFact.objects.get(partner=w.globex)
    assert (f.key, f.value, f.as_of, f.recorded_by) == (
        "certifications",
        Decimal("7"),
        dt.date(2025, 3, 1),
        w.cpo,
    )


def test_an_unknown_metric_is_refused_on_the_page_and_nothing_changes(tiered: Tiered) -> None:
    w = tiered.world
    level = tiered.levels["gold"]
    before = list(level.rules.values_list("metric", "threshold"))
    data = {"form": "rules", "level": level.pk, "metric_0": "csat", "threshold_0": "4"}
    data |= {"metric_1": "bogus", "threshold_1": "1"}
    page = w.client_for(w.cpo).post("/tiers/", data)
    assert page.status_code == 400
    body = page.content.decode()
    assert "&#x27;bogus&#x27; is not a known metric" in body
    assert 'value="4"' in body  # what was typed stays
    assert list(level.rules.values_list("metric", "threshold")) == before


def test_page_field_errors_are_shown_per_field(tiered: Tiered) -> None:
    w = tiered.world
    data = {"form": "benefit", "level": tiered.levels["gold"].pk, "kind": "discount"}
    data |= {"value": "lots", "valid_from": ""}
    page = w.client_for(w.cpo).post("/tiers/", data)
    assert page.status_code == 400
    assert b"is not a number" in page.content and b"give the first day" in page.content
    assert Benefit.objects.filter(level=tiered.levels["gold"]).count() == 1


FORMS = [
    {"form": "program", "name": "Nope", "grace_days": "10"},
    {"form": "level", "program": "{program}", "tier": "platinum", "rank": "9"},
    {"form": "rules", "level": "{level}", "metric_0": "csat", "threshold_0": "1"},
    {"form": "benefit", "level": "{level}", "kind": "discount", "value": "1"},
    {"form": "fact", "partner": "{globex}", "key": "csat", "value": "3"},
]


def _filled(form: dict[str, str], tiered: Tiered) -> dict[str, Any]:
    names = {
        "{program}": tiered.program.pk,
        "{level}": tiered.levels["gold"].pk,
        "{globex}": tiered.world.globex.pk,
    }
    return {k: names.get(v, v) for k, v in form.items()}


def _stored() -> tuple[int, ...]:
    return tuple(m.objects.count() for m in (Program, Level, Rule, Benefit, PartnerFact))


@pytest.mark.parametrize("form", FORMS, ids=lambda f: f["form"])
@pytest.mark.parametrize(("who", "status"), [("alice", 403), ("ann", 403), ("acme_user", 404)])
def test_only_the_cpo_may_post_the_forms(
    tiered: Tiered, form: dict[str, str], who: str, status: int
) -> None:
    w = tiered.world
    before = _stored()
    response = w.client_for(getattr(w, who)).post("/tiers/", _filled(form, tiered))
    assert response.status_code == status
    assert _stored() == before


# The API.


def test_the_endpoints_create_what_they_say(tiered: Tiered) -> None:
    w = tiered.world
    client = w.client_for(w.cpo)
    made = _api(client, "post", "/tiers/programs", {"name": "Services", "grace_days": 45})
    assert made.status_code == 201, made.content
    program = Program.objects.get(pk=made.json()["id"])
    assert (program.name, program.grace_days) == ("Services", 45)

    body = {
        "tier": "silver",
        "rank": 2,
        "name": "Middle",
        "rules": [{"metric": "win_rate", "threshold": "0.3"}],
    }
    made = _api(client, "post", f"/tiers/programs/{program.pk}/levels", body)
    assert made.status_code == 201, made.content
    level = Level.objects.get(pk=made.json()["id"])
    assert (level.program, level.tier, level.rank, level.name) == (program, "silver", 2, "Middle")
    assert [(r.metric, r.operator, r.threshold) for r in level.rules.all()] == [
        ("win_rate", ">=", Decimal("0.3"))
    ]

    rules = {"rules": [{"metric": "csat", "operator": "<=", "threshold": 4, "note": "n"}]}
    made = _api(client, "put", f"/tiers/levels/{level.pk}/rules", rules)
    assert made.status_code == 200, made.content
    assert [(r.metric, r.operator, r.threshold, r.note) for r in level.rules.all()] == [
        ("csat", "<=", Decimal("4"), "n")
    ]
    assert made.json()[0]["metric"] == "csat"

    benefit = {"kind": "discount", "value": "12.5", "valid_from": "2025-02-01"}
    made = _api(client, "post", f"/tiers/levels/{level.pk}/benefits", benefit)
    assert made.status_code == 201, made.content
    b = Benefit.objects.get(pk=made.json()["id"])
    assert (b.level, b.kind, b.value, b.valid_from, b.valid_to) == (
        level,
        "discount",
        Decimal("12.5"),
        dt.date(2025, 2, 1),
        None,
    )

    fact = {"key": "csat", "value": 4.2, "as_of": "2025-05-01", "note": "survey"}
    made = _api(client, "post", f"/partners/{w.acme.pk}/facts", fact)
    assert made.status_code == 201, made.content
    f = PartnerFact.objects.get(pk=made.json()["id"])
    assert (f.partner, f.key, f.value, f.as_of, f.note) == (
        w.acme,
        "csat",
        Decimal("4.2"),
        dt.date(2025, 5, 1),
        "survey",
    )


def test_an_unknown_metric_is_422_naming_the_field_and_stores_nothing(tiered: Tiered) -> None:
    w = tiered.world
    client = w.client_for(w.cpo)
    level = tiered.levels["gold"]
    before = _stored()
    body: dict[str, Any] = {
        "rules": [{"metric": "csat", "threshold": 1}, {"metric": "bogus", "threshold": 1}]
    }
    answer = _api(client, "put", f"/tiers/levels/{level.pk}/rules", body)
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "rules[1].metric"]
    assert "bogus" in answer.json()["detail"][0]["msg"]
    body = {"tier": "platinum", "rank": 9, "rules": [{"metric": "bogus", "threshold": 1}]}
    answer = _api(client, "post", f"/tiers/programs/{tiered.program.pk}/levels", body)
    assert answer.status_code == 422
    assert ["body", "rules[0].metric"] in [d["loc"] for d in answer.json()["detail"]]
    missing = _api(client, "put", f"/tiers/levels/{level.pk}/rules", {})
    assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == ["body", "rules"]
    assert _stored() == before


def _calls(tiered: Tiered) -> list[tuple[str, str, dict[str, Any]]]:
    level, program = tiered.levels["gold"], tiered.program
    return [
        ("post", "/tiers/programs", {"name": "Nope"}),
        ("post", f"/tiers/programs/{program.pk}/levels", {"tier": "platinum", "rank": 9}),
        ("put", f"/tiers/levels/{level.pk}/rules", {"rules": []}),
        (
            "post",
            f"/tiers/levels/{level.pk}/benefits",
            {"kind": "discount", "value": 1, "valid_from": "2025-01-01"},
        ),
        ("post", f"/partners/{tiered.world.globex.pk}/facts", {"key": "csat", "value": 3}),
    ]


@pytest.mark.parametrize("call", range(5))
@pytest.mark.parametrize(("who", "status"), [("alice", 403), ("ann", 403), ("acme_user", 404)])
def test_only_the_cpo_may_call_the_endpoints(
    tiered: Tiered, call: int, who: str, status: int
) -> None:
    w = tiered.world
    before = _stored()
    method, url, body = _calls(tiered)[call]
    answer = _api(w.client_for(getattr(w, who)), method, url, body)
    assert answer.status_code == status, answer.content
    assert _stored() == before
