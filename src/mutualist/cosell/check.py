"""The conflict check of a deal registration: one registered company against the vendor's
customers, its open opportunities and the other live registrations.

The company is found by its registrable domain first; without a domain, by its normalised name
(legal forms, case, punctuation and common abbreviations removed) plus country. Two companies
with different domains are different companies even when their names agree ("Delta" the airline
and "Delta" the faucet maker), which keeps false conflicts out. Every lookup is an indexed
equality (the company registry of account mapping), so the check stays fast at millions of
accounts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from mutualist.cosell.models import DealRegistration, RegistrationClaim, RegistrationRules
from mutualist.crm.choices import AccountLifecycle
from mutualist.crm.models import Account, Opportunity
from mutualist.overlaps.companies import Identity, find_companies

LIVE = (DealRegistration.Status.PENDING, DealRegistration.Status.APPROVED)


@dataclass(frozen=True)
class Finding:
    code: str  # existing_customer | open_opportunity | registered_by_other | registered_by_you
    partner_message: str  # what the registering partner is told: no other partner, no figures
    staff_message: str  # the whole story, for vendor staff
    kind: str  # account | opportunity | registration
    object_id: int

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class Outcome:
    status: str
    findings: list[Finding]


def claim_keys(domain_key: str, name_key: str, country: str) -> list[str]:
    return [f"d:{domain_key}"] if domain_key else [f"n:{name_key}|{country}"]


def _registrations(
    domain_key: str, name_key: str, country: str, exclude: int | None
) -> list[DealRegistration]:
    """Live registrations of the company: the one holding its key (a unique-index lookup), and
    domain-less ones of the same name and country (they claimed the name, not the domain).
    Two indexed lookups, not one OR across a join: that stays flat at any number of
    registrations."""
    ids = set(
        RegistrationClaim.objects.filter(
            key__in=claim_keys(domain_key, name_key, country)
        ).values_list("registration_id", flat=True)
    )
    by_name = DealRegistration.objects.filter(name_key=name_key, country=country, status__in=LIVE)
    if domain_key:
        by_name = by_name.filter(domain_key="")
    ids.update(by_name.order_by().values_list("pk", flat=True)[:5])
    ids.discard(exclude or 0)
    if not ids:
        return []
    found = DealRegistration.objects.filter(pk__in=ids, status__in=LIVE).select_related("partner")
    return list(found.order_by("submitted_at", "pk")[:5])


def check(
    partner_id: int,
    domain_key: str,
    name_key: str,
    country: str,
    rules: RegistrationRules,
    exclude: int | None = None,
) -> Outcome:
    findings: list[Finding] = []
    companies = find_companies(Identity("", domain_key, name_key, country))
    if companies:
        accounts = Account.objects.filter(resolution__company__in=companies)
        # Any one is enough: unordered, two columns, so the lookup stays an index probe.
        customer = (
            accounts.filter(lifecycle=AccountLifecycle.CUSTOMER)
            .order_by()
            .only("pk", "name")
            .first()
        )
        if customer is not None:
            findings.append(
                Finding(
                    "existing_customer",
                    "This company is already our customer."
                    + (
                        " Existing customers cannot be registered (named-account rule)."
                        if rules.reject_existing_customers
                        else ""
                    ),
                    f"{customer.name} (account {customer.pk}) is a customer.",
                    "account",
                    customer.pk,
                )
            )
        opportunity = (
            Opportunity.objects.filter(account__in=accounts, is_closed=False)
            .order_by()
            .only("pk", "name", "stage")
            .first()
        )
        if opportunity is not None and rules.conflict_on_open_opportunity:
            findings.append(
                Finding(
                    "open_opportunity",
                    "We already have an open opportunity with this company.",
                    f"Open opportunity {opportunity.name!r} ({opportunity.pk}), stage {opportunity.stage}.",
                    "opportunity",
                    opportunity.pk,
                )
            )
    for other in _registrations(domain_key, name_key, country, exclude):
        mine = other.partner_id == partner_id
        findings.append(
            Finding(
                "registered_by_you" if mine else "registered_by_other",
                f"You registered this company already (registration {other.pk})."
                if mine
                else f"Another partner registered this company first, on {other.submitted_at:%Y-%m-%d}.",
                f"{other.partner.name} registered it on {other.submitted_at:%Y-%m-%d %H:%M:%S} (registration {other.pk}, {other.status}).",
                "registration",
                other.pk,
            )
        )
    if any(f.code == "existing_customer" for f in findings) and rules.reject_existing_customers:
        return Outcome(DealRegistration.Status.REJECTED, findings)
    return Outcome(
        DealRegistration.Status.CONFLICT if findings else DealRegistration.Status.PENDING, findings
    )
