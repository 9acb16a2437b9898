"""Every write to the partner registry. Each action validates, writes in one transaction and
records one audit entry; UI views, API endpoints, CLI commands and importers all call these."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from mutualist.accounts.models import User
from mutualist.accounts.roles import Role
from mutualist.audit.log import changes, record, snapshot
from mutualist.lib import validate
from mutualist.lib.errors import Conflict, NotAllowed, ValidationFailed
from mutualist.partners import access
from mutualist.partners.choices import TRANSITIONS, PartnerType, Region, Status, Tier
from mutualist.partners.models import (
    Partner,
    Segment,
    StatusChange,
    TierChange,
    join_types,
)

EDITABLE_FIELDS = (
    "name",
    "legal_name",
    "domain",
    "other_domains",
    "country",
    "region",
    "types",
    "segments",
    "owner",
)
AUDITED_FIELDS = [
    "name",
    "legal_name",
    "domain",
    "other_domains",
    "country",
    "region",
    "types",
    "status",
    "tier",
    "owner_id",
]


def _clean_partner_fields(data: Mapping[str, Any], partial: bool) -> dict[str, Any]:
    """Validate the editable fields present in `data`; raise ValidationFailed naming each bad one."""
    unknown = sorted(set(data) - set(EDITABLE_FIELDS))
    errors: dict[str, str] = {name: "is not a field you can set here" for name in unknown}
    cleaned: dict[str, Any] = {}

    def take(name: str, check: Any) -> None:
        if name not in data:
            return
        message = check(data[name])
        if message:
            errors[name] = message

    if not partial and "name" not in data:
        errors["name"] = "is required"
    if "name" in data:
        cleaned["name"] = str(data["name"] or "").strip()
        take("name", lambda v: validate.text_error(str(v or ""), 200, required=True))
    if "legal_name" in data:
        cleaned["legal_name"] = str(data["legal_name"] or "").strip()
        take("legal_name", lambda v: validate.text_error(str(v or ""), 300))
    if "domain" in data:
        cleaned["domain"] = validate.normalise_domain(str(data["domain"] or ""))
        if message := validate.domain_error(cleaned["domain"]):
            errors["domain"] = message
    if "other_domains" in data:
        domains = [validate.normalise_domain(str(d)) for d in (data["other_domains"] or [])]
        bad = [d for d in domains if validate.domain_error(d) or not d]
        if bad:
            errors["other_domains"] = f"{bad[0]!r} is not a web domain; give ones like example.com"
        cleaned["other_domains"] = sorted(set(domains))
    if "country" in data:
        cleaned["country"] = str(data["country"] or "").strip().upper()
        if message := validate.country_error(cleaned["country"]):
            errors["country"] = message
    if "region" in data:
        cleaned["region"] = str(data["region"] or "").strip()
        if cleaned["region"] and (
            message := validate.choice_error(cleaned["region"], Region.values, "region")
        ):
            errors["region"] = message
    if "types" in data:
        types = [str(t).strip() for t in (data["types"] or [])]
        bad_types = [t for t in types if t not in PartnerType.values]
        if bad_types:
            errors["types"] = (
                validate.choice_error(bad_types[0], PartnerType.values, "partner type") or ""
            )
        elif not types:
            errors["types"] = "give at least one partner type"
        cleaned["types"] = join_types(types)
    elif not partial:
        errors["types"] = "give at least one partner type"
    if "segments" in data:
        codes = [str(c).strip() for c in (data["segments"] or [])]
        segments = list(Segment.objects.filter(code__in=codes))
        missing = sorted(set(codes) - {s.code for s in segments})
        if missing:
            errors["segments"] = (
                f"unknown segment code(s): {', '.join(missing)}; see GET /api/v1/segments"
            )
        cleaned["segments"] = segments
    if "owner" in data:
        cleaned["owner"] = _clean_owner(data["owner"], errors)
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def _clean_owner(value: Any, errors: dict[str, str]) -> User | None:
    if value in (None, ""):
        return None
    owner = User.objects.filter(pk=value, is_active=True).first() if str(value).isdigit() else None
    if owner is None or owner.role not in (Role.CPO, Role.ALLIANCE_MANAGER):
        errors["owner"] = f"{value!r} is not the id of an active alliance manager or CPO"
        return None
    return owner


def _partner_state(partner: Partner) -> dict[str, Any]:
    state = snapshot(partner, AUDITED_FIELDS)
    state["segments"] = sorted(partner.segments.values_list("code", flat=True))
    return state


@transaction.atomic
def create_partner(actor: User, data: Mapping[str, Any], *, at: Any = None) -> Partner:
    access.require_can_create_partner(actor)
    cleaned = _clean_partner_fields(data, partial=False)
    segments = cleaned.pop("segments", [])
    now = at or timezone.now()
    partner = Partner.objects.create(
        **cleaned, status=Status.PROSPECT, status_since=now, created_at=now
    )
    partner.segments.set(segments)
    StatusChange.objects.create(
        partner=partner,
        from_status="",
        to_status=Status.PROSPECT,
        changed_at=now,
        reason="Created",
        actor=actor,
    )
    record(actor, "partner.create", partner, after=_partner_state(partner))
    return partner


@transaction.atomic
def update_partner(actor: User, partner: Partner, data: Mapping[str, Any]) -> Partner:
    if not access.can_edit_partner(actor, partner):
        raise NotAllowed(f"Your role ({actor.get_role_display()}) cannot change {partner.name}.")
    cleaned = _clean_partner_fields(data, partial=True)
    before = _partner_state(partner)
    segments = cleaned.pop("segments", None)
    for name, value in cleaned.items():
        setattr(partner, name, value)
    partner.save()
    if segments is not None:
        partner.segments.set(segments)
    after = _partner_state(partner)
    if diff := changes(before, after):
        record(
            actor,
            "partner.update",
            partner,
            before={k: v[0] for k, v in diff.items()},
            after={k: v[1] for k, v in diff.items()},
        )
    return partner


@transaction.atomic
def change_status(
    actor: User, partner: Partner, to_status: str, reason: str, *, at: Any = None
) -> Partner:
    if not access.can_edit_partner(actor, partner):
        raise NotAllowed(f"Your role ({actor.get_role_display()}) cannot change {partner.name}.")
    if to_status not in Status.values:
        raise ValidationFailed(
            {"status": validate.choice_error(to_status, Status.values, "status") or ""}
        )
    allowed = TRANSITIONS[partner.status]
    if to_status not in allowed:
        raise ValidationFailed(
            {
                "status": f"a partner cannot go from {partner.status} to {to_status}; "
                f"from {partner.status} it can go to: {', '.join(sorted(allowed))}"
            }
        )
    if not reason.strip():
        raise ValidationFailed({"reason": "say why the status changes (it is kept in the history)"})
    now = at or timezone.now()
    before = partner.status
    StatusChange.objects.create(
        partner=partner,
        from_status=before,
        to_status=to_status,
        changed_at=now,
        reason=reason.strip()[:500],
        actor=actor,
    )
    partner.status, partner.status_since = to_status, now
    partner.save(update_fields=["status", "status_since", "updated_at"])
    # Entering onboarding starts the partner's journey; exiting cancels it.
    from mutualist.onboarding.actions import on_status_change

    on_status_change(partner, to_status, actor)
    record(
        actor,
        "partner.status",
        partner,
        before={"status": before},
        after={"status": to_status, "reason": reason.strip()},
    )
    return partner


@transaction.atomic
def change_tier(
    actor: User,
    partner: Partner,
    tier: str,
    reason: str,
    *,
    effective_from: Any = None,
    approved_proposal: bool = False,
) -> Partner:
    """Set the tier from a date. The CPO may; so may the partner's own alliance manager when
    applying a tier proposal they approved under the tier programme's rules."""
    owner_applying = (
        approved_proposal and actor.role == Role.ALLIANCE_MANAGER and partner.owner_id == actor.pk
    )
    if actor.role != Role.CPO and not owner_applying:
        raise NotAllowed(
            "Only the CPO changes partner tiers (or the owner, through a tier proposal)."
        )
    if tier not in Tier.values:
        raise ValidationFailed({"tier": validate.choice_error(tier, Tier.values, "tier") or ""})
    when = effective_from or timezone.now()
    before = partner.tier
    TierChange.objects.create(partner=partner, tier=tier, effective_from=when, reason=reason[:500])
    partner.tier = tier
    partner.save(update_fields=["tier", "updated_at"])
    record(actor, "partner.tier", partner, before={"tier": before}, after={"tier": tier})
    return partner


@transaction.atomic
def delete_partner(actor: User, partner: Partner) -> None:
    if not access.can_delete_partner(actor):
        raise NotAllowed("Only the CPO deletes partners; others can set the status to exited.")
    if partner.involvements.exists():
        raise Conflict(
            f"{partner.name} is involved in {partner.involvements.count()} opportunities; its "
            "history feeds the metrics. Set its status to exited instead of deleting it."
        )
    before = _partner_state(partner)
    record(actor, "partner.delete", partner, before=before)
    partner.delete()
