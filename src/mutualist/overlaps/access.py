"""Who sees and changes which account mapping. Every mapping view and endpoint goes through here.

A partner's people reach only their own partnership (anything else is a 404); they act for the
partner side. Vendor staff see every partnership and act for the vendor side; only the CPO and
the partner's alliance manager change the vendor's side. Partner administrators change the
partner's side; partner users only look.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404

from mutualist.accounts.roles import Role
from mutualist.lib.errors import NotAllowed
from mutualist.overlaps.choices import Side
from mutualist.overlaps.models import AccountList
from mutualist.partners.access import can_edit_partner, get_partner_for
from mutualist.partners.models import Partner


def side_of(user: Any) -> Side:
    return Side.PARTNER if user.is_partner_user else Side.VENDOR


def get_partner_for_mapping(user: Any, partner_id: int) -> Partner:
    """The partner whose mapping `user` may look at; a 404 for anyone else's."""
    return get_partner_for(user, partner_id)


def get_partner_for_review(user: Any, partner_id: int) -> Partner:
    """The review queue of medium-confidence links is the vendor's: its staff see it, a
    partner's people get a 404."""
    partner = get_partner_for_mapping(user, partner_id)
    if side_of(user) != Side.VENDOR:
        raise Http404("No such page.")
    return partner


def can_manage(user: Any, partner: Partner, side: Side) -> bool:
    """May `user` change `side`'s opt-in, populations and sharing rules with `partner`?"""
    if not (user and user.is_authenticated and user.is_active):
        return False
    if side == Side.PARTNER:
        return user.role == Role.PARTNER_ADMIN and user.partner_id == partner.pk
    return not user.is_partner_user and can_edit_partner(user, partner)


def require_can_manage(user: Any, partner: Partner, side: Side) -> None:
    get_partner_for_mapping(user, partner.pk)
    if side_of(user) != side:
        raise NotAllowed(f"Only the {side.label.lower()} side changes its own sharing.")
    if not can_manage(user, partner, side):
        who = "partner administrators" if side == Side.PARTNER else "the CPO and its owner"
        raise NotAllowed(f"Your role ({user.get_role_display()}) cannot change this; ask {who}.")


def can_upload(user: Any, partner: Partner) -> bool:
    """A partner's admin uploads its own list; the vendor's editors may upload it on its behalf
    (for a partner that sent the file by other means)."""
    return can_manage(user, partner, Side.PARTNER) or can_manage(user, partner, Side.VENDOR)


def require_can_upload(user: Any, partner: Partner) -> None:
    get_partner_for_mapping(user, partner.pk)
    if not can_upload(user, partner):
        raise NotAllowed(f"Your role ({user.get_role_display()}) cannot upload account lists.")


def get_list_for(user: Any, list_id: int) -> AccountList:
    """An upload, only for the partner's own people and vendor staff; a 404 otherwise."""
    lists = AccountList.objects.select_related("partner")
    if not (user and user.is_authenticated and user.is_active):
        raise Http404("No such upload.")
    if user.is_partner_user:
        lists = lists.filter(partner_id=user.partner_id)
    try:
        return lists.get(pk=list_id)
    except AccountList.DoesNotExist:
        raise Http404("No such upload.") from None
