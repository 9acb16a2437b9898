"""The pages and API endpoints: what each role gets, and a 404 for whatever is not theirs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.urls import reverse

from mutualist.overlaps import actions
from mutualist.overlaps.choices import Level, Side
from mutualist.overlaps.models import AccountList, SharingRule
from tests.overlaps.conftest import Mapped, acme_csv, opt_in_both


def page_urls(m: Mapped) -> list[str]:
    p, v, a = m.world.acme.pk, m.vendor["customers"].pk, m.acme["customers"].pk
    account_list = AccountList.objects.get(partner=m.world.acme)
    return [
        reverse("mapping-partner", args=[p]),
        reverse("mapping-cell", args=[p, v, a]),
        reverse("mapping-cell", args=[p, a, v]),
        reverse("mapping-greenfield", args=[p, a]),
        reverse("mapping-co-sell", args=[p]),
        reverse("mapping-sharing", args=[p]),
        reverse("mapping-upload", args=[p]),
        reverse("mapping-list", args=[account_list.pk]),
    ]


def api_calls(m: Mapped) -> list[tuple[str, str, dict[str, Any] | None]]:
    p, v, a = m.world.acme.pk, m.vendor["customers"].pk, m.acme["customers"].pk
    account_list = AccountList.objects.get(partner=m.world.acme)
    base = "/api/v1/mapping"
    return [
        ("get", f"{base}/partners/{p}/matrix", None),
        ("get", f"{base}/partners/{p}/cells/{v}/{a}", None),
        ("get", f"{base}/partners/{p}/co-sell", None),
        ("get", f"{base}/partners/{p}/sharing", None),
        ("put", f"{base}/partners/{p}/sharing/{a}", {"level": "full"}),
        ("post", f"{base}/partners/{p}/opt-in", {"opted_in": True}),
        ("get", f"{base}/account-lists/{account_list.pk}", None),
    ]


def test_an_outsider_partner_gets_404_everywhere(mapped: Mapped) -> None:
    opt_in_both(mapped)
    actions.set_rule(
        mapped.world.acme_admin, mapped.world.acme, mapped.acme["customers"], Level.FULL
    )
    client = mapped.world.client_for(mapped.world.globex_user)
    for url in page_urls(mapped):
        assert client.get(url).status_code == 404, url
    token = mapped.world.token_for(mapped.world.globex_user)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    for method, url, body in api_calls(mapped):
        kwargs: dict[str, Any] = (
            {"content_type": "application/json", "data": json.dumps(body)} if body else {}
        )
        assert getattr(client, method)(url, **kwargs, **headers).status_code == 404, url
    upload = client.post(
        f"/api/v1/mapping/partners/{mapped.world.acme.pk}/account-lists",
        {"file": _file(b"id,name\n1,X\n")},
        **headers,
    )
    assert upload.status_code == 404
    assert SharingRule.objects.get(population=mapped.acme["customers"]).level == Level.FULL


def _file(content: bytes, name: str = "accounts.csv") -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="text/csv")


def test_anonymous_is_sent_to_log_in_and_the_api_says_401(mapped: Mapped, client: Any) -> None:
    for url in page_urls(mapped):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"], url
    for method, url, body in api_calls(mapped):
        kwargs: dict[str, Any] = (
            {"content_type": "application/json", "data": json.dumps(body)} if body else {}
        )
        assert getattr(client, method)(url, **kwargs).status_code == 401, url


@pytest.mark.parametrize("who", ["cpo", "alice", "bob", "ann", "acme_admin", "acme_user"])
def test_every_insider_can_look(mapped: Mapped, who: str) -> None:
    opt_in_both(mapped)
    actions.set_rule(
        mapped.world.acme_admin, mapped.world.acme, mapped.acme["customers"], Level.FULL
    )
    actions.set_rule(mapped.world.alice, mapped.world.acme, mapped.vendor["customers"], Level.FULL)
    client = mapped.world.client_for(getattr(mapped.world, who))
    p = mapped.world.acme.pk
    assert client.get(reverse("mapping-partner", args=[p])).status_code == 200
    assert client.get(reverse("mapping-sharing", args=[p])).status_code == 200
    assert client.get(reverse("mapping-co-sell", args=[p])).status_code == 200
    mine, theirs = (
        (mapped.acme, mapped.vendor) if who.startswith("acme") else (mapped.vendor, mapped.acme)
    )
    cell = client.get(
        reverse("mapping-cell", args=[p, mine["customers"].pk, theirs["customers"].pk])
    )
    assert cell.status_code == 200
    assert b"Aldercrest" in cell.content
    # Drilling from the other side's row is never allowed.
    assert (
        client.get(
            reverse("mapping-cell", args=[p, theirs["customers"].pk, mine["customers"].pk])
        ).status_code
        == 404
    )


@pytest.mark.parametrize(
    ("who", "population", "status"),
    [
        ("alice", "vendor", 302),  # owner of Acme
        ("cpo", "vendor", 302),
        ("bob", "vendor", 403),  # not Acme's owner
        ("ann", "vendor", 403),  # analyst reads only
        ("acme_admin", "partner", 302),
        ("acme_user", "partner", 403),
        ("acme_admin", "vendor", 400),  # not their side's population
    ],
)
def test_who_may_change_sharing_rules(
    mapped: Mapped, who: str, population: str, status: int
) -> None:
    client = mapped.world.client_for(getattr(mapped.world, who))
    target = (mapped.vendor if population == "vendor" else mapped.acme)["customers"]
    response = client.post(
        reverse("mapping-sharing", args=[mapped.world.acme.pk]),
        {"action": "rule", "population": target.pk, "level": "overlaps", "fields": ["name"]},
    )
    assert response.status_code == status
    changed = SharingRule.objects.filter(population=target, level="overlaps").exists()
    assert changed == (status == 302)


def test_the_matrix_page_and_api_agree(mapped: Mapped) -> None:
    opt_in_both(mapped)
    client = mapped.world.client_for(mapped.world.alice)
    page = client.get(reverse("mapping-partner", args=[mapped.world.acme.pk]))
    assert b'data-testid="cell-customers-customers">8<' in page.content
    token = mapped.world.token_for(mapped.world.alice)
    body = client.get(
        f"/api/v1/mapping/partners/{mapped.world.acme.pk}/matrix",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    ).json()
    assert body["state"] == "active" and body["viewer"] == "vendor"
    cells = {(c["mine"], c["theirs"]): c for c in body["cells"]}
    cell = cells[(mapped.vendor["customers"].pk, mapped.acme["customers"].pk)]
    assert (cell["count"], cell["can_drill"]) == (8, False)
    small = cells[(mapped.vendor["open-opportunities"].pk, mapped.acme["customers"].pk)]
    assert (small["count"], small["label"]) == (None, "fewer than 5")


def test_cell_api_paginates_and_exports(mapped: Mapped) -> None:
    opt_in_both(mapped)
    actions.set_rule(
        mapped.world.acme_admin,
        mapped.world.acme,
        mapped.acme["customers"],
        Level.OVERLAPS,
        ["name"],
    )
    client = mapped.world.client_for(mapped.world.alice)
    p, v, a = mapped.world.acme.pk, mapped.vendor["customers"].pk, mapped.acme["customers"].pk
    body = client.get(f"/api/v1/mapping/partners/{p}/cells/{v}/{a}?page_size=5&page=2").json()
    assert (body["count"], body["page"], len(body["items"])) == (8, 2, 3)
    assert set(body["items"][0]["theirs"][0]) == {"name"}
    csv_text = client.get(reverse("mapping-cell", args=[p, v, a]) + "?format=csv").content.decode()
    lines = csv_text.strip().splitlines()
    assert lines[0].startswith("our_id,our_name") and lines[0].endswith("their_name")
    assert len(lines) == 9
    searched = client.get(reverse("mapping-cell", args=[p, v, a]) + "?q=alder")
    assert b"1 company" in searched.content


def test_upload_by_api_runs_in_the_background_and_reports(
    mapped: Mapped, django_capture_on_commit_callbacks: Any
) -> None:
    client = mapped.world.client_for(mapped.world.acme_admin)
    token = mapped.world.token_for(mapped.world.acme_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/api/v1/mapping/partners/{mapped.world.acme.pk}/account-lists",
            {"file": _file(acme_csv(mapped))},
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
    assert response.status_code == 202
    status = client.get(
        f"/api/v1/mapping/account-lists/{response.json()['id']}",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    ).json()
    assert (status["status"], status["row_count"], status["matched_count"]) == ("succeeded", 20, 14)


def test_upload_page_rejects_a_non_csv_and_an_empty_file(mapped: Mapped) -> None:
    client = mapped.world.client_for(mapped.world.acme_admin)
    url = reverse("mapping-upload", args=[mapped.world.acme.pk])
    assert b"is not a .csv file" in client.post(url, {"file": _file(b"x", "list.xlsx")}).content
    empty = client.post(url, {"file": _file(b"  \n", "list.csv")})
    assert empty.status_code == 400 and b"is empty" in empty.content
    assert AccountList.objects.filter(partner=mapped.world.acme).count() == 1


def test_partner_user_cannot_upload(mapped: Mapped) -> None:
    client = mapped.world.client_for(mapped.world.acme_user)
    assert client.get(reverse("mapping-upload", args=[mapped.world.acme.pk])).status_code == 403


def test_index_lists_partnerships_and_sends_partners_to_their_own(mapped: Mapped) -> None:
    opt_in_both(mapped)
    vendor = mapped.world.client_for(mapped.world.ann).get(
        reverse("mapping-index") + "?state=active"
    )
    assert (
        vendor.status_code == 200 and b"Acme" in vendor.content and b"Globex" not in vendor.content
    )
    bad = mapped.world.client_for(mapped.world.ann).get(reverse("mapping-index") + "?state=maybe")
    assert bad.status_code == 400
    partner = mapped.world.client_for(mapped.world.acme_user).get(reverse("mapping-index"))
    assert partner["Location"] == reverse("mapping-partner", args=[mapped.world.acme.pk])


def test_a_custom_population_is_deleted_on_the_sharing_page_and_audited(mapped: Mapped) -> None:
    from mutualist.audit.models import AuditEntry
    from mutualist.overlaps.models import Population

    custom = actions.create_population(
        mapped.world.alice,
        mapped.world.acme,
        Side.VENDOR,
        {"name": "UK customers", "base": "customers", "country": "GB"},
    )
    url = reverse("mapping-sharing", args=[mapped.world.acme.pk])
    standard = mapped.vendor["customers"].pk
    refused = mapped.world.client_for(mapped.world.alice).post(
        url, {"action": "delete_population", "population": standard}
    )
    assert refused.status_code == 400 and Population.objects.filter(pk=standard).exists()
    analyst = mapped.world.client_for(mapped.world.ann).post(
        url, {"action": "delete_population", "population": custom.pk}
    )
    assert analyst.status_code == 403
    deleted = mapped.world.client_for(mapped.world.alice).post(
        url, {"action": "delete_population", "population": custom.pk}
    )
    assert deleted.status_code == 302 and not Population.objects.filter(pk=custom.pk).exists()
    assert (
        AuditEntry.objects.filter(
            action="mapping.population.delete", object_id=str(custom.pk)
        ).count()
        == 1
    )
    assert (
        AuditEntry.objects.filter(action="mapping.population.create").count() == 7
    )  # 3 + 3 standard, 1 custom
