"""Every API endpoint and every page that takes an id, for every role.

The endpoints and pages are read from the OpenAPI schema and the URL configuration, so a new
one is covered as soon as it exists (and this test fails until its id parameter is known here).
Rules checked: anonymous callers are refused (401 API, log-in page); a third partner's people
get 404 for everything of Acme's, reading or writing; every vendor role can read; Acme's own
people read their own records, but not the vendor's staff-only pages (404).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from mutualist.accounts import actions as account_actions
from mutualist.accounts.models import User
from mutualist.accounts.roles import Role
from mutualist.api import api
from mutualist.cosell import referrals, registrations, routing
from mutualist.crm.models import Lead
from mutualist.imports.models import ImportRun
from mutualist.overlaps import actions as mapping_actions
from mutualist.overlaps.choices import Level
from mutualist.overlaps.models import AccountList, PartnerAccount
from mutualist.tiers import actions as tier_actions
from mutualist.tiers.models import Proposal
from tests.agreements.helpers import Approvers, signed
from tests.conftest import PASSWORD, T0, make_partner
from tests.cosell.conftest import deal
from tests.fit.conftest import scorecard_for_matrix
from tests.onboarding.conftest import journey_for_matrix
from tests.overlaps.conftest import Mapped, opt_in_both

# Reads that only vendor staff may make: a partner's own people get 404 there too.
STAFF_ONLY_API = {
    "/api/v1/imports/{run_id}",
    "/api/v1/deal-registrations/sla",
    "/api/v1/lead-offers/stats",
    "/api/v1/metrics",
    "/api/v1/fit/prospects",
    "/api/v1/fit/partners/{partner_id}",
    "/api/v1/mapping/partners/{partner_id}/review",
    "/api/v1/mapping/partners/{partner_id}/review/{record_id}",
}
STAFF_ONLY_PAGES = {
    "board",
    "partner-board",
    "tier-proposal",
    "agreement-templates",
    "agreement-template",
    "onboarding-template",
    "fit-index",
    "fit-partner",
    "fit-compare",
    "fit-scorecard",
    "import-list",
    "import-details",
    "import-report",
    "lead-route",
    "mapping-resolve",
    "mapping-review",
    "mapping-review-decide",
}
VENDOR_ROLES = ["cpo", "alice", "ann", "legal", "finance", "ops"]
# Pages that act or collect input for an act; who may use them is tested with each app.
WRITE_PAGES = {
    "logout",
    "agreement-act",
    "token-revoke",
    "registration-act",
    "mapping-resolve",
    "people",
    "registration-new",
    "referral-new",
    "partner-create",
    "partner-edit",
    "partner-status",
    "import-upload",
    "mapping-upload",
    "mapping-review-decide",
}


@dataclass
class Ids:
    values: dict[str, int | str]

    def fill(self, template: str) -> str:
        def one(match: re.Match[str]) -> str:
            name = match.group(1).split(":")[-1]
            assert name in self.values, f"add an id for {{{name}}} to the access matrix"
            return str(self.values[name])

        return re.sub(r"[{<]([^}>]+)[}>]", one, template)


@pytest.fixture
def ids(mapped: Mapped) -> Ids:
    w = mapped.world
    for username, role in (
        ("legal", Role.APPROVER_LEGAL),
        ("finance", Role.APPROVER_FINANCE),
        ("ops", Role.APPROVER_OPS),
    ):
        account_actions.create_user(None, username, PASSWORD, role)
    outsider = make_partner("Initrode", None)
    account_actions.create_user(
        None, "initrode_user", PASSWORD, Role.PARTNER_USER, partner=outsider
    )
    account_actions.create_user(
        None, "initrode_admin", PASSWORD, Role.PARTNER_ADMIN, partner=outsider
    )
    opt_in_both(mapped)
    mapping_actions.set_rule(w.acme_admin, w.acme, mapped.acme["customers"], Level.FULL)
    mapping_actions.set_rule(w.alice, w.acme, mapped.vendor["customers"], Level.FULL)
    pending = registrations.submit(w.acme_user, deal())
    approved = registrations.approve(
        w.alice, registrations.submit(w.acme_user, deal(domain="piedpiper.com")), ""
    )
    extension = registrations.request_extension(w.acme_user, approved, "more time")
    unrouted = Lead.objects.create(company="Hooli XYZ", created_at=T0, country="US")
    offer = routing.offer_lead(w.cpo, unrouted, partner=w.acme)
    referral = referrals.refer(
        w.acme_admin,
        w.globex,
        {"company_name": "Raviga", "domain": "raviga.com", "country": "US", "currency": "USD"},
    )
    run = ImportRun.objects.create(kind="salesforce", started_by=w.cpo)
    token, _ = account_actions.create_api_token(w.acme_user, w.acme_user, "t")
    approvers = Approvers(*(User.objects.get(username=u) for u in ("legal", "finance", "ops")))
    agreement = signed(w.alice, w.acme, approvers)
    program = tier_actions.create_program(w.cpo, {"name": "Matrix"})
    level = tier_actions.add_level(w.cpo, program, {"tier": "gold", "rank": 1})
    proposal = Proposal.objects.create(
        partner=w.acme,
        program=program,
        from_tier="gold",
        to_tier="silver",
        proposed_at=T0,
        effective_on=T0.date(),
    )
    return Ids(
        {
            "partner_id": w.acme.pk,
            "account_id": w.acme_account.pk,
            "opportunity_id": w.acme_opp.pk,
            "lead_id": w.acme_lead.pk,
            "run_id": run.pk,
            "token_id": token.pk,
            "list_id": AccountList.objects.get(partner=w.acme).pk,
            "mine_id": mapped.vendor["customers"].pk,
            "theirs_id": mapped.acme["customers"].pk,
            "population_id": mapped.acme["customers"].pk,
            "registration_id": pending.pk,
            "extension_id": extension.pk,
            "decision": "approve",
            "action": "approve",
            "offer_id": offer.pk,
            "referral_id": referral.pk,
            "proposal_id": proposal.pk,
            "program_id": program.pk,
            "level_id": level.pk,
            "agreement_id": agreement.pk,
            "template_id": agreement.template_id,
            "target_id": agreement.targets.first().pk,  # type: ignore[union-attr]
            "record_id": PartnerAccount.objects.filter(partner=w.acme).first().pk,  # type: ignore[union-attr]
            **journey_for_matrix(w),
            **scorecard_for_matrix(w),
        }
    )


def api_operations() -> list[tuple[str, str]]:
    schema = api.get_openapi_schema()
    return [(method, path) for path, ops in schema["paths"].items() for method in ops]


def pages() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                if not str(p.pattern).startswith(("admin", "api/")):
                    walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern) and p.name:
                found.append((p.name, prefix + str(p.pattern)))

    walk(get_resolver().url_patterns, "/")
    return found


SCHEMA = api.get_openapi_schema()
SAMPLE = {
    "reason": "x",
    "text": "x",
    "level": "full",
    "opted_in": True,
    "overturn": False,
    "name": "Renamed",
    "changes": {},
}


def sample_body(method: str, path: str) -> dict[str, Any]:
    """A body the operation's schema accepts, so that what answers is the access rule."""
    request = SCHEMA["paths"][path][method].get("requestBody", {}).get("content", {})
    schema = request.get("application/json", {}).get("schema")
    if not schema:
        return {}
    name = schema.get("$ref", "").rsplit("/", 1)[-1]
    spec = SCHEMA["components"]["schemas"].get(name, schema)
    body: dict[str, Any] = {}
    for field, prop in spec.get("properties", {}).items():
        if field in SAMPLE:
            body[field] = SAMPLE[field]
        elif field in spec.get("required", []):
            ref = prop.get("$ref", "").rsplit("/", 1)[-1]
            choices = SCHEMA["components"]["schemas"].get(ref, prop).get("enum")
            body[field] = choices[0] if choices else "x"
    return body


def call(client: Client, method: str, path: str, url: str, token: str | None = None) -> int:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    kwargs: dict[str, Any] = {}
    if "multipart/form-data" in SCHEMA["paths"][path][method].get("requestBody", {}).get(
        "content", {}
    ):
        upload = SimpleUploadedFile("accounts.csv", b"id,name\n1,Acme\n", content_type="text/csv")
        return int(
            client.post(
                url, {"file": upload, "files": upload, "kind": "salesforce"}, **headers
            ).status_code
        )
    if method in ("post", "put", "patch"):
        kwargs = {"content_type": "application/json", "data": json.dumps(sample_body(method, path))}
    return int(getattr(client, method)(url, **kwargs, **headers).status_code)


def token_of(username: str) -> str:
    user = User.objects.get(username=username)
    return account_actions.create_api_token(user, user, "matrix")[1]


def test_api_anonymous_is_401_everywhere(ids: Ids) -> None:
    client = Client()
    for method, path in api_operations():
        assert call(client, method, path, ids.fill(path)) == 401, (method, path)


@pytest.mark.parametrize("outsider", ["initrode_user", "initrode_admin"])
def test_api_a_third_partner_gets_404_for_everything_of_acmes(ids: Ids, outsider: str) -> None:
    client, token = Client(), token_of(outsider)
    for method, path in api_operations():
        if "{" not in path and path not in STAFF_ONLY_API:
            continue  # lists: they answer with the caller's own rows (tested per app)
        assert call(client, method, path, ids.fill(path), token) == 404, (method, path)


@pytest.mark.parametrize("who", VENDOR_ROLES)
def test_api_every_vendor_role_reads_every_record(ids: Ids, who: str) -> None:
    client, token = Client(), token_of(who)
    for method, path in api_operations():
        if method == "get":
            assert call(client, method, path, ids.fill(path), token) == 200, (who, path)


@pytest.mark.parametrize("who", ["acme_admin", "acme_user"])
def test_api_acmes_people_read_their_own_and_no_staff_page(ids: Ids, who: str) -> None:
    client, token = Client(), token_of(who)
    # A partner's rows in the matrix are its own populations.
    ids = Ids(
        {**ids.values, "mine_id": ids.values["theirs_id"], "theirs_id": ids.values["mine_id"]}
    )
    for method, path in api_operations():
        if method != "get":
            continue
        expected = 404 if path in STAFF_ONLY_API else 200
        assert call(client, method, path, ids.fill(path), token) == expected, (who, path)


def test_pages_anonymous_goes_to_log_in(ids: Ids) -> None:
    client = Client()
    for name, pattern in pages():
        if name in ("login", "healthz", "logout"):
            continue
        response = client.get(ids.fill(pattern))
        assert response.status_code in (302, 405), (name, response.status_code)
        if response.status_code == 302:
            assert "/login/" in response["Location"], name


@pytest.mark.parametrize("outsider", ["initrode_user", "initrode_admin"])
def test_pages_a_third_partner_gets_404_for_everything_of_acmes(ids: Ids, outsider: str) -> None:
    client = Client()
    client.force_login(User.objects.get(username=outsider))
    for name, pattern in pages():
        if "<" not in pattern or name in ("token-revoke",):
            continue  # pages without an id show the caller's own; a token id is per user
        url = ids.fill(pattern)
        assert client.get(url).status_code in (404, 405), (name, url)
        assert (
            client.post(url, {"reason": "x", "text": "x", "action": "opt_in"}).status_code == 404
        ), (name, url)


@pytest.mark.parametrize("who", VENDOR_ROLES)
def test_pages_every_vendor_role_reads_every_page(ids: Ids, who: str) -> None:
    client = Client()
    client.force_login(User.objects.get(username=who))
    for name, pattern in pages():
        if name in WRITE_PAGES:
            continue
        response = client.get(ids.fill(pattern))
        assert response.status_code in (200, 302) and not (
            response.status_code == 302 and "/login/" in response["Location"]
        ), (who, name, response.status_code)


def test_someone_elses_token_cannot_be_revoked(ids: Ids) -> None:
    client = Client()
    client.force_login(User.objects.get(username="initrode_user"))
    assert client.post(reverse("token-revoke", args=[ids.values["token_id"]])).status_code == 404


@pytest.mark.parametrize("who", ["acme_admin", "acme_user"])
def test_pages_acmes_people_read_their_own_and_no_staff_page(ids: Ids, who: str) -> None:
    client = Client()
    client.force_login(User.objects.get(username=who))
    ids = Ids(
        {**ids.values, "mine_id": ids.values["theirs_id"], "theirs_id": ids.values["mine_id"]}
    )
    for name, pattern in pages():
        if name in WRITE_PAGES:
            continue
        status = client.get(ids.fill(pattern)).status_code
        expected = (404,) if name in STAFF_ONLY_PAGES else (200, 302)
        assert status in expected, (who, name, status)


def test_every_api_schema_name_is_unique() -> None:
    """Two schemas of one name share one OpenAPI component, so the docs (and clients generated
    from them) would show one endpoint the other's body."""
    from ninja import Schema

    names: dict[str, set[str]] = {}
    for cls in _schema_classes(Schema):
        if cls.__module__.startswith("mutualist.") and cls.__qualname__ == cls.__name__:
            names.setdefault(cls.__name__, set()).add(cls.__module__)
    assert {n: m for n, m in names.items() if len(m) > 1} == {}


def _schema_classes(base: type) -> list[type]:
    found = []
    for sub in base.__subclasses__():
        found.append(sub)
        found += _schema_classes(sub)
    return found
