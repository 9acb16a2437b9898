"""Every write to agreements: templates, drafting, edits (new versions that reset the sign-offs
they affect), review, approval (the last one signs and sets the partner's targets),
termination, and the daily sweep that expires agreements and sends renewal reminders."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from mutualist.accounts.models import User
from mutualist.agreements import access, terms
from mutualist.agreements.models import (
    Agreement,
    AgreementTemplate,
    AgreementType,
    AgreementVersion,
    Approval,
    Target,
)
from mutualist.audit.log import record, snapshot
from mutualist.cosell.notify import deciders_for, notify
from mutualist.lib import validate
from mutualist.lib.dates import end_of_term
from mutualist.lib.errors import Conflict, ValidationFailed
from mutualist.partners.models import Partner

Status = Agreement.Status
EDITABLE = (Status.DRAFT, Status.IN_REVIEW, Status.SIGNED)


def _url(agreement: Agreement) -> str:
    try:
        return reverse("agreement-details", args=[agreement.pk])
    except NoReverseMatch:  # the pages are not mounted (a CLI or a test without them)
        return f"/agreements/{agreement.pk}/"


# --- templates -------------------------------------------------------------------------------


def clean_template(data: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    name = str(data.get("name") or "").strip()
    if message := validate.text_error(name, 200, required=True):
        errors["name"] = message
    kind = str(data.get("agreement_type") or "").strip()
    if message := validate.choice_error(kind, tuple(AgreementType.values), "agreement type"):
        errors["agreement_type"] = message
    cleaned: dict[str, Any] = {
        "name": name,
        "agreement_type": kind,
        "description": str(data.get("description") or "").strip()[:5000],
    }
    for field, clean in (
        ("terms", lambda v: terms.clean_terms(v or {}, prefix="terms.")),
        ("responsibilities", lambda v: terms.clean_responsibilities(v or {})),
        ("kpis", lambda v: terms.clean_kpis(v if v is not None else [])),
    ):
        try:
            cleaned[field] = clean(data.get(field))
        except ValidationFailed as exc:
            errors.update(exc.errors)
    try:
        cleaned["required_approvals"], cleaned["coverage"] = terms.clean_approvals(
            data.get("required_approvals"), data.get("coverage")
        )
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    return cleaned


TEMPLATE_FIELDS = (
    "name",
    "agreement_type",
    "description",
    "terms",
    "responsibilities",
    "kpis",
    "required_approvals",
    "coverage",
)


def _name_taken(name: str) -> ValidationFailed:
    return ValidationFailed({"name": f"a template named {name!r} exists; pick another"})


@transaction.atomic
def create_template(actor: User, data: Mapping[str, Any]) -> AgreementTemplate:
    """A template: default terms, responsibilities, KPIs, who signs off and what each covers."""
    access.require_can_manage_templates(actor)
    cleaned = clean_template(data)
    if AgreementTemplate.objects.filter(name__iexact=cleaned["name"]).exists():
        raise _name_taken(cleaned["name"])
    try:
        with transaction.atomic():
            template = AgreementTemplate.objects.create(
                created_at=timezone.now(), created_by=actor, **cleaned
            )
    except IntegrityError:  # the same name saved at the same moment
        raise _name_taken(cleaned["name"]) from None
    record(actor, "agreement_template.create", template, after=cleaned)
    return template


@transaction.atomic
def update_template(
    actor: User, template: AgreementTemplate, data: Mapping[str, Any]
) -> AgreementTemplate:
    """Replace a template's content with `data` (checked as on creation; a field left out keeps
    its value, and leaving out the coverage while naming the roles gives the default coverage).

    Agreements already drafted from the template do not change: drafting copied the template's
    terms, responsibilities and KPIs into the agreement's version 1, and its approver roles and
    coverage into the agreement. Only agreements drafted after the update get the new content.
    """
    access.require_can_manage_templates(actor)
    template = AgreementTemplate.objects.select_for_update(of=("self",)).get(pk=template.pk)
    before = {name: getattr(template, name) for name in TEMPLATE_FIELDS}
    merged = {**before, **{k: v for k, v in data.items() if k in TEMPLATE_FIELDS}}
    if "required_approvals" in data and "coverage" not in data:
        merged["coverage"] = None
    unknown = sorted(set(data) - set(TEMPLATE_FIELDS))
    if unknown:
        raise ValidationFailed(
            {
                name: f"is not a template field; use: {', '.join(TEMPLATE_FIELDS)}"
                for name in unknown
            }
        )
    cleaned = clean_template(merged)
    if (
        AgreementTemplate.objects.filter(name__iexact=cleaned["name"])
        .exclude(pk=template.pk)
        .exists()
    ):
        raise _name_taken(cleaned["name"])
    changed = [name for name in TEMPLATE_FIELDS if before[name] != cleaned[name]]
    for name in changed:
        setattr(template, name, cleaned[name])
    if changed:
        try:
            with transaction.atomic():
                template.save(update_fields=changed)
        except IntegrityError:
            raise _name_taken(cleaned["name"]) from None
    record(
        actor,
        "agreement_template.update",
        template,
        before={name: before[name] for name in changed},
        after={**{name: cleaned[name] for name in changed}, "changed": changed},
    )
    return template


# --- agreements ------------------------------------------------------------------------------


def _date(value: Any, field: str, errors: dict[str, str]) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value or "").strip())
    except ValueError:
        errors[field] = "must be a date, YYYY-MM-DD"
        return None


@transaction.atomic
def draft(
    actor: User,
    partner: Partner,
    template: AgreementTemplate,
    title: str,
    start_on: Any,
    renewal_notice_days: Any = 60,
) -> Agreement:
    """A new agreement with the partner, version 1 holding the template's defaults."""
    access.require_can_edit(actor, partner)
    errors: dict[str, str] = {}
    title = title.strip()
    if message := validate.text_error(title, 200, required=True):
        errors["title"] = message
    start = _date(start_on, "start_on", errors)
    try:
        notice = int(str(renewal_notice_days).strip())
        if not 0 <= notice <= 365:
            raise ValueError
    except ValueError:
        errors["renewal_notice_days"] = "must be a whole number of days from 0 to 365"
        notice = 60
    if errors or start is None:
        raise ValidationFailed(errors)
    agreement = _create(
        actor,
        Agreement(
            partner=partner,
            template=template,
            title=title,
            agreement_type=template.agreement_type,
            start_on=start,
            end_on=end_of_term(start, template.terms["term_months"]),
            renewal_notice_days=notice,
        ),
        template,
        f"Drafted from template {template.name!r}",
    )
    record(actor, "agreement.draft", agreement, after=snapshot(agreement))
    return agreement


def _create(
    actor: User,
    agreement: Agreement,
    content: AgreementTemplate | AgreementVersion,
    note: str,
) -> Agreement:
    """Save a new agreement under its template's approvers of today, with version 1 holding
    `content`'s terms, responsibilities and KPIs (a template's, or the version it renews)."""
    agreement.required_approvals = agreement.template.required_approvals
    agreement.coverage = agreement.template.coverage
    agreement.created_at, agreement.created_by = timezone.now(), actor
    agreement.save()
    AgreementVersion.objects.create(
        agreement=agreement,
        number=1,
        terms=content.terms,
        responsibilities=content.responsibilities,
        kpis=content.kpis,
        note=note,
        created_at=agreement.created_at,
        created_by=actor,
    )
    return agreement


def _locked(agreement: Agreement) -> Agreement:
    return (
        Agreement.objects.select_for_update(of=("self",))
        .select_related("partner")
        .get(pk=agreement.pk)
    )


def current_version(agreement: Agreement) -> AgreementVersion:
    return agreement.versions.get(number=agreement.current_version)


def live_approvals(agreement: Agreement) -> QuerySet[Approval]:
    """The sign-offs that stand: on the current version, not reset."""
    return Approval.objects.filter(
        agreement=agreement, version__number=agreement.current_version, reset_at__isnull=True
    ).select_related("approver")


def _clean_content(base: AgreementVersion, changes: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(changes) - {"terms", "responsibilities", "kpis"})
    if unknown:
        raise ValidationFailed(
            {name: "is not editable; change terms, responsibilities or kpis" for name in unknown}
        )
    errors: dict[str, str] = {}
    new: dict[str, Any] = {
        "terms": base.terms,
        "responsibilities": base.responsibilities,
        "kpis": base.kpis,
    }
    for field, clean in (
        ("terms", lambda v: terms.clean_terms({**base.terms, **v})),
        ("responsibilities", terms.clean_responsibilities),
        ("kpis", terms.clean_kpis),
    ):
        if field in changes:
            try:
                new[field] = clean(changes[field])
            except ValidationFailed as exc:
                errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    return new


@transaction.atomic
def edit(
    actor: User,
    agreement: Agreement,
    changes: Mapping[str, Any],
    note: str = "",
    based_on: int | None = None,
) -> AgreementVersion:
    """A new version with the changes. Each sign-off of the current version is carried over if
    the fields its role covers are unchanged, and reset (with the reason) if not. Amending a
    signed agreement sends it back to review when a sign-off was reset."""
    access.require_can_edit(actor, agreement.partner)
    agreement = _locked(agreement)
    if agreement.status not in EDITABLE:
        raise Conflict(
            f"This agreement is {agreement.get_status_display().lower()}; it can no longer change."
        )
    if based_on is not None and based_on != agreement.current_version:
        raise Conflict(
            f"You edited version {based_on}, but version {agreement.current_version} was saved "
            "since; reload the agreement and make your change again."
        )
    base = current_version(agreement)
    new = _clean_content(base, changes)
    if message := validate.text_error(note, 500):
        raise ValidationFailed({"note": message})
    changed = terms.changed_fields(terms.content(base), {**new["terms"], **new})
    if not changed:
        raise ValidationFailed(
            {
                "changes": f"nothing differs from version {base.number}; change a term, a "
                "responsibility or a KPI"
            }
        )
    now = timezone.now()
    version = AgreementVersion.objects.create(
        agreement=agreement,
        number=base.number + 1,
        note=note.strip(),
        created_at=now,
        created_by=actor,
        **new,
    )
    affected = terms.roles_affected(agreement.coverage, changed)
    reset, kept = [], []
    for approval in live_approvals(agreement):
        if approval.role in affected:
            labels = ", ".join(terms.FIELD_LABELS[f] for f in affected[approval.role])
            approval.reset_at = now
            approval.reset_reason = f"Version {version.number} changed {labels}."
            approval.save(update_fields=["reset_at", "reset_reason"])
            reset.append(approval.role)
        else:
            Approval.objects.create(
                agreement=agreement,
                version=version,
                role=approval.role,
                approver=approval.approver,
                approved_at=approval.approved_at,
                carried_from=approval,
            )
            kept.append(approval.role)
    was = agreement.status
    agreement.current_version = version.number
    fields = ["current_version"]
    if was == Status.SIGNED and reset:
        agreement.status = Status.IN_REVIEW
        fields.append("status")
    agreement.save(update_fields=fields)
    if agreement.status == Status.SIGNED:
        _set_targets(agreement, version, now)  # an amendment nobody had to sign off
    record(
        actor,
        "agreement.edit",
        agreement,
        before={"version": base.number, "status": was},
        after={
            "version": version.number,
            "status": agreement.status,
            "changed": changed,
            "approvals_reset": reset,
            "approvals_kept": kept,
        },
    )
    return version


@transaction.atomic
def submit(actor: User, agreement: Agreement) -> Agreement:
    """Send a draft for sign-off; the approvers the template names are told."""
    access.require_can_edit(actor, agreement.partner)
    agreement = _locked(agreement)
    if agreement.status != Status.DRAFT:
        raise Conflict(
            f"This agreement is {agreement.get_status_display().lower()}; only drafts are submitted."
        )
    agreement.status = Status.IN_REVIEW
    agreement.save(update_fields=["status"])
    record(actor, "agreement.submit", agreement, after={"status": agreement.status})
    approvers = User.objects.filter(role__in=agreement.required_approvals, is_active=True)
    notify(
        approvers,
        "agreement.review",
        f"{agreement.title} with {agreement.partner.name} needs your sign-off.",
        _url(agreement),
    )
    return agreement


@transaction.atomic
def approve(actor: User, agreement: Agreement, version: int | None = None) -> Approval:
    """Sign off the current version in the approver role the actor holds. Of two approvals in
    one role at once, the first wins and the other is a Conflict (the row lock, and the unique
    constraint behind it). The last required sign-off signs the agreement."""
    role = access.require_can_approve(actor, agreement)
    agreement = _locked(agreement)
    if agreement.status != Status.IN_REVIEW:
        hint = " Submit it for review first." if agreement.status == Status.DRAFT else ""
        raise Conflict(
            f"This agreement is {agreement.get_status_display().lower()}; only agreements in "
            f"review are approved.{hint}"
        )
    if version is not None and version != agreement.current_version:
        raise Conflict(
            f"You reviewed version {version}, but the agreement is at version "
            f"{agreement.current_version} now; read the changes and approve that version."
        )
    standing = live_approvals(agreement).filter(role=role).first()
    if standing is not None:
        raise Conflict(
            f"Version {agreement.current_version} was approved as {terms.role_label(role)} "
            f"already, by {standing.approver.display_name} at {standing.approved_at:%Y-%m-%d %H:%M}."
        )
    now = timezone.now()
    try:
        with transaction.atomic():
            approval = Approval.objects.create(
                agreement=agreement,
                version=current_version(agreement),
                role=role,
                approver=actor,
                approved_at=now,
            )
    except IntegrityError:
        raise Conflict(
            f"Version {agreement.current_version} was just approved as {terms.role_label(role)} "
            "by someone else."
        ) from None
    record(
        actor,
        "agreement.approve",
        agreement,
        after={"version": agreement.current_version, "role": role},
    )
    if set(agreement.required_approvals) <= set(
        live_approvals(agreement).values_list("role", flat=True)
    ):
        _sign(actor, agreement, now)
    return approval


def _sign(actor: User, agreement: Agreement, now: dt.datetime) -> None:
    agreement.status = Status.SIGNED
    agreement.signed_at = now
    agreement.save(update_fields=["status", "signed_at"])
    targets = _set_targets(agreement, current_version(agreement), now)
    record(
        actor,
        "agreement.sign",
        agreement,
        after={"version": agreement.current_version, "targets": targets},
    )
    notify(
        deciders_for(agreement.partner),
        "agreement.signed",
        f"{agreement.title} with {agreement.partner.name} is signed: {targets} target(s) set.",
        _url(agreement),
    )


def _set_targets(agreement: Agreement, version: AgreementVersion, now: dt.datetime) -> int:
    """The signed version's KPIs become the partner's targets (replacing an earlier version's)."""
    Target.objects.filter(agreement=agreement).delete()
    Target.objects.bulk_create(
        [
            Target(
                partner_id=agreement.partner_id,
                agreement=agreement,
                version=version,
                name=kpi["name"],
                metric_key=kpi.get("metric_key", ""),
                target=Decimal(kpi["target"]),
                unit=kpi.get("unit", ""),
                cadence=kpi["cadence"],
                period_start=agreement.start_on,
                period_end=agreement.end_on,
                created_at=now,
            )
            for kpi in version.kpis
        ]
    )
    return len(version.kpis)


@transaction.atomic
def terminate(actor: User, agreement: Agreement, reason: str) -> Agreement:
    access.require_can_edit(actor, agreement.partner)
    if message := validate.text_error(reason, 500, required=True):
        raise ValidationFailed(
            {"reason": "is required: say why the agreement ends" if not reason.strip() else message}
        )
    agreement = _locked(agreement)
    if agreement.status in (Status.TERMINATED, Status.EXPIRED):
        raise Conflict(f"This agreement is {agreement.get_status_display().lower()} already.")
    was = agreement.status
    agreement.status = Status.TERMINATED
    agreement.terminated_at = timezone.now()
    agreement.termination_reason = reason.strip()
    agreement.save(update_fields=["status", "terminated_at", "termination_reason"])
    record(
        actor,
        "agreement.terminate",
        agreement,
        before={"status": was},
        after={"status": agreement.status, "reason": agreement.termination_reason},
    )
    return agreement


RENEWABLE = (Status.SIGNED, Status.EXPIRED)


@transaction.atomic
def renew(actor: User, agreement: Agreement, title: str = "") -> Agreement:
    """A draft renewing the agreement: its current terms, responsibilities and KPIs, starting
    the day after it ends for another term, under the template's approvers of today. It goes
    through review and sign-off like any draft; the one it renews runs on until its end."""
    access.require_can_edit(actor, agreement.partner)
    agreement = _locked(agreement)
    if agreement.status not in RENEWABLE:
        raise ValidationFailed(
            {
                "status": f"is {agreement.get_status_display().lower()}; only a signed or "
                "expired agreement can be renewed (amend a draft or one in review instead)"
            }
        )
    version = current_version(agreement)
    if version.terms.get("renewal") == "none":
        raise ValidationFailed(
            {"terms.renewal": "says this agreement does not renew; draft a new agreement instead"}
        )
    if live := agreement.renewals.exclude(status=Status.TERMINATED).first():
        raise Conflict(f"Already renewed by agreement #{live.pk} ({live.title}); open that one.")
    title = title.strip() or agreement.title
    if message := validate.text_error(title, 200, required=True):
        raise ValidationFailed({"title": message})
    start = agreement.end_on + dt.timedelta(days=1)
    renewal = _create(
        actor,
        Agreement(
            partner=agreement.partner,
            template=agreement.template,
            title=title,
            agreement_type=agreement.agreement_type,
            start_on=start,
            end_on=end_of_term(start, int(version.terms.get("term_months") or 12)),
            renewal_notice_days=agreement.renewal_notice_days,
            renews=agreement,
        ),
        version,
        f"Renewal of agreement #{agreement.pk} (version {version.number})",
    )
    record(actor, "agreement.renew", renewal, after={**snapshot(renewal), "renews": agreement.pk})
    return renewal


# --- the sweep -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepResult:
    reminded: int
    expired: int
    renewed: int = 0


def expiring(today: dt.date) -> QuerySet[Agreement]:
    """Signed agreements inside their renewal notice window that were not reminded yet for
    their current end date."""
    rows = Agreement.objects.filter(status=Status.SIGNED, end_on__gte=today).select_related(
        "partner"
    )
    return rows.exclude(reminded_for=F("end_on"))


def reminders(now: dt.datetime | None = None) -> SweepResult:
    """Expire signed agreements past their end date; remind the partner's owner and the CPOs
    once per end date when one enters its renewal notice window. Safe to run repeatedly."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    reminded = expired = 0
    for agreement in expiring(today):
        if agreement.end_on - dt.timedelta(days=agreement.renewal_notice_days) <= today:
            reminded += _remind(agreement, today)
    renewed = 0
    for agreement in Agreement.objects.filter(status=Status.SIGNED, end_on__lt=today):
        if _renews_itself(agreement):
            renewed += _auto_renew(agreement, today)
        else:
            expired += _expire(agreement)
    return SweepResult(reminded, expired, renewed)


def _renews_itself(agreement: Agreement) -> bool:
    """Terms say "auto" and nobody drafted a renewal to renegotiate it."""
    return current_version(agreement).terms.get("renewal") == "auto" and not (
        agreement.renewals.exclude(status=Status.TERMINATED).exists()
    )


@transaction.atomic
def _auto_renew(agreement: Agreement, today: dt.date) -> int:
    """Roll an auto-renewing agreement over for further terms until it runs past today; its
    targets run on with it (same KPIs, new review periods)."""
    agreement = _locked(agreement)
    if agreement.status != Status.SIGNED or agreement.end_on >= today:
        return 0
    before = agreement.end_on
    months = int(current_version(agreement).terms.get("term_months") or 12)
    while agreement.end_on < today:
        agreement.end_on = end_of_term(agreement.end_on + dt.timedelta(days=1), months)
    agreement.save(update_fields=["end_on"])
    agreement.targets.update(period_end=agreement.end_on)
    notify(
        deciders_for(agreement.partner),
        "agreement.renewed",
        f"{agreement.title} with {agreement.partner.name} renewed itself until "
        f"{agreement.end_on} (its terms say auto-renewal).",
        _url(agreement),
    )
    record(
        None,
        "agreement.auto_renew",
        agreement,
        before={"end_on": before},
        after={"end_on": agreement.end_on},
    )
    return 1


@transaction.atomic
def _remind(agreement: Agreement, today: dt.date) -> int:
    agreement = _locked(agreement)
    if agreement.status != Status.SIGNED or agreement.reminded_for == agreement.end_on:
        return 0  # someone else's sweep got here first
    agreement.reminded_for = agreement.end_on
    agreement.save(update_fields=["reminded_for"])
    days = (agreement.end_on - today).days
    notify(
        deciders_for(agreement.partner),
        "agreement.expiring",
        f"{agreement.title} with {agreement.partner.name} ends on {agreement.end_on} "
        f"(in {days} day{'s' if days != 1 else ''}); decide on its renewal.",
        _url(agreement),
    )
    record(None, "agreement.remind", agreement, after={"end_on": agreement.end_on})
    return 1


@transaction.atomic
def _expire(agreement: Agreement) -> int:
    agreement = _locked(agreement)
    if agreement.status != Status.SIGNED:
        return 0
    agreement.status = Status.EXPIRED
    agreement.save(update_fields=["status"])
    record(None, "agreement.expire", agreement, after={"end_on": agreement.end_on})
    return 1
