"""Announcements: vendor staff publish, partners read the ones addressed to them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from mutualist.accounts.models import User
from mutualist.accounts.roles import PARTNER_EDITORS
from mutualist.audit.log import record, snapshot
from mutualist.cosell.models import Announcement
from mutualist.cosell.notify import notify
from mutualist.lib import validate
from mutualist.lib.errors import NotAllowed, ValidationFailed
from mutualist.partners.choices import PartnerType, Tier
from mutualist.partners.models import Partner


def visible_to(user: Any) -> QuerySet[Announcement]:
    if not (user and user.is_authenticated and user.is_active):
        return Announcement.objects.none()
    if not user.is_partner_user:
        return Announcement.objects.all()
    partner: Partner = user.partner
    types = [t for t in partner.types.split(",") if t]
    return Announcement.objects.filter(
        Q(tier="") | Q(tier=partner.tier), Q(partner_type="") | Q(partner_type__in=types)
    )


@transaction.atomic
def publish(actor: User, data: Mapping[str, Any]) -> Announcement:
    if actor.role not in PARTNER_EDITORS:
        raise NotAllowed("Only the CPO and alliance managers publish announcements.")
    title, body = str(data.get("title") or "").strip(), str(data.get("body") or "").strip()
    tier, partner_type = str(data.get("tier") or ""), str(data.get("partner_type") or "")
    errors = {}
    if message := validate.text_error(title, 200, required=True):
        errors["title"] = message
    if message := validate.text_error(body, 10_000, required=True):
        errors["body"] = message
    if tier and tier not in Tier.values:
        errors["tier"] = (
            f"unknown tier; use one of: {', '.join(Tier.values)}, or leave it empty for all"
        )
    if partner_type and partner_type not in PartnerType.values:
        errors["partner_type"] = (
            f"unknown partner type; use one of: {', '.join(PartnerType.values)}"
        )
    if errors:
        raise ValidationFailed(errors)
    announcement = Announcement.objects.create(
        title=title,
        body=body,
        tier=tier,
        partner_type=partner_type,
        published_at=timezone.now(),
        created_by=actor,
    )
    record(
        actor,
        "announcement.publish",
        announcement,
        after=snapshot(announcement, ["title", "tier", "partner_type"]),
    )
    readers = User.objects.filter(
        role__in=["partner_admin", "partner_user"], is_active=True
    ).select_related("partner")
    notify(
        [u for u in readers if visible_to(u).filter(pk=announcement.pk).exists()],
        "announcement",
        f"News: {title}",
        "/cosell/announcements/",
    )
    return announcement
