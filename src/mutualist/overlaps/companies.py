"""Finding a company in the registry by its exact keys, and the vendor's account for it — the one
place deal registration, referrals and the conflict check look companies up."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q

from mutualist.crm.choices import AccountLifecycle
from mutualist.crm.models import Account
from mutualist.overlaps.keys import domain_key, name_key
from mutualist.overlaps.models import AccountResolution, Company


@dataclass(frozen=True)
class Identity:
    """A company as someone typed it, reduced to the keys it is looked up by."""

    name: str
    domain: str  # registrable domain, or ""
    name_key: str
    country: str

    @classmethod
    def of(cls, name: str, domain: str, country: str) -> Identity:
        return cls(name, domain_key(domain), name_key(name), country)


def find_companies(identity: Identity, limit: int = 20) -> list[int]:
    """By registrable domain when there is one; otherwise by name key and country (a company
    whose country is unknown counts). Different domains are different companies, unless the
    registry records one as another domain of the company."""
    if identity.domain:
        found = Company.objects.filter(
            Q(domain=identity.domain) | Q(aliases__domain=identity.domain)
        ).distinct()
    else:
        found = Company.objects.filter(
            name_key=identity.name_key, country__in=[identity.country, ""]
        )
    return list(found.order_by("pk").values_list("pk", flat=True)[:limit])


def account_for(
    identity: Identity, *, now: dt.datetime, source_system: str, external_id: str, reason: str
) -> tuple[Account, bool]:
    """The vendor's account of the company, or a new prospect account resolved to it (and a new
    company when the registry has none). Returns the account and whether it was created."""
    companies = find_companies(identity, limit=1)
    account = (
        Account.objects.filter(resolution__company__in=companies).order_by("pk").first()
        if companies
        else None
    )
    if account is not None:
        return account, False
    account = Account.objects.create(
        name=identity.name,
        domain=identity.domain,
        country=identity.country,
        lifecycle=AccountLifecycle.PROSPECT,
        created_at=now,
        source_system=source_system,
        external_id=external_id,
    )
    company_id = (
        companies[0]
        if companies
        else Company.objects.create(
            name=identity.name,
            name_key=identity.name_key,
            domain=identity.domain,
            country=identity.country,
        ).pk
    )
    AccountResolution.objects.create(
        account=account, company_id=company_id, confidence="exact", reason=reason[:300]
    )
    return account, True
