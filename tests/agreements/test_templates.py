"""Template validation: each bad field is named with how to fix it, and nothing is stored."""

from __future__ import annotations

import pytest

from mutualist.agreements import actions
from mutualist.agreements.models import AgreementTemplate
from mutualist.audit.models import AuditEntry
from mutualist.lib.errors import NotAllowed, ValidationFailed
from tests.agreements.helpers import make_template, template_data
from tests.conftest import World


def test_it_creates_a_template_with_the_default_coverage(world: World) -> None:
    template = make_template(world.cpo)
    assert template.coverage == {
        "approver_legal": [
            "territory",
            "exclusivity",
            "term_months",
            "renewal",
            "responsibilities",
        ],
        "approver_finance": ["discount_pct", "commission_pct", "mdf_eligible"],
        "approver_ops": ["responsibilities", "kpis"],
    }
    assert template.terms["discount_pct"] == "20.00"
    assert template.kpis[1] == {
        "name": "Certified sellers",
        "metric_key": "",
        "target": "2.00",
        "unit": "people",
        "cadence": "annual",
    }
    assert AuditEntry.objects.filter(action="agreement_template.create").count() == 1


def test_it_refuses_an_unknown_role_a_kpi_without_target_and_unknown_fields(world: World) -> None:
    data = template_data(
        required_approvals=["approver_legal", "approver_marketing"],
        kpis=[{"name": "Pipeline", "unit": "USD", "cadence": "weekly"}],
        coverage={"approver_legal": ["territory", "price"]},
        terms={"territory": "", "term_months": 0, "discount_pct": "120"},
    )
    with pytest.raises(ValidationFailed) as caught:
        actions.create_template(world.cpo, data)
    errors = caught.value.errors
    assert errors["required_approvals"] == (
        "'approver_marketing' is not an approver role; use one of: approver_legal, "
        "approver_finance, approver_ops"
    )
    assert errors["kpis[0].target"] == "is required: the number Pipeline must reach, e.g. 250000"
    assert errors["kpis[0].cadence"].startswith("'weekly' is not a known review cadence")
    assert errors["coverage.approver_legal"].startswith("'price' is not a field; use: territory")
    assert errors["terms.territory"] == "is required: where the partner may sell, e.g. 'EMEA'"
    assert "from 1 to 120" in errors["terms.term_months"]
    assert "from 0 to 100" in errors["terms.discount_pct"]
    assert AgreementTemplate.objects.count() == 0


def test_it_requires_each_approver_to_cover_a_field(world: World) -> None:
    data = template_data(
        required_approvals=["approver_legal", "approver_finance"],
        coverage={"approver_legal": ["territory"], "approver_ops": ["kpis"]},
    )
    with pytest.raises(ValidationFailed) as caught:
        actions.create_template(world.cpo, data)
    assert caught.value.errors == {
        "coverage.approver_ops": "'approver_ops' is not among the required approvals "
        "(approver_legal, approver_finance)",
        "coverage.approver_finance": "covers no field; list the fields this approver signs "
        "off, e.g. discount_pct, commission_pct, mdf_eligible",
    }


def test_analysts_and_partners_cannot_create_templates(world: World) -> None:
    with pytest.raises(NotAllowed):
        actions.create_template(world.ann, template_data())
    from django.http import Http404

    with pytest.raises(Http404):
        actions.create_template(world.acme_admin, template_data())
