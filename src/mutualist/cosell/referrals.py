"""Partner-to-partner referrals: one partner hands a customer opportunity to another.

Both partners see the referral. When the receiving partner accepts, the deal enters the CRM as
an opportunity (stage "Referred") on the company's existing account, or on a new one, with two
involvements: *sourced* for the referrer and *influenced* for the receiver. That is what lets
the board metrics count the flow and both partners find the deal in their portal.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from mutualist.accounts.models import User
from mutualist.audit.log import record, snapshot
from mutualist.cosell.access import referrals_visible_to
from mutualist.cosell.models import Referral
from mutualist.cosell.notify import notify, partner_people
from mutualist.crm.choices import AccountLifecycle, InvolvementRole, LeadSource, OpportunityType
from mutualist.crm.models import Account, Opportunity, PartnerInvolvement
from mutualist.lib import validate
from mutualist.lib.currencies import currency_error
from mutualist.lib.errors import Conflict, NotAllowed, ValidationFailed
from mutualist.overlaps.companies import Identity, account_for
from mutualist.overlaps.keys import domain_key, name_key
from mutualist.partners.choices import Status
from mutualist.partners.models import Partner

REFERRED_STAGE = "Referred"
SOURCE_SYSTEM = "referral"
MAX_AMOUNT = Decimal("1e15")

# --- access ---------------------------------------------------------------------------------


def get_referral_for(user: Any, referral_id: int) -> Referral:
    """A referral, for the two partners' people and vendor staff; a 404 for anyone else."""
    try:
        return (
            referrals_visible_to(user)
            .select_related("from_partner", "to_partner", "opportunity")
            .get(pk=referral_id)
        )
    except Referral.DoesNotExist:
        raise Http404("No such referral.") from None


def require_referrer(user: Any) -> Partner:
    if not (user and user.is_authenticated and user.is_active and user.is_partner_user):
        raise NotAllowed("Referrals are made by a partner's own people, from the partner portal.")
    return user.partner


def can_respond(user: Any, referral: Referral) -> bool:
    return bool(user.is_partner_user and user.partner_id == referral.to_partner_id)


def receivers_for(user: Any) -> QuerySet[Partner]:
    """The partners a partner's people may refer a customer to: every other active partner."""
    return Partner.objects.filter(status=Status.ACTIVE).exclude(pk=user.partner_id).order_by("name")


# --- validation -----------------------------------------------------------------------------


def _text(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    return "" if value is None else str(value).strip()


def _amount(raw: Any, errors: dict[str, str]) -> Decimal | None:
    if raw is None or str(raw).strip() == "":
        return None
    try:
        amount = Decimal(str(raw).strip().replace(",", ""))
    except InvalidOperation:
        errors["amount"] = f"{raw!r} is not an amount; give a number such as 25000 or 25000.50"
        return None
    if not amount.is_finite() or amount < 0 or amount >= MAX_AMOUNT:
        errors["amount"] = "give a positive amount (or leave it empty when not known)"
        return None
    return amount.quantize(Decimal("0.01"))


def _receiver(
    to_partner: Partner | int | None, sender: Partner, errors: dict[str, str]
) -> Partner | None:
    # The same message for a missing and an inactive partner: a partner's people do not learn
    # which inactive partners exist.
    partner_id = to_partner.pk if isinstance(to_partner, Partner) else to_partner
    receiver = Partner.objects.filter(pk=partner_id or 0, status=Status.ACTIVE).first()
    if partner_id == sender.pk:
        errors["to_partner"] = (
            "you cannot refer a customer to your own company; choose another partner"
        )
    elif receiver is None:
        errors["to_partner"] = "choose an active partner to refer the customer to"
    return receiver


def clean(
    data: Mapping[str, Any], to_partner: Partner | int | None, sender: Partner
) -> dict[str, Any]:
    """The referral's fields, validated; ValidationFailed names every wrong field at once."""
    errors: dict[str, str] = {}
    receiver = _receiver(to_partner, sender, errors)
    company_name = _text(data, "company_name")
    if message := validate.text_error(company_name, 255, required=True):
        errors["company_name"] = message
    domain_raw = _text(data, "domain")
    domain = domain_key(domain_raw) if domain_raw else ""
    if domain_raw and not domain:
        errors["domain"] = (
            f"{domain_raw!r} is not a web domain; give one like example.com (or leave it empty)"
        )
    country = _text(data, "country").upper()
    if not country:
        errors["country"] = "is required: the customer's country as an ISO code such as US or DE"
    elif message := validate.country_error(country):
        errors["country"] = message
    currency = _text(data, "currency").upper() or "USD"
    if message := currency_error(currency):
        errors["currency"] = message
    amount = _amount(data.get("amount"), errors)
    note = _text(data, "note")
    if message := validate.text_error(note, 2000):
        errors["note"] = message
    if errors:
        raise ValidationFailed(errors)
    return {
        "to_partner": receiver,
        "company_name": company_name,
        "domain": domain,
        "country": country,
        "amount": amount,
        "currency": currency,
        "note": note,
    }


# --- actions --------------------------------------------------------------------------------


def referral_url(referral: Referral) -> str:
    try:
        return reverse("referral", args=[referral.pk])
    except NoReverseMatch:  # the co-selling pages are not mounted in this installation
        return ""


@transaction.atomic
def refer(actor: User, to_partner: Partner | int | None, data: Mapping[str, Any]) -> Referral:
    """`actor`'s partner refers a customer to `to_partner` (a partner or its id)."""
    sender = require_referrer(actor)
    fields = clean(data, to_partner, sender)
    referral = Referral.objects.create(
        from_partner=sender, created_by=actor, created_at=timezone.now(), **fields
    )
    record(actor, "cosell.referral.create", referral, after=snapshot(referral))
    notify(
        partner_people(referral.to_partner),
        "referral_received",
        f"{sender.name} refers {referral.company_name} ({referral.country}) to you. Accept or decline it.",
        referral_url(referral),
    )
    return referral


def _account_for(actor: User, referral: Referral, now: Any) -> Account:
    """The vendor's account of the referred company (found through the company registry), or a
    new one resolved to it."""
    identity = Identity(
        referral.company_name, referral.domain, name_key(referral.company_name), referral.country
    )
    account, created = account_for(
        identity,
        now=now,
        source_system=SOURCE_SYSTEM,
        external_id=f"ref-{referral.pk}",
        reason=f"referred by {referral.from_partner.name}",
    )
    if created:
        record(actor, "crm.account.create", account, after=snapshot(account))
    return account


def _opportunity_for(actor: User, referral: Referral, account: Account, now: Any) -> Opportunity:
    is_customer = account.lifecycle == AccountLifecycle.CUSTOMER
    opportunity = Opportunity.objects.create(
        account=account,
        name=f"{referral.company_name} (referral)",
        amount=referral.amount,
        currency=referral.currency,
        stage=REFERRED_STAGE,
        created_at=now,
        type=OpportunityType.EXPANSION if is_customer else OpportunityType.NEW_BUSINESS,
        lead_source=LeadSource.PARTNER_REFERRAL,
        source_system=SOURCE_SYSTEM,
        external_id=f"ref-{referral.pk}",
    )
    PartnerInvolvement.objects.bulk_create(
        [
            PartnerInvolvement(
                opportunity=opportunity,
                partner_id=referral.from_partner_id,
                role=InvolvementRole.SOURCED,
                attached_at=now,
                is_primary=True,
            ),
            PartnerInvolvement(
                opportunity=opportunity,
                partner_id=referral.to_partner_id,
                role=InvolvementRole.INFLUENCED,
                attached_at=now,
            ),
        ]
    )
    record(actor, "crm.opportunity.create", opportunity, after=snapshot(opportunity))
    return opportunity


@transaction.atomic
def respond(actor: User, referral: Referral, accept: bool) -> Referral:
    """The receiving partner accepts (the deal enters the CRM) or declines the referral."""
    get_referral_for(actor, referral.pk)  # a third partner: 404
    referral = (
        Referral.objects.select_for_update(of=("self",))
        .select_related("from_partner", "to_partner")
        .get(pk=referral.pk)
    )
    if not can_respond(actor, referral):
        raise NotAllowed(f"Only {referral.to_partner.name}'s people answer this referral.")
    if referral.status != Referral.Status.OFFERED:
        raise Conflict(f"This referral is {referral.get_status_display().lower()} already.")
    now = timezone.now()
    before = snapshot(referral, ["status", "responded_at", "opportunity_id"])
    referral.status = Referral.Status.ACCEPTED if accept else Referral.Status.DECLINED
    referral.responded_at = now
    if accept:
        account = _account_for(actor, referral, now)
        referral.opportunity = _opportunity_for(actor, referral, account, now)
    referral.save(update_fields=["status", "responded_at", "opportunity"])
    after = snapshot(referral, ["status", "responded_at", "opportunity_id"])
    record(
        actor,
        f"cosell.referral.{'accept' if accept else 'decline'}",
        referral,
        before=before,
        after=after,
    )
    notify(
        partner_people(referral.from_partner),
        f"referral_{referral.status}",
        f"{referral.to_partner.name} {referral.status} your referral of {referral.company_name}.",
        referral_url(referral),
    )
    return referral


# --- lists ----------------------------------------------------------------------------------

DIRECTIONS = ("made", "received")


def filter_referrals(
    user: Any, status: str = "", direction: str = "", q: str = ""
) -> QuerySet[Referral]:
    """The referrals `user` sees, filtered; shared by the page, its CSV and the API.
    `direction` (made or received) is relative to the user's partner."""
    errors: dict[str, str] = {}
    if status and status not in Referral.Status.values:
        errors["status"] = (
            f"unknown status {status!r}; use one of: {', '.join(Referral.Status.values)}"
        )
    if direction and direction not in DIRECTIONS:
        errors["direction"] = (
            f"unknown direction {direction!r}; use one of: {', '.join(DIRECTIONS)}"
        )
    elif direction and not user.is_partner_user:
        errors["direction"] = (
            "only a partner's people have a direction; filter by partner name instead"
        )
    if errors:
        raise ValidationFailed(errors)
    referrals = referrals_visible_to(user)
    if status:
        referrals = referrals.filter(status=status)
    if direction == "made":
        referrals = referrals.filter(from_partner_id=user.partner_id)
    elif direction == "received":
        referrals = referrals.filter(to_partner_id=user.partner_id)
    if q:
        referrals = referrals.filter(
            Q(company_name__icontains=q)
            | Q(from_partner__name__icontains=q)
            | Q(to_partner__name__icontains=q)
        )
    return referrals.select_related("from_partner", "to_partner").order_by("-created_at", "-id")
