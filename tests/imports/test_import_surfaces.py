from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from mutualist.crm.models import Opportunity
from mutualist.imports.models import ImportRun
from tests.conftest import World

SAMPLE = Path(__file__).resolve().parents[3] / "shared" / "data" / "salesforce-sample"


def uploads(*names: str) -> list[SimpleUploadedFile]:
    return [SimpleUploadedFile(n, (SAMPLE / n).read_bytes(), "text/csv") for n in names]


def test_staff_upload_runs_in_the_background_and_shows_the_report(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    client = world.client_for(world.alice)
    assert client.get("/imports/new/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/imports/new/",
            {
                "kind": "salesforce",
                "uploads": uploads("Account.csv", "Opportunity.csv"),
            },
        )
    assert response.status_code == 302
    run = ImportRun.objects.get()
    assert run.status == "succeeded" and run.started_by == world.alice
    assert Opportunity.objects.filter(source_system="salesforce").count() == 50
    page = client.get(f"/imports/{run.pk}/")
    assert b"close_before_create" in page.content and b"Opportunity.csv" in page.content
    report = client.get(f"/imports/{run.pk}/problems.csv")
    assert report.content.decode().count("close_before_create") == 15
    listing_response = client.get("/imports/?format=csv")
    listing = b"".join(listing_response.streaming_content).decode()  # type: ignore[attr-defined]
    assert "succeeded" in listing and "Opportunity.csv" in listing
    assert not Path(run.upload_dir).exists()  # uploads are removed once the run ends


def test_upload_form_validates(world: World) -> None:
    client = world.client_for(world.alice)
    bad = SimpleUploadedFile("notes.txt", b"hello", "text/plain")
    response = client.post("/imports/new/", {"kind": "salesforce", "uploads": [bad]})
    assert response.status_code == 400
    assert "notes.txt is not a .csv file" in str(response.context["form"].errors)
    assert ImportRun.objects.count() == 0
    response = client.post("/imports/new/", {"kind": "csv", "uploads": uploads("Account.csv")})
    assert "mapping" in response.context["form"].errors


def test_who_may_see_and_start_imports(world: World) -> None:
    run = ImportRun.objects.create(kind="salesforce", status="succeeded")
    assert world.client_for(world.ann).get("/imports/").status_code == 200
    assert world.client_for(world.ann).get(f"/imports/{run.pk}/").status_code == 200
    assert world.client_for(world.ann).get("/imports/new/").status_code == 403
    partner = world.client_for(world.acme_user)
    assert partner.get("/imports/").status_code == 404
    assert partner.get(f"/imports/{run.pk}/").status_code == 404
    assert partner.get("/imports/new/").status_code == 404


def test_api_starts_an_import_and_reports_its_status(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    auth = {"HTTP_AUTHORIZATION": f"Bearer {world.token_for(world.cpo)}"}
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(
            "/api/v1/imports",
            {
                "kind": "salesforce",
                "files": uploads("Account.csv", "Opportunity.csv", "Lead.csv"),
                "dry_run": "true",
            },
            **auth,
        )
    assert response.status_code == 202, response.content
    run_id = response.json()["id"]
    body = Client().get(f"/api/v1/imports/{run_id}", **auth).json()
    assert body["status"] == "dry_run"
    assert body["counts"]["leads"]["created"] == 60
    assert any(p["code"] == "close_before_create" for p in body["problems"])
    assert Opportunity.objects.count() == 3  # the world's own; the dry run wrote nothing


def test_api_refuses_outsiders_and_bad_kinds(world: World) -> None:
    run = ImportRun.objects.create(kind="salesforce", status="succeeded")
    partner = {"HTTP_AUTHORIZATION": f"Bearer {world.token_for(world.acme_admin)}"}
    assert Client().get(f"/api/v1/imports/{run.pk}", **partner).status_code == 404
    assert (
        Client()
        .post("/api/v1/imports", {"kind": "salesforce", "files": uploads("Lead.csv")}, **partner)
        .status_code
        == 404
    )
    analyst = {"HTTP_AUTHORIZATION": f"Bearer {world.token_for(world.ann)}"}
    assert (
        Client()
        .post("/api/v1/imports", {"kind": "salesforce", "files": uploads("Lead.csv")}, **analyst)
        .status_code
        == 403
    )
    cpo = {"HTTP_AUTHORIZATION": f"Bearer {world.token_for(world.cpo)}"}
    response = Client().post(
        "/api/v1/imports", {"kind": "sap", "files": uploads("Lead.csv")}, **cpo
    )
    assert response.status_code == 422
    assert "unknown import kind" in str(response.json())
