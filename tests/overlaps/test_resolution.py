from __future__ import annotations

from pathlib import Path
from typing import Any

from mutualist.crm.models import Account
from mutualist.overlaps import actions
from mutualist.overlaps.models import AccountList, AccountResolution, Company, PartnerAccount
from tests.conftest import T0
from tests.overlaps.conftest import Mapped, acme_csv, upload


def test_every_vendor_account_resolves_to_one_company_once(mapped: Mapped) -> None:
    assert AccountResolution.objects.count() == Account.objects.count() == 32
    assert Company.objects.count() == 32
    again = actions.resolve_vendor_accounts()
    assert again.accounts == 0
    assert Company.objects.count() == 32


def test_a_second_account_of_a_known_company_joins_it(mapped: Mapped) -> None:
    first = mapped.customers[0]
    twin = Account.objects.create(
        name="Aldercrest Group", domain=f"https://{first.domain}/contact", created_at=T0
    )
    summary = actions.resolve_vendor_accounts()
    assert (summary.accounts, summary.matched, summary.new_companies) == (1, 1, 0)
    assert twin.resolution.company_id == first.resolution.company_id
    assert twin.resolution.confidence == "exact"
    assert "aldercrest.com" in twin.resolution.reason


def test_partner_list_links_overlaps_and_keeps_the_rest_unmatched(mapped: Mapped) -> None:
    accounts = PartnerAccount.objects.filter(partner=mapped.world.acme)
    assert accounts.count() == 20
    matched = {a.external_id: a for a in accounts if a.company_id}
    assert sorted(matched) == sorted(
        [f"A{i}" for i in range(8)] + [f"B{i}" for i in range(4)] + ["C0", "C1"]
    )
    a0 = matched["A0"]
    assert a0.company_id == mapped.customers[0].resolution.company_id
    assert a0.country == "GB" and a0.status == "customer" and a0.industry == "retail"
    account_list = AccountList.objects.get(partner=mapped.world.acme)
    assert (account_list.row_count, account_list.matched_count) == (20, 14)


def test_a_new_vendor_account_matches_a_waiting_partner_account(mapped: Mapped) -> None:
    hollowmere = PartnerAccount.objects.get(partner=mapped.world.acme, external_id="D0")
    assert hollowmere.company_id is None
    Account.objects.create(name="Hollowmere", domain="hollowmere.de", created_at=T0, country="DE")
    actions.resolve_vendor_accounts()
    hollowmere.refresh_from_db()
    assert hollowmere.company_id == Account.objects.get(name="Hollowmere").resolution.company_id


def test_a_bad_upload_fails_whole_and_keeps_the_current_list(mapped: Mapped) -> None:
    before = list(PartnerAccount.objects.order_by("pk").values_list("pk", "company_id"))
    content = acme_csv(mapped).replace(b"B2,", b"A0,", 1)  # a duplicate id
    failed = upload(mapped, content)
    assert failed.status == AccountList.Status.FAILED
    assert "A0" in failed.message and "duplicate" in failed.message.lower()
    assert list(PartnerAccount.objects.order_by("pk").values_list("pk", "company_id")) == before


def test_an_unknown_status_names_the_row(mapped: Mapped) -> None:
    failed = upload(mapped, b"id,name,status\n1,Foo Corp,customer\n2,Bar Corp,partnerish\n")
    assert failed.status == AccountList.Status.FAILED
    assert "row 3" in failed.message and "partnerish" in failed.message
    assert PartnerAccount.objects.filter(partner=mapped.world.acme).count() == 20


def test_uploading_the_same_list_again_gives_the_same_links(mapped: Mapped) -> None:
    before = sorted(PartnerAccount.objects.values_list("external_id", "company_id"))
    again = upload(mapped, acme_csv(mapped))
    assert again.status == AccountList.Status.SUCCEEDED
    assert sorted(PartnerAccount.objects.values_list("external_id", "company_id")) == before


def test_an_import_that_adds_accounts_resolves_them_afterwards(
    mapped: Mapped, django_capture_on_commit_callbacks: Any
) -> None:
    from mutualist.imports.actions import run_import
    from mutualist.imports.sources import read_files

    sample = Path(__file__).resolve().parents[3] / "shared" / "data" / "salesforce-sample"
    batch = read_files("salesforce", sorted(sample.glob("*.csv")), {})
    with django_capture_on_commit_callbacks(execute=True):
        run = run_import(mapped.world.cpo, "salesforce", batch)
    assert run.counts["accounts"]["created"] > 0
    assert not Account.objects.filter(resolution__isnull=True).exists()


def test_a_salesforce_account_export_is_a_partner_list(mapped: Mapped) -> None:
    sample = Path(__file__).resolve().parents[3] / "shared" / "data" / "salesforce-sample"
    result = upload(mapped, (sample / "Account.csv").read_bytes(), name="Account.csv")
    assert result.status == AccountList.Status.SUCCEEDED, result.message
    assert result.row_count == 22
    assert "CRM type" in result.message
    accounts = PartnerAccount.objects.filter(partner=mapped.world.acme)
    assert set(accounts.values_list("status", flat=True)) == {
        "prospect"
    }  # the sample's Type is empty
    assert accounts.filter(
        external_id="001Ec00000FzlUdIAJ", name="Sample Account for Entitlements"
    ).exists()
