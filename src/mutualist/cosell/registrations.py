"""Every write to deal registrations: submit (checked, first complete one wins), decide, extend,
appeal, withdraw, and the sweep that expires protection and sends reminders."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from mutualist.accounts.models import User
from mutualist.audit.log import record, snapshot
from mutualist.cosell import access
from mutualist.cosell.check import Outcome, check, claim_keys
from mutualist.cosell.models import (
    DealRegistration,
    ExtensionRequest,
    RegistrationClaim,
    RegistrationRules,
)
from mutualist.cosell.notify import deciders_for, notify, partner_people
from mutualist.crm.choices import InvolvementRole
from mutualist.crm.models import Account, Opportunity, PartnerInvolvement
from mutualist.lib import validate
from mutualist.lib.countries import country_code
from mutualist.lib.currencies import currency_error
from mutualist.lib.errors import Conflict, NotAllowed, RateLimited, ValidationFailed
from mutualist.overlaps.companies import Identity, account_for
from mutualist.overlaps.keys import domain_key, name_key
from mutualist.partners.models import Partner

Status = DealRegistration.Status
SOURCE_SYSTEM = "registration"
FIELDS = (
    "company_name",
    "domain",
    "country",
    "contact_name",
    "contact_email",
    "product",
    "amount",
    "currency",
    "expected_close",
    "notes",
)


# Upper bounds of the numeric rules; day counts stay under ten years.
RULE_LIMITS = {"submissions_per_hour": 100_000, "decision_sla_hours": 24 * 365}


def current_rules() -> RegistrationRules:
    rules = RegistrationRules.objects.order_by("-version").first()
    return rules or RegistrationRules.objects.create(version=1, note="Defaults")


@transaction.atomic
def new_rules(actor: User, changes: Mapping[str, Any], note: str) -> RegistrationRules:
    """A new version of the rules; decisions already made keep the version that made them."""
    if not access.can_manage_rules(actor):
        raise NotAllowed("Only the CPO changes the deal-registration rules.")
    base = current_rules()
    fields = {
        f.name: getattr(base, f.name)
        for f in RegistrationRules._meta.concrete_fields
        if f.name not in ("id", "version", "created_at", "created_by", "note")
    }
    unknown = sorted(set(changes) - set(fields))
    if unknown:
        raise ValidationFailed({name: "is not a rule setting" for name in unknown})
    errors = {}
    for name, value in changes.items():
        high = RULE_LIMITS.get(name, 3650)
        if isinstance(fields[name], bool):
            if not isinstance(value, bool):
                errors[name] = "must be true or false"
        elif isinstance(value, bool) or not (isinstance(value, int) and 0 <= value <= high):
            errors[name] = f"must be a whole number between 0 and {high:,}"
    if errors:
        raise ValidationFailed(errors)
    fields.update(changes)
    rules = RegistrationRules.objects.create(
        version=base.version + 1, created_by=actor, note=note[:300], **fields
    )
    record(actor, "registration.rules", rules, before=snapshot(base), after=snapshot(rules))
    return rules


def _clean(data: Mapping[str, Any], today: dt.date) -> dict[str, Any]:
    errors: dict[str, str] = {}
    unknown = sorted(set(data) - set(FIELDS))
    errors.update({name: "is not a registration field" for name in unknown})
    text = {
        name: str(data.get(name) or "").strip()
        for name in FIELDS
        if name not in ("amount", "expected_close")
    }
    for name, limit, required in (
        ("company_name", 255, True),
        ("contact_name", 200, True),
        ("product", 200, True),
        ("notes", 5000, False),
    ):
        if message := validate.text_error(text[name], limit, required):
            errors[name] = message
    domain = domain_key(text["domain"]) if text["domain"] else ""
    if text["domain"] and not domain:
        errors["domain"] = (
            f"{text['domain']!r} is not a company web domain (free-mail and invalid domains are refused); give one like acme.com, or leave it empty"
        )
    country = country_code(text["country"]) if text["country"] else None
    if not country:
        errors["country"] = (
            "is required: the customer's country as an ISO code such as US or DE"
            if not text["country"]
            else f"{text['country']!r} is not a country; use an ISO code such as US or DE"
        )
    if text["company_name"] and not name_key(text["company_name"]):
        errors["company_name"] = "has no letters or digits to identify the company"
    if text["contact_email"] and "@" not in text["contact_email"]:
        errors["contact_email"] = "is not an e-mail address"
    currency = text["currency"].upper()
    if message := currency_error(currency):
        errors["currency"] = message
    try:
        amount = Decimal(str(data.get("amount"))).quantize(Decimal("0.01"))
        if not amount.is_finite() or amount <= 0 or amount >= Decimal("1e15"):
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        errors["amount"] = "must be a positive amount such as 25000 or 25000.50"
        amount = Decimal(0)
    close = data.get("expected_close")
    try:
        close_date = close if isinstance(close, dt.date) else dt.date.fromisoformat(str(close))
        if close_date < today:
            errors["expected_close"] = (
                f"{close_date} is in the past; give the date you expect the deal to close"
            )
    except ValueError:
        errors["expected_close"] = "must be a date, YYYY-MM-DD"
        close_date = today
    if errors:
        raise ValidationFailed(errors)
    return {
        **{
            k: text[k]
            for k in ("company_name", "contact_name", "contact_email", "product", "notes")
        },
        "domain": text["domain"][:253],
        "domain_key": domain,
        "name_key": name_key(text["company_name"]),
        "country": country,
        "currency": currency,
        "amount": amount,
        "expected_close": close_date,
    }


def _rate_limit(partner: Partner, rules: RegistrationRules, now: dt.datetime) -> None:
    recent = DealRegistration.objects.filter(
        partner=partner, submitted_at__gte=now - dt.timedelta(hours=1)
    ).count()
    if recent >= rules.submissions_per_hour:
        raise RateLimited(
            f"{partner.name} submitted {recent} registrations in the last hour; the limit is "
            f"{rules.submissions_per_hour} an hour. Try again later."
        )


def submit(actor: User, data: Mapping[str, Any], idempotency_key: str = "") -> DealRegistration:
    """Register a deal for the actor's partner. The outcome (pending, conflict or rejected) and
    its reasons come back at once; a pending registration holds the company's key, so of two
    concurrent registrations of one company exactly one is pending."""
    partner = access.require_partner_user(actor)
    now = timezone.now()
    cleaned = _clean(data, timezone.localdate())
    key = idempotency_key.strip()[:100]
    if key and (
        earlier := DealRegistration.objects.filter(partner=partner, idempotency_key=key).first()
    ):
        raise Conflict(
            f"This submission was received already as registration {earlier.pk} (same Idempotency-Key); nothing new was stored."
        )
    rules = current_rules()
    _rate_limit(partner, rules, now)
    try:
        return _store(actor, partner, cleaned, key, rules, now)
    except IntegrityError:
        if key and (
            earlier := DealRegistration.objects.filter(partner=partner, idempotency_key=key).first()
        ):
            raise Conflict(
                f"This submission was received already as registration {earlier.pk}."
            ) from None
        raise


@transaction.atomic
def _store(
    actor: User,
    partner: Partner,
    cleaned: dict[str, Any],
    key: str,
    rules: RegistrationRules,
    now: dt.datetime,
) -> DealRegistration:
    outcome = check(
        partner.pk, cleaned["domain_key"], cleaned["name_key"], cleaned["country"], rules
    )
    registration = DealRegistration.objects.create(
        partner=partner,
        submitted_by=actor,
        submitted_at=now,
        idempotency_key=key,
        rules=rules,
        status=outcome.status,
        reasons=[f.as_dict() for f in outcome.findings],
        **cleaned,
    )
    if outcome.status == Status.PENDING and not _claim(registration):
        # Someone else's registration of this company committed between our check and our claim.
        outcome = check(
            partner.pk,
            cleaned["domain_key"],
            cleaned["name_key"],
            cleaned["country"],
            rules,
            exclude=registration.pk,
        )
        if outcome.status == Status.PENDING:
            outcome = Outcome(Status.CONFLICT, outcome.findings)
        registration.status, registration.reasons = (
            outcome.status,
            [f.as_dict() for f in outcome.findings],
        )
        registration.save(update_fields=["status", "reasons"])
    record(
        actor,
        "registration.submit",
        registration,
        after={
            **snapshot(
                registration,
                ["status", "company_name", "domain_key", "country", "amount", "currency"],
            ),
            "rules": rules.version,
        },
    )
    _tell(
        registration,
        "deciders",
        "registration.submitted",
        f"{partner.name} registered {registration.company_name}: {registration.get_status_display().lower()}",
    )
    return registration


def _tell(registration: DealRegistration, who: str, verb: str, text: str) -> None:
    """Notify the partner's people, or the people who decide for it, with a link to the registration."""
    people = (
        partner_people(registration.partner)
        if who == "partner"
        else deciders_for(registration.partner)
    )
    notify(people, verb, text, f"/cosell/registrations/{registration.pk}/")


def _claim(registration: DealRegistration) -> bool:
    try:
        with transaction.atomic():
            RegistrationClaim.objects.bulk_create(
                [
                    RegistrationClaim(key=k, registration=registration)
                    for k in claim_keys(
                        registration.domain_key, registration.name_key, registration.country
                    )
                ]
            )
        return True
    except IntegrityError:
        return False


def _release(registration: DealRegistration) -> None:
    RegistrationClaim.objects.filter(registration=registration).delete()


def _locked(registration: DealRegistration) -> DealRegistration:
    return (
        DealRegistration.objects.select_for_update(of=("self",))
        .select_related("partner", "rules")
        .get(pk=registration.pk)
    )


@transaction.atomic
def approve(actor: User, registration: DealRegistration, reason: str = "") -> DealRegistration:
    """Approve a registration: protection starts, and the CRM gets the opportunity (the open one
    the check found, or a new one) with the partner recorded as its source, so the metrics see
    it. A conflict may be approved after review, unless another live registration holds the
    company."""
    access.require_can_decide(actor, registration.partner)
    registration = _locked(registration)
    if registration.status not in (Status.PENDING, Status.CONFLICT):
        raise Conflict(
            f"Registration {registration.pk} is {registration.get_status_display().lower()}; "
            "only pending or conflicting registrations are approved."
        )
    if registration.status == Status.CONFLICT:
        if not reason.strip():
            raise ValidationFailed({"reason": "approving despite a conflict needs a reason"})
        if not _claim(registration):
            raise Conflict(
                "Another live registration holds this company; it must be rejected or expire first."
            )
    now = timezone.now()
    before = snapshot(registration, ["status", "protected_until"])
    registration.status = Status.APPROVED
    registration.decided_by, registration.decided_at = actor, now
    registration.decision_reason = reason.strip()
    registration.protected_until = now + dt.timedelta(days=registration.rules.protection_days)
    registration.account, registration.opportunity = _crm_records(registration, now)
    registration.save()
    record(
        actor,
        "registration.approve",
        registration,
        before=before,
        after=snapshot(registration, ["status", "protected_until", "opportunity_id"]),
    )
    _tell(
        registration,
        "partner",
        "registration.approved",
        f"Your registration of {registration.company_name} is approved; protected until "
        f"{registration.protected_until:%Y-%m-%d}.",
    )
    return registration


def _crm_records(registration: DealRegistration, now: dt.datetime) -> tuple[Account, Opportunity]:
    found = [r["object_id"] for r in registration.reasons if r["kind"] == "opportunity"]
    opportunity = (
        Opportunity.objects.filter(pk__in=found, is_closed=False).select_related("account").first()
    )
    if opportunity is None:
        account, _ = account_for(
            Identity(
                registration.company_name,
                registration.domain_key,
                registration.name_key,
                registration.country,
            ),
            now=now,
            source_system=SOURCE_SYSTEM,
            external_id=f"reg-{registration.pk}",
            reason=f"registered by {registration.partner.name}",
        )
        opportunity = Opportunity.objects.create(
            account=account,
            name=f"{registration.company_name} - {registration.product}"[:255],
            amount=registration.amount,
            currency=registration.currency,
            stage="Registered",
            created_at=now,
            lead_source="Partner",
            source_system=SOURCE_SYSTEM,
            external_id=f"reg-{registration.pk}",
        )
    PartnerInvolvement.objects.get_or_create(
        opportunity=opportunity,
        partner=registration.partner,
        role=InvolvementRole.SOURCED,
        defaults={"attached_at": now, "is_primary": not opportunity.involvements.exists()},
    )
    return opportunity.account, opportunity


@transaction.atomic
def reject(actor: User, registration: DealRegistration, reason: str) -> DealRegistration:
    access.require_can_decide(actor, registration.partner)
    if not reason.strip():
        raise ValidationFailed({"reason": "say why, so the partner can act on it"})
    registration = _locked(registration)
    if registration.status not in (Status.PENDING, Status.CONFLICT):
        raise Conflict(
            f"Registration {registration.pk} is {registration.get_status_display().lower()}; only pending or conflicting ones are rejected."
        )
    before = snapshot(registration, ["status"])
    registration.status, registration.decided_by, registration.decided_at = (
        Status.REJECTED,
        actor,
        timezone.now(),
    )
    registration.decision_reason = reason.strip()
    registration.save()
    _release(registration)
    record(
        actor,
        "registration.reject",
        registration,
        before=before,
        after=snapshot(registration, ["status", "decision_reason"]),
    )
    _tell(
        registration,
        "partner",
        "registration.rejected",
        f"Your registration of {registration.company_name} was rejected: {registration.decision_reason}",
    )
    return registration


@transaction.atomic
def withdraw(actor: User, registration: DealRegistration) -> DealRegistration:
    access.require_owner_of(actor, registration)
    registration = _locked(registration)
    if registration.status not in (Status.PENDING, Status.CONFLICT, Status.APPROVED):
        raise Conflict(
            f"Registration {registration.pk} is {registration.get_status_display().lower()}; nothing to withdraw."
        )
    before = snapshot(registration, ["status"])
    registration.status = Status.WITHDRAWN
    registration.save(update_fields=["status"])
    _release(registration)
    record(
        actor,
        "registration.withdraw",
        registration,
        before=before,
        after={"status": registration.status},
    )
    return registration


@transaction.atomic
def request_extension(actor: User, registration: DealRegistration, reason: str) -> ExtensionRequest:
    access.require_owner_of(actor, registration)
    registration = _locked(registration)
    if not reason.strip():
        raise ValidationFailed({"reason": "say why the deal needs more time"})
    if registration.status != Status.APPROVED:
        raise Conflict("Only an approved, protected registration can be extended.")
    if registration.extensions_granted >= registration.rules.max_extensions:
        raise Conflict(
            f"This registration has had its {registration.rules.max_extensions} extension(s) under rules v{registration.rules.version}."
        )
    if registration.extensions.filter(status=ExtensionRequest.Status.PENDING).exists():
        raise Conflict("An extension request is already waiting for a decision.")
    request = ExtensionRequest.objects.create(
        registration=registration,
        requested_by=actor,
        requested_at=timezone.now(),
        reason=reason.strip(),
    )
    record(actor, "registration.extension.request", registration, after={"reason": request.reason})
    _tell(
        registration,
        "deciders",
        "registration.extension",
        f"{registration.partner.name} asks to extend the protection of {registration.company_name}.",
    )
    return request


@transaction.atomic
def decide_extension(
    actor: User, request: ExtensionRequest, approve_it: bool, reason: str = ""
) -> ExtensionRequest:
    registration = request.registration
    access.require_can_decide(actor, registration.partner)
    request = ExtensionRequest.objects.select_for_update(of=("self",)).get(pk=request.pk)
    registration = _locked(registration)
    if request.status != ExtensionRequest.Status.PENDING:
        raise Conflict("This extension request was decided already.")
    request.status = (
        ExtensionRequest.Status.APPROVED if approve_it else ExtensionRequest.Status.DECLINED
    )
    request.decided_by, request.decided_at, request.decision_reason = (
        actor,
        timezone.now(),
        reason.strip(),
    )
    request.save()
    if approve_it:
        if registration.status != Status.APPROVED or registration.protected_until is None:
            raise Conflict("The registration is no longer protected; it cannot be extended.")
        registration.protected_until += dt.timedelta(days=registration.rules.extension_days)
        registration.extensions_granted += 1
        registration.reminded_at = None
        registration.save(update_fields=["protected_until", "extensions_granted", "reminded_at"])
    record(
        actor,
        f"registration.extension.{request.status}",
        registration,
        after={"protected_until": registration.protected_until, "reason": request.decision_reason},
    )
    _tell(
        registration,
        "partner",
        "registration.extension.decided",
        f"Extension of {registration.company_name}: {request.get_status_display().lower()}.",
    )
    return request


@transaction.atomic
def appeal(actor: User, registration: DealRegistration, text: str) -> DealRegistration:
    access.require_owner_of(actor, registration)
    registration = _locked(registration)
    if not text.strip():
        raise ValidationFailed({"text": "say why the decision should change"})
    if registration.status not in (Status.REJECTED, Status.CONFLICT):
        raise Conflict("Only a rejected or conflicting registration can be appealed.")
    if registration.appeal:
        raise Conflict("This registration has been appealed already.")
    registration.appeal, registration.appeal_text, registration.appealed_at = (
        DealRegistration.Appeal.OPEN,
        text.strip(),
        timezone.now(),
    )
    registration.save(update_fields=["appeal", "appeal_text", "appealed_at"])
    record(actor, "registration.appeal", registration, after={"text": registration.appeal_text})
    _tell(
        registration,
        "deciders",
        "registration.appeal",
        f"{registration.partner.name} appeals the decision on {registration.company_name}.",
    )
    return registration


@transaction.atomic
def decide_appeal(
    actor: User, registration: DealRegistration, overturn: bool, reason: str
) -> DealRegistration:
    """Uphold the decision, or overturn it: the registration becomes pending again, unless
    another live registration holds the company (release that one first)."""
    access.require_can_decide(actor, registration.partner)
    if not reason.strip():
        raise ValidationFailed({"reason": "say why, so the partner can see it"})
    registration = _locked(registration)
    if registration.appeal != DealRegistration.Appeal.OPEN:
        raise Conflict("There is no open appeal on this registration.")
    before = snapshot(registration, ["status", "appeal"])
    if overturn:
        if not _claim(registration):
            raise Conflict(
                "Another live registration holds this company; reject or let it expire first."
            )
        registration.status = Status.PENDING
    registration.appeal = (
        DealRegistration.Appeal.OVERTURNED if overturn else DealRegistration.Appeal.UPHELD
    )
    registration.appeal_decided_by, registration.appeal_reason = actor, reason.strip()
    registration.save()
    record(
        actor,
        "registration.appeal.decide",
        registration,
        before=before,
        after=snapshot(registration, ["status", "appeal"]),
    )
    _tell(
        registration,
        "partner",
        "registration.appeal.decided",
        f"Your appeal on {registration.company_name}: {registration.get_appeal_display().lower()}.",
    )
    return registration


def sweep(now: dt.datetime | None = None) -> dict[str, int]:
    """Expire protection that ran out (releasing the company) and remind partners before it
    does. Run by `mutualist cosell sweep` (cron) and when the registration pages load."""
    now = now or timezone.now()
    expired = reminded = 0
    for registration in DealRegistration.objects.filter(
        status=Status.APPROVED, protected_until__lt=now
    ).select_related("partner"):
        with transaction.atomic():
            locked = _locked(registration)
            if locked.status != Status.APPROVED:
                continue
            locked.status = Status.EXPIRED
            locked.save(update_fields=["status"])
            _release(locked)
            record(
                None,
                "registration.expire",
                locked,
                after={"protected_until": locked.protected_until},
            )
            _tell(
                locked,
                "partner",
                "registration.expired",
                f"Protection of {locked.company_name} expired; the account is released.",
            )
            expired += 1
    due = DealRegistration.objects.filter(
        status=Status.APPROVED, reminded_at__isnull=True
    ).select_related("partner", "rules")
    for registration in due:
        if (
            registration.protected_until
            and registration.protected_until - dt.timedelta(days=registration.rules.reminder_days)
            <= now
        ):
            with transaction.atomic():
                DealRegistration.objects.filter(pk=registration.pk).update(reminded_at=now)
                _tell(
                    registration,
                    "partner",
                    "registration.expiring",
                    f"Protection of {registration.company_name} ends on {registration.protected_until:%Y-%m-%d}; ask for an extension if the deal needs more time.",
                )
            reminded += 1
    return {"expired": expired, "reminded": reminded}
