"""Companies with several domains: a domain recorded as another of a company's, and two
companies merged into one, with the overlaps, lookups, audit and admin that follow."""

from __future__ import annotations

from typing import Any

import pytest

from mutualist.audit.models import AuditEntry
from mutualist.crm.models import Account
from mutualist.lib.errors import NotAllowed, ValidationFailed
from mutualist.overlaps import registry, resolution
from mutualist.overlaps.companies import Identity, find_companies
from mutualist.overlaps.models import AccountResolution, Company, CompanyDomain, PartnerAccount
from tests.conftest import T0
from tests.overlaps.conftest import Mapped, acme_csv, upload


def company_of(account: Account) -> Company:
    return AccountResolution.objects.get(account=account).company  # type: ignore[return-value]


def test_another_domain_makes_records_with_it_the_company_exactly(
    mapped: Mapped, django_capture_on_commit_callbacks: Any
) -> None:
    hollowmere = PartnerAccount.objects.get(partner=mapped.world.acme, external_id="D0")
    assert hollowmere.company_id is None  # Hollowmere GmbH, hollowmere.de: not ours
    aldercrest = company_of(mapped.customers[0])  # aldercrest.com
    with django_capture_on_commit_callbacks(execute=True):
        alias = registry.add_domain(mapped.world.cpo, aldercrest, "https://www.Hollowmere.de/x")
    assert (alias.domain, alias.company_id) == ("hollowmere.de", aldercrest.pk)
    hollowmere.refresh_from_db()  # the waiting partner record was matched again
    assert (hollowmere.company_id, hollowmere.confidence) == (aldercrest.pk, "exact")
    assert hollowmere.reason == "domain hollowmere.de is another domain of the company"
    assert find_companies(Identity.of("Whatever", "mail.hollowmere.de", "")) == [aldercrest.pk]
    entry = AuditEntry.objects.get(action="mapping.company.domain")
    assert entry.object_id == str(aldercrest.pk) and entry.after == {"domain": "hollowmere.de"}
    # a new list upload resolves it the same way, before any fuzzy matching
    assert upload(mapped, acme_csv(mapped)).matched_count == 15


def test_a_domain_is_refused_when_it_is_taken_or_not_a_domain(mapped: Mapped) -> None:
    first, second = company_of(mapped.customers[0]), company_of(mapped.customers[1])
    with pytest.raises(ValidationFailed) as caught:
        registry.add_domain(mapped.world.cpo, first, second.domain)
    assert caught.value.errors == {
        "domain": f"{second.domain} belongs to {second.name} (#{second.pk}); "
        "merge the two companies instead"
    }
    with pytest.raises(ValidationFailed, match="is this company's already"):
        registry.add_domain(mapped.world.cpo, first, first.domain)
    with pytest.raises(ValidationFailed, match="is not a company domain"):
        registry.add_domain(mapped.world.cpo, first, "not a domain")
    with pytest.raises(NotAllowed):
        registry.add_domain(mapped.world.alice, first, "aldercrest.de")
    assert CompanyDomain.objects.count() == 0


def test_merging_moves_accounts_partner_records_and_domains(mapped: Mapped) -> None:
    keep, other = company_of(mapped.customers[0]), company_of(mapped.customers[1])
    other_records = PartnerAccount.objects.filter(company=other).count()
    assert other_records == 1  # Acme's A1 is our Brightwave
    registry.merge_companies(mapped.world.cpo, keep, other)
    assert not Company.objects.filter(pk=other.pk).exists()
    assert company_of(mapped.customers[1]).pk == keep.pk
    assert PartnerAccount.objects.filter(company=keep).count() == 2
    assert list(keep.aliases.values_list("domain", flat=True)) == ["brightwave.com"]
    assert find_companies(Identity.of("x", "brightwave.com", "")) == [keep.pk]
    entry = AuditEntry.objects.get(action="mapping.company.merge")
    assert entry.before == {"merged": {"id": other.pk, "name": other.name, "domain": other.domain}}
    assert entry.after == {
        "accounts_moved": 1,
        "partner_records_moved": 1,
        "domains_added": ["brightwave.com"],
    }
    # a new vendor account with the merged domain joins the kept company
    Account.objects.create(name="Brightwave Labs", domain="brightwave.com", created_at=T0)
    records = resolution.accounts_table([("n1", "Brightwave Labs", "brightwave.com", "", "")])
    links = resolution.match_to_registry(records, resolution.registry_table())
    assert links["n1"].company_id == keep.pk and links["n1"].confidence == "exact"
    with pytest.raises(ValidationFailed, match="two different companies"):
        registry.merge_companies(mapped.world.cpo, keep, keep)
    with pytest.raises(NotAllowed):
        registry.merge_companies(mapped.world.ann, keep, company_of(mapped.customers[2]))


def test_the_admin_merges_a_selection_and_adds_domains(
    mapped: Mapped, django_capture_on_commit_callbacks: Any
) -> None:
    mapped.world.cpo.is_staff = mapped.world.cpo.is_superuser = True
    mapped.world.cpo.save()
    client = mapped.world.client_for(mapped.world.cpo)
    ids = [company_of(a).pk for a in mapped.customers[2:5]]
    response = client.post(
        "/admin/overlaps/company/",
        {"action": "merge_into_oldest", "_selected_action": [str(i) for i in ids]},
    )
    assert response.status_code == 302
    assert Company.objects.filter(pk__in=ids).count() == 1
    kept = Company.objects.get(pk=min(ids))
    assert sorted(kept.aliases.values_list("domain", flat=True)) == [
        "dunmore.com",
        "everpeak.com",
    ]
    page = client.get(f"/admin/overlaps/company/{kept.pk}/change/")
    assert page.status_code == 200 and "dunmore.com" in page.content.decode()
    form = {
        "name": kept.name,
        "name_key": kept.name_key,
        "domain": kept.domain,
        "country": kept.country,
        "registration_id": "",
        "aliases-TOTAL_FORMS": "3",
        "aliases-INITIAL_FORMS": "2",
        "aliases-MIN_NUM_FORMS": "0",
        "aliases-MAX_NUM_FORMS": "1000",
        "aliases-2-domain": "cobaltine.de",
        "aliases-2-company": str(kept.pk),
    }
    for i, alias in enumerate(kept.aliases.order_by("domain")):
        form[f"aliases-{i}-id"] = str(alias.pk)
        form[f"aliases-{i}-company"] = str(kept.pk)
    with django_capture_on_commit_callbacks(execute=True):
        saved = client.post(f"/admin/overlaps/company/{kept.pk}/change/", form)
    assert saved.status_code == 302, saved.content.decode()[:2000]
    assert kept.aliases.filter(domain="cobaltine.de").exists()
    assert AuditEntry.objects.filter(action="mapping.company.domain").count() == 1
