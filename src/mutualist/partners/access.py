"""Who may see and change which partners. Every user-facing read of partners goes through here.

Vendor staff see every partner; a partner's own people see only their partner. What a user may
not see is a 404, never a 403, so the answer does not reveal that the record exists.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from mutualist.accounts.roles import PARTNER_EDITORS, Role
from mutualist.lib.errors import NotAllowed
from mutualist.partners.models import Partner


def _is_authenticated(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def partners_visible_to(user: Any) -> QuerySet[Partner]:
    if not _is_authenticated(user):
        return Partner.objects.none()
    if user.is_partner_user:
        return Partner.objects.filter(pk=user.partner_id)
    return Partner.objects.all()


def can_create_partner(user: Any) -> bool:
    return _is_authenticated(user) and user.role in PARTNER_EDITORS


def can_edit_partner(user: Any, partner: Partner) -> bool:
    """The CPO edits any partner; an alliance manager the ones they own or nobody owns yet."""
    if not _is_authenticated(user):
        return False
    if user.role == Role.CPO:
        return True
    if user.role == Role.ALLIANCE_MANAGER:
        return partner.owner_id in (None, user.pk)
    return False


def can_delete_partner(user: Any) -> bool:
    return _is_authenticated(user) and user.role == Role.CPO


def get_partner_for(user: Any, partner_id: int, write: bool = False) -> Partner:
    try:
        partner = partners_visible_to(user).get(pk=partner_id)
    except Partner.DoesNotExist:
        raise Http404("No such partner.") from None
    if write and not can_edit_partner(user, partner):
        raise NotAllowed(f"Your role ({user.get_role_display()}) cannot change {partner.name}.")
    return partner


def require_can_create_partner(user: Any) -> None:
    if not can_create_partner(user):
        role = user.get_role_display() if _is_authenticated(user) else "anonymous"
        raise NotAllowed(f"Your role ({role}) cannot create partners.")
