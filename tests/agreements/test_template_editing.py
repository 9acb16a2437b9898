"""Creating and editing agreement templates in the browser and by API: CPO only, validated with
field-named errors (nothing stored), and agreements already drafted keep what they copied."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from mutualist.agreements import actions
from mutualist.agreements.models import AgreementTemplate
from mutualist.audit.models import AuditEntry
from tests.agreements.helpers import START, make_template, template_data
from tests.conftest import World


def api(client: Client, token: str, method: str, url: str, body: Any) -> Any:
    return getattr(client, method)(
        f"/api/v1{url}",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        content_type="application/json",
        data=json.dumps(body),
    )


def form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Referral basic",
        "agreement_type": "referral",
        "description": "For referral partners",
        "territory": "EMEA",
        "term_months": "24",
        "renewal": "auto",
        "discount_pct": "0",
        "commission_pct": "12.5",
        "mdf_eligible": "on",
        "vendor_responsibilities": "Pay commission monthly\n\nShare leads",
        "partner_responsibilities": "Refer qualified leads",
        "kpi_name": ["Referred deals", "Revenue", ""],
        "kpi_target": ["10", "250000", ""],
        "kpi_unit": ["deals", "USD", ""],
        "kpi_cadence": ["quarterly", "annual", ""],
        "kpi_metric_key": ["", "sourced_revenue", ""],
        "required_approvals": ["approver_legal", "approver_finance"],
        "coverage.approver_legal": ["territory", "responsibilities"],
        "coverage.approver_finance": ["commission_pct", "kpis"],
    }
    data.update(overrides)
    return data


def test_the_cpo_creates_a_template_on_the_page(world: World) -> None:
    client = world.client_for(world.cpo)
    page = client.get("/agreements/templates/")
    assert page.status_code == 200 and "New template" in page.content.decode()
    response = client.post("/agreements/templates/", form())
    template = AgreementTemplate.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/agreements/templates/{template.pk}/"
    assert (template.name, template.agreement_type) == ("Referral basic", "referral")
    assert template.terms == {
        "territory": "EMEA",
        "exclusivity": False,
        "term_months": 24,
        "renewal": "auto",
        "discount_pct": "0.00",
        "commission_pct": "12.50",
        "mdf_eligible": True,
    }
    assert template.responsibilities == {
        "vendor": ["Pay commission monthly", "Share leads"],
        "partner": ["Refer qualified leads"],
    }
    assert template.kpis == [
        {
            "name": "Referred deals",
            "metric_key": "",
            "target": "10.00",
            "unit": "deals",
            "cadence": "quarterly",
        },
        {
            "name": "Revenue",
            "metric_key": "sourced_revenue",
            "target": "250000.00",
            "unit": "USD",
            "cadence": "annual",
        },
    ]
    assert template.required_approvals == ["approver_legal", "approver_finance"]
    assert template.coverage == {
        "approver_legal": ["territory", "responsibilities"],
        "approver_finance": ["commission_pct", "kpis"],
    }
    assert template.created_by == world.cpo
    assert AuditEntry.objects.filter(action="agreement_template.create").count() == 1


def test_editing_on_the_page_leaves_drafted_agreements_alone(world: World) -> None:
    template = make_template(world.cpo)
    agreement = actions.draft(world.alice, world.acme, template, "Acme 2026", START)
    client = world.client_for(world.cpo)
    page = client.get(f"/agreements/templates/{template.pk}/")
    assert "Agreements already drafted from it keep what they copied" in page.content.decode()
    response = client.post(f"/agreements/templates/{template.pk}/", form(name="Reseller v2"))
    assert response.status_code == 302
    template.refresh_from_db()
    assert template.name == "Reseller v2" and template.terms["territory"] == "EMEA"
    assert template.required_approvals == ["approver_legal", "approver_finance"]
    agreement.refresh_from_db()
    version = actions.current_version(agreement)
    assert version.terms["territory"] == "North America"
    assert agreement.required_approvals == ["approver_legal", "approver_finance", "approver_ops"]
    assert [k["name"] for k in version.kpis] == ["Sourced pipeline", "Certified sellers"]
    entry = AuditEntry.objects.get(action="agreement_template.update")
    assert "name" in entry.after["changed"]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"kpi_target": ["ten", "250000", ""]}, "kpis[0].target", "is not a positive number"),
        (
            {"required_approvals": ["approver_legal", "approver_marketing"]},
            "required_approvals",
            "&#x27;approver_marketing&#x27; is not an approver role",
        ),
        (
            {"coverage.approver_legal": ["territory", "price"]},
            "coverage.approver_legal",
            "&#x27;price&#x27; is not a field",
        ),
    ],
)
def test_bad_input_on_the_page_is_a_400_naming_the_field(
    world: World, overrides: dict[str, Any], field: str, message: str
) -> None:
    client = world.client_for(world.cpo)
    response = client.post("/agreements/templates/", form(**overrides))
    body = response.content.decode()
    assert response.status_code == 400
    assert f"<code>{field}</code>: " in body and message in body
    assert AgreementTemplate.objects.count() == 0
    template = make_template(world.cpo)
    response = client.post(f"/agreements/templates/{template.pk}/", form(**overrides))
    assert response.status_code == 400 and f"<code>{field}</code>: " in response.content.decode()
    template.refresh_from_db()
    assert template.name == "Reseller standard" and template.terms["territory"] == "North America"
    assert not AuditEntry.objects.filter(action="agreement_template.update").exists()


def test_the_cpo_creates_and_edits_a_template_by_api(world: World) -> None:
    client, token = Client(), world.token_for(world.cpo)
    created = api(client, token, "post", "/agreements/templates", template_data())
    assert created.status_code == 201, created.content
    template = AgreementTemplate.objects.get()
    assert created.json()["id"] == template.pk
    assert template.terms["discount_pct"] == "20.00"
    assert template.kpis[0]["target"] == "500000.00"
    assert template.coverage["approver_finance"] == [
        "discount_pct",
        "commission_pct",
        "mdf_eligible",
    ]
    updated = api(
        client,
        token,
        "put",
        f"/agreements/templates/{template.pk}",
        {
            "name": "Reseller gold",
            "kpis": [{"name": "Pipeline", "target": 750000, "unit": "USD", "cadence": "annual"}],
            "required_approvals": ["approver_legal"],
        },
    )
    assert updated.status_code == 200, updated.content
    template.refresh_from_db()
    assert template.name == "Reseller gold"
    assert template.kpis == [
        {
            "name": "Pipeline",
            "metric_key": "",
            "target": "750000.00",
            "unit": "USD",
            "cadence": "annual",
        }
    ]
    assert template.required_approvals == ["approver_legal"]
    assert template.coverage == {
        "approver_legal": ["territory", "exclusivity", "term_months", "renewal", "responsibilities"]
    }
    assert template.terms["territory"] == "North America"  # left out: kept
    assert updated.json()["name"] == "Reseller gold"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"kpis": [{"name": "Pipeline", "target": "-5", "cadence": "annual"}]}, "kpis[0].target"),
        ({"required_approvals": ["approver_marketing"]}, "required_approvals"),
        (
            {"required_approvals": ["approver_legal"], "coverage": {"approver_legal": ["price"]}},
            "coverage.approver_legal",
        ),
    ],
)
def test_bad_input_by_api_is_a_422_naming_the_field(
    world: World, overrides: dict[str, Any], field: str
) -> None:
    client, token = Client(), world.token_for(world.cpo)
    response = api(client, token, "post", "/agreements/templates", template_data(**overrides))
    assert response.status_code == 422
    assert field in [e["loc"][-1] for e in response.json()["detail"]]
    assert AgreementTemplate.objects.count() == 0
    template = make_template(world.cpo)
    before = {f: getattr(template, f) for f in actions.TEMPLATE_FIELDS}
    response = api(client, token, "put", f"/agreements/templates/{template.pk}", overrides)
    assert response.status_code == 422
    assert field in [e["loc"][-1] for e in response.json()["detail"]]
    template.refresh_from_db()
    assert {f: getattr(template, f) for f in actions.TEMPLATE_FIELDS} == before


@pytest.mark.parametrize(("who", "status"), [("alice", 403), ("ann", 403), ("acme_user", 404)])
def test_only_the_cpo_creates_or_edits_templates(world: World, who: str, status: int) -> None:
    template = make_template(world.cpo)
    user = getattr(world, who)
    client = world.client_for(user)
    assert client.post("/agreements/templates/", form()).status_code == status
    assert client.post(f"/agreements/templates/{template.pk}/", form()).status_code == status
    if status == 403:
        page = client.get(f"/agreements/templates/{template.pk}/").content.decode()
        assert "Edit template" not in page
    api_client, token = Client(), world.token_for(user)
    body = template_data(name="Other")
    assert api(api_client, token, "post", "/agreements/templates", body).status_code == status
    assert (
        api(api_client, token, "put", f"/agreements/templates/{template.pk}", body).status_code
        == status
    )
    assert list(AgreementTemplate.objects.values_list("name", flat=True)) == ["Reseller standard"]
