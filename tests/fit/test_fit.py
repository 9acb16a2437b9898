"""Scorecards, assessments and the explained score: the rules, the maths, who may do what, and
the pages, API and CLI."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest
from django.http import Http404

from mutualist import cli_fit
from mutualist.audit.models import AuditEntry
from mutualist.crm.models import PartnerInvolvement
from mutualist.fit import actions
from mutualist.fit.models import Criterion, Scorecard, ScorecardVersion
from mutualist.fit.score import score_partner
from mutualist.lib.errors import Conflict, NotAllowed, ValidationFailed
from mutualist.overlaps.models import AccountList, AccountResolution, Company, PartnerAccount
from mutualist.partners.models import Segment
from tests.conftest import T0
from tests.fit.conftest import Fit, definition, prospect, scores


def _bad(**change: Any) -> dict[str, Any]:
    return definition() | change


def test_weights_must_sum_to_100_and_the_error_names_the_sum(fit: Fit) -> None:
    bad = definition()
    bad["criteria"][0]["weight"] = 35
    with pytest.raises(ValidationFailed) as exc:
        actions.create_scorecard(fit.world.cpo, "Other", bad)
    assert exc.value.errors == {"weights": "the weights sum to 95; they must sum to 100"}
    assert not Scorecard.objects.filter(name="Other").exists()


def test_a_gate_on_an_unknown_criterion_is_refused_and_nothing_changes(fit: Fit) -> None:
    draft = actions.new_version(fit.world.cpo, fit.version.scorecard)
    assert [c.key for c in draft.criteria.all()] == [
        "strategic",
        "culture",
        "reach",
        "overlap",
        "deals",
    ]
    assert draft.criteria.get(key="strategic").gate_min == 3
    with pytest.raises(ValidationFailed) as exc:
        actions.set_criteria(
            fit.world.cpo, draft, _bad(gates=[{"criterion": "vision", "min": 3}], criteria=[])
        )
    assert exc.value.errors["criteria"] == "give at least one criterion"
    with pytest.raises(ValidationFailed) as exc:
        actions.set_criteria(fit.world.cpo, draft, _bad(gates=[{"criterion": "vision", "min": 3}]))
    assert exc.value.errors["gates[0].criterion"].startswith("'vision' is not a criterion")
    assert draft.criteria.count() == 5  # unchanged
    with pytest.raises(ValidationFailed) as exc:
        actions.set_criteria(fit.world.cpo, draft, _bad(target_segments=["industry:mining"]))
    assert "'industry:mining' is not a known segment" in exc.value.errors["target_segments[0]"]


def test_publish_rules_and_published_versions_are_frozen(fit: Fit) -> None:
    cpo = fit.world.cpo
    with pytest.raises(Conflict, match="published and cannot change"):
        actions.set_criteria(cpo, fit.version, definition())
    with pytest.raises(Conflict, match="published already"):
        actions.publish(cpo, fit.version)
    draft = actions.new_version(cpo, fit.version.scorecard)
    with pytest.raises(Conflict, match="still a draft"):
        actions.new_version(cpo, fit.version.scorecard)
    with pytest.raises(NotAllowed):
        actions.publish(fit.world.alice, draft)
    with pytest.raises(Http404):
        actions.publish(fit.world.acme_user, draft)
    Criterion.objects.filter(version=draft, key="culture").update(weight=5)  # a broken draft
    with pytest.raises(ValidationFailed, match="sum to 85"):
        actions.publish(cpo, draft)
    Criterion.objects.filter(version=draft, key="culture").update(weight=20)
    assert actions.publish(cpo, draft).published
    assert AuditEntry.objects.filter(action="fit.version.publish").count() == 2


def _overlap_and_deals(fit: Fit) -> None:
    """Hooli shares one of our customers (and one non-customer) and is on two deals."""
    w = fit.world
    ours, other, theirs_only = (
        Company.objects.create(name=n) for n in ("Initech", "Umbrella", "X")
    )
    AccountResolution.objects.create(account=w.acme_account, company=ours)  # a customer
    AccountResolution.objects.create(account=w.globex_account, company=other)  # a prospect
    upload = AccountList.objects.create(partner=fit.hooli, file_name="a.csv", sha256="0")
    for i, company in enumerate((ours, ours, other, theirs_only)):
        PartnerAccount.objects.create(
            partner=fit.hooli,
            account_list=upload,
            external_id=str(i),
            company=company,
            status="matched",
        )
    for opp in (w.acme_opp, w.shared_opp):
        PartnerInvolvement.objects.create(
            opportunity=opp, partner=fit.hooli, role="influenced", attached_at=T0
        )


def test_the_score_explains_itself(fit: Fit) -> None:
    w = fit.world
    _overlap_and_deals(fit)
    actions.submit_assessment(w.alice, fit.hooli, fit.version, scores(4, 2))
    actions.submit_assessment(w.bob, fit.hooli, fit.version, scores(2, 4, evidence=""))
    s = score_partner(fit.hooli, fit.version)
    by = {r["key"]: r for r in s["criteria"]}
    assert s["total"] == 56.0
    assert {k: r["contribution"] for k, r in by.items()} == {
        "strategic": 24.0,
        "culture": 12.0,
        "reach": 10.0,
        "overlap": 5.0,
        "deals": 5.0,
    }
    assert by["reach"]["value"] == 2.5 and by["reach"]["source"].startswith("covers 1 of 2")
    assert by["overlap"]["source"] == "1 customers in common; 2 or more score 5"
    assert by["deals"]["value"] == 2.5
    assert s["gates"] == [{"criterion": "strategic", "min": 3.0, "value": 3.0, "passed": True}]
    assert s["gates_passed"] is True
    assert by["strategic"]["spread"] == {"min": 2.0, "max": 4.0, "stdev": 1.0, "disagreement": True}
    assert s["disagreements"] == ["strategic", "culture"]
    assert s["missing_evidence"] == [{"criterion": "strategic", "reviewer": "bob"}]
    assert s["reviewers"] == 2 and s["complete"] is True
    # Resubmitting replaces the reviewer's assessment: no disagreement left on strategy.
    actions.submit_assessment(w.bob, fit.hooli, fit.version, scores(3, 4, evidence="ref call"))
    s = score_partner(fit.hooli, fit.version)
    assert s["criteria"][0]["spread"]["disagreement"] is False and s["missing_evidence"] == []
    assert s["gates_passed"] is True and s["total"] == 60.0


def test_who_may_assess_and_which_partners(fit: Fit) -> None:
    w = fit.world
    assert actions.submit_assessment(w.alice, fit.hooli, fit.version, scores(3, 3)).pk
    assert actions.submit_assessment(w.cpo, fit.wayne, fit.version, scores(3, 3)).pk
    with pytest.raises(NotAllowed, match="Analyst"):
        actions.submit_assessment(w.ann, fit.hooli, fit.version, scores(3, 3))
    with pytest.raises(Http404):
        actions.submit_assessment(w.acme_user, fit.hooli, fit.version, scores(3, 3))
    with pytest.raises(Conflict, match="Acme is active"):
        actions.submit_assessment(w.alice, w.acme, fit.version, scores(3, 3))
    with pytest.raises(ValidationFailed) as exc:
        actions.submit_assessment(w.alice, fit.hooli, fit.version, {"strategic": {"value": 9}})
    assert exc.value.errors == {
        "scores.strategic": "9 is outside the scale; give a number from 0 to 5",
        "scores.culture": "score Cultural fit from 0 to 5; it is missing",
    }


def test_ranked_list_puts_gates_first_then_score(fit: Fit) -> None:
    w = fit.world
    _overlap_and_deals(fit)
    actions.submit_assessment(w.alice, fit.hooli, fit.version, scores(4, 2))
    actions.submit_assessment(w.bob, fit.hooli, fit.version, scores(2, 4))
    actions.submit_assessment(w.alice, fit.wayne, fit.version, scores(5, 5))
    stark = prospect("Stark", "negotiating")
    stark.segments.add(
        *Segment.objects.filter(code__in=["retail", "cloud"], kind__in=["industry", "technology"])
    )
    for opp in (w.acme_opp, w.globex_opp, w.shared_opp):
        PartnerInvolvement.objects.create(
            opportunity=opp, partner=stark, role="sourced", attached_at=T0
        )
    actions.submit_assessment(w.alice, stark, fit.version, scores(2.5, 5))
    client = w.client_for(w.ann)
    page = client.get("/fit/")
    assert page.status_code == 200
    rows = page.context["page"].object_list
    assert [(r["partner"], r["total"], r["gates_passed"]) for r in rows] == [
        ("Wayne", 60.0, True),
        ("Hooli", 56.0, True),
        ("Stark", 67.5, False),
    ]
    assert "Acme" not in page.content.decode()  # active partners are not prospects
    retail = Segment.objects.get(kind="industry", code="retail")
    only = client.get(f"/fit/?segment={retail.pk}").context["page"].object_list
    assert [r["partner"] for r in only] == ["Hooli", "Stark"]
    csv = client.get("/fit/?status=evaluating&format=csv").content.decode().splitlines()
    assert (
        csv[0]
        == "rank,partner_id,partner,status,total,gates_passed,reviewers,strategic,culture,reach,overlap,deals"
    )
    assert csv[1].startswith(f"1,{fit.wayne.pk},Wayne,evaluating,60.0,True,1,5.0,5.0,0.0")
    bad = client.get("/fit/?status=active")
    assert bad.status_code == 400 and "status" in bad.context["errors"]


def test_compare_page_and_partner_page(fit: Fit) -> None:
    w = fit.world
    actions.submit_assessment(w.alice, fit.wayne, fit.version, scores(5, 5))
    client = w.client_for(w.ann)
    page = client.get(f"/fit/compare/?ids={fit.hooli.pk},{fit.wayne.pk}")
    assert page.status_code == 200
    assert [s["partner"] for s in page.context["scores"]] == ["Hooli", "Wayne"]
    assert [c["contribution"] for c in page.context["rows"][0]["cells"]] == [0.0, 40.0]
    assert client.get(f"/fit/compare/?ids={fit.hooli.pk}").status_code == 400
    assert client.get("/fit/compare/?ids=1,x").status_code == 400
    detail = client.get(f"/fit/partners/{fit.wayne.pk}/")
    assert detail.status_code == 200 and b'data-testid="fit-score">60.0' in detail.content
    assert b"Save assessment" not in detail.content  # the analyst may look, not assess
    alice = w.client_for(w.alice)
    done = alice.post(
        f"/fit/partners/{fit.hooli.pk}/",
        {"score_strategic": "4", "evidence_strategic": "deck", "score_culture": "3"},
    )
    assert done.status_code == 302
    assert score_partner(fit.hooli, fit.version)["total"] == 32.0 + 12.0 + 10.0
    bad = alice.post(f"/fit/partners/{fit.hooli.pk}/", {"score_strategic": "7"})
    assert bad.status_code == 400 and "scores.culture" in bad.context["errors"]
    for url in (
        "/fit/",
        f"/fit/partners/{fit.hooli.pk}/",
        "/fit/compare/",
        f"/fit/scorecards/{fit.version.scorecard_id}/",
    ):
        assert w.client_for(w.acme_user).get(url).status_code == 404, url


def test_api_scores_ranks_and_hides_from_partner_people(fit: Fit) -> None:
    w = fit.world
    headers: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {w.token_for(w.alice)}"}
    from django.test import Client

    client = Client()
    url = f"/api/v1/fit/partners/{fit.hooli.pk}/assessments"
    body = {
        "scores": [
            {"criterion": "strategic", "value": 5, "evidence": "x"},
            {"criterion": "culture", "value": 5},
        ]
    }
    made = client.post(url, json.dumps(body), content_type="application/json", **headers)
    assert made.status_code == 200 and made.json()["total"] == 70.0
    refused = client.post(
        f"/api/v1/fit/partners/{w.acme.pk}/assessments",
        json.dumps(body),
        content_type="application/json",
        **headers,
    )
    assert refused.status_code == 409
    bad = client.post(url, json.dumps({"scores": []}), content_type="application/json", **headers)
    assert bad.status_code == 422
    listed = client.get("/api/v1/fit/prospects", **headers).json()
    assert listed["count"] == 2 and listed["items"][0]["partner"] == "Hooli"
    ann: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {w.token_for(w.ann)}"}
    assert (
        client.post(url, json.dumps(body), content_type="application/json", **ann).status_code
        == 403
    )
    assert client.get(f"/api/v1/fit/partners/{fit.hooli.pk}", **ann).json()["total"] == 70.0
    acme: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {w.token_for(w.acme_user)}"}
    assert client.get(f"/api/v1/fit/partners/{fit.hooli.pk}", **acme).status_code == 404
    assert client.get("/api/v1/fit/prospects", **acme).status_code == 404
    assert (
        client.post(url, json.dumps(body), content_type="application/json", **acme).status_code
        == 404
    )


def test_cli_export_import_round_trip_and_bad_import(fit: Fit, tmp_path: Path) -> None:
    out = tmp_path / "cards.json"
    assert cli_fit.run(argparse.Namespace(scorecards_command="export", file=out)) == 0
    data = json.loads(out.read_text())
    assert data["scorecards"][0]["name"] == "Partner fit"
    assert data["scorecards"][0]["gates"] == [{"criterion": "strategic", "min": 3.0}]
    assert cli_fit.run(argparse.Namespace(scorecards_command="import", file=out)) == 0
    new = ScorecardVersion.objects.get(scorecard=fit.version.scorecard, number=2)
    assert not new.published
    assert actions.definition_of(new) == actions.definition_of(fit.version)
    data["scorecards"][0]["criteria"][0]["weight"] = 50
    data["scorecards"].append({"name": "Second", **definition()})
    out.write_text(json.dumps(data))
    before = (ScorecardVersion.objects.count(), Criterion.objects.count())
    assert cli_fit.run(argparse.Namespace(scorecards_command="import", file=out)) == 2
    assert (ScorecardVersion.objects.count(), Criterion.objects.count()) == before
    assert not Scorecard.objects.filter(name="Second").exists()
