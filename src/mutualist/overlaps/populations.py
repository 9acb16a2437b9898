"""Which accounts are in a population, on either side, as querysets (so counts are SQL joins)."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet

from mutualist.crm.choices import AccountLifecycle
from mutualist.crm.models import Account, Opportunity
from mutualist.overlaps.choices import STATUS_BASE, Base, Side
from mutualist.overlaps.models import PartnerAccount, Population
from mutualist.partners.models import Partner

STANDARD = [
    (Base.CUSTOMERS, "customers", "Customers"),
    (Base.OPEN_OPPORTUNITIES, "open-opportunities", "Open opportunities"),
    (Base.PROSPECTS, "prospects", "Prospects"),
]


def populations_of(side: Side, partner: Partner) -> list[Population]:
    """A side's populations (the standard ones exist once the partnership does)."""
    owner = partner if side == Side.PARTNER else None
    return list(Population.objects.filter(side=side, partner=owner))


def _open_opportunity() -> Exists:
    return Exists(Opportunity.objects.filter(account=OuterRef("pk"), is_closed=False))


def vendor_accounts(population: Population) -> QuerySet[Account]:
    """Customers by lifecycle; open opportunities by an open deal; prospects are the rest of
    the non-customers without an open deal (Crossbeam's definitions)."""
    accounts = Account.objects.all()
    if population.base == Base.CUSTOMERS:
        accounts = accounts.filter(lifecycle=AccountLifecycle.CUSTOMER)
    elif population.base == Base.OPEN_OPPORTUNITIES:
        accounts = accounts.filter(_open_opportunity())
    else:
        accounts = accounts.filter(lifecycle=AccountLifecycle.PROSPECT).exclude(_open_opportunity())
    return _narrow(accounts, population)


def partner_accounts(population: Population) -> QuerySet[PartnerAccount]:
    statuses = [s for s, base in STATUS_BASE.items() if base == population.base]
    accounts = PartnerAccount.objects.filter(partner=population.partner, status__in=statuses)
    return _narrow(accounts, population)


def _narrow(accounts: QuerySet, population: Population) -> QuerySet:
    if population.country:
        accounts = accounts.filter(country=population.country)
    if population.industry:
        accounts = accounts.filter(industry__iexact=population.industry)
    return accounts


def members(population: Population) -> QuerySet:
    if population.side == Side.VENDOR:
        return vendor_accounts(population)
    return partner_accounts(population)


def companies(population: Population) -> QuerySet:
    """The company ids a population resolves to (a subquery, never materialised)."""
    if population.side == Side.VENDOR:
        return (
            vendor_accounts(population)
            .filter(resolution__company__isnull=False)
            .values("resolution__company")
        )
    return partner_accounts(population).filter(company__isnull=False).values("company")
