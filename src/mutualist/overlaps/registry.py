"""Keeping the company registry right by hand: another domain of a company, and merging two
companies the matcher kept apart (different domains are different companies to it, so a
company with a brand or country domain arrives as two).

Both are the CPO's (or an operator's in the admin, who acts as a CPO). Each is audited, and an
overlap counts the merged company once from then on, for the vendor and every partner.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from mutualist.accounts.roles import Role
from mutualist.audit.log import record
from mutualist.lib.errors import NotAllowed, ValidationFailed
from mutualist.matching.domains import normalize_domain
from mutualist.overlaps.actions import rematch_partner_accounts
from mutualist.overlaps.models import AccountResolution, Company, CompanyDomain, PartnerAccount


def require_registry_keeper(actor: Any) -> None:
    if not (actor.is_superuser or actor.role == Role.CPO):
        raise NotAllowed(
            "Only the Chief Partner Officer (or an operator) changes the company registry."
        )


def _owner_of(domain: str) -> Company | None:
    company = Company.objects.filter(domain=domain).first()
    if company is None:
        alias = CompanyDomain.objects.filter(domain=domain).select_related("company").first()
        company = alias.company if alias else None
    return company


@transaction.atomic
def add_domain(actor: Any, company: Company, raw: str) -> CompanyDomain:
    """Record another registrable domain of `company` (a URL or e-mail address will do)."""
    require_registry_keeper(actor)
    domain = normalize_domain(raw or "")
    if not domain:
        raise ValidationFailed(
            {"domain": f"{raw!r} is not a company domain; give one such as example.com"}
        )
    owner = _owner_of(domain)
    if owner is not None:
        where = (
            "is this company's already"
            if owner.pk == company.pk
            else (f"belongs to {owner.name} (#{owner.pk}); merge the two companies instead")
        )
        raise ValidationFailed({"domain": f"{domain} {where}"})
    try:
        alias = CompanyDomain.objects.create(company=company, domain=domain)
    except IntegrityError:  # a concurrent add of the same domain
        raise ValidationFailed({"domain": f"{domain} was just added; reload"}) from None
    record(actor, "mapping.company.domain", company, after={"domain": domain})
    # Partner records waiting with that domain are this company's now.
    transaction.on_commit(lambda: rematch_partner_accounts([company.pk]))
    return alias


@transaction.atomic
def merge_companies(actor: Any, keep: Company, other: Company) -> Company:
    """`other` is the same company as `keep`: its accounts, partner records and domains move to
    `keep`, and `other` is deleted."""
    require_registry_keeper(actor)
    if keep.pk == other.pk:
        raise ValidationFailed({"companies": "pick two different companies to merge"})
    keep = Company.objects.select_for_update().get(pk=keep.pk)
    other = Company.objects.select_for_update().get(pk=other.pk)
    moved_accounts = AccountResolution.objects.filter(company=other).update(company=keep)
    moved_partner_records = PartnerAccount.objects.filter(company=other).update(company=keep)
    domains = list(other.aliases.values_list("domain", flat=True))
    other.aliases.all().delete()
    if other.domain and other.domain != keep.domain:
        domains.append(other.domain)
    CompanyDomain.objects.bulk_create(
        [CompanyDomain(company=keep, domain=d) for d in domains if d != keep.domain]
    )
    if not keep.registration_id and other.registration_id:
        keep.registration_id = other.registration_id
        keep.save(update_fields=["registration_id"])
    merged = {"id": other.pk, "name": other.name, "domain": other.domain}
    other.delete()
    record(
        actor,
        "mapping.company.merge",
        keep,
        before={"merged": merged},
        after={
            "accounts_moved": moved_accounts,
            "partner_records_moved": moved_partner_records,
            "domains_added": sorted(domains),
        },
    )
    return keep
