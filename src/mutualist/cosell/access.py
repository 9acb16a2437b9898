"""Who sees and does what in co-selling. Every co-selling view and endpoint goes through here.

Partner people see their own partner's registrations, lead offers and referrals (made or
received), and nothing else: another partner's is a 404. Vendor staff see all of them; the CPO
and the partner's alliance manager decide.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from mutualist.accounts.roles import PARTNER_EDITORS, Role
from mutualist.cosell.models import DealRegistration, LeadOffer, Referral
from mutualist.lib.errors import NotAllowed
from mutualist.partners.access import can_edit_partner
from mutualist.partners.models import Partner


def _active(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def registrations_visible_to(user: Any) -> QuerySet[DealRegistration]:
    if not _active(user):
        return DealRegistration.objects.none()
    if user.is_partner_user:
        return DealRegistration.objects.filter(partner_id=user.partner_id)
    return DealRegistration.objects.all()


def get_registration_for(user: Any, registration_id: int) -> DealRegistration:
    try:
        return (
            registrations_visible_to(user)
            .select_related("partner", "rules")
            .get(pk=registration_id)
        )
    except DealRegistration.DoesNotExist:
        raise Http404("No such registration.") from None


def require_partner_user(user: Any) -> Partner:
    """Registering, appealing and asking for extensions are the partner's own acts."""
    if not _active(user) or not user.is_partner_user or user.partner is None:
        raise NotAllowed("Only a partner's own people register deals; staff decide on them.")
    return user.partner


def require_owner_of(user: Any, registration: DealRegistration) -> None:
    if not (_active(user) and user.is_partner_user and user.partner_id == registration.partner_id):
        raise Http404("No such registration.")


def can_decide(user: Any, partner: Partner) -> bool:
    return _active(user) and not user.is_partner_user and can_edit_partner(user, partner)


def require_can_decide(user: Any, partner: Partner) -> None:
    if not can_decide(user, partner):
        if _active(user) and user.is_partner_user:
            raise Http404("No such registration.")
        raise NotAllowed("Only the CPO and the partner's alliance manager decide on registrations.")


def can_manage_rules(user: Any) -> bool:
    return _active(user) and user.role == Role.CPO


def offers_visible_to(user: Any) -> QuerySet[LeadOffer]:
    if not _active(user):
        return LeadOffer.objects.none()
    if user.is_partner_user:
        return LeadOffer.objects.filter(partner_id=user.partner_id)
    return LeadOffer.objects.all()


def referrals_visible_to(user: Any) -> QuerySet[Referral]:
    if not _active(user):
        return Referral.objects.none()
    if user.is_partner_user:
        return Referral.objects.filter(
            Q(from_partner_id=user.partner_id) | Q(to_partner_id=user.partner_id)
        )
    return Referral.objects.all()


def reasons_for(user: Any, registration: DealRegistration) -> list[dict[str, Any]]:
    """The check's findings as this user may read them: a partner is told what blocks it, but
    never another partner's name or the vendor's records; staff get the whole story."""
    if user.is_partner_user:
        return [{"code": r["code"], "message": r["partner_message"]} for r in registration.reasons]
    return [
        {
            "code": r["code"],
            "message": r["staff_message"],
            "kind": r["kind"],
            "object_id": r["object_id"],
        }
        for r in registration.reasons
    ]


# --- lead routing ---------------------------------------------------------------------------


def can_route(user: Any) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.role in PARTNER_EDITORS)


def require_can_route(user: Any) -> None:
    """Routing is the vendor's act: partner people do not see it at all (404), other staff may
    look but not offer (403)."""
    if not (user and user.is_authenticated and user.is_active) or user.is_partner_user:
        raise Http404("No such lead.")
    if not can_route(user):
        raise NotAllowed(
            f"Your role ({user.get_role_display()}) cannot offer leads; "
            "the CPO and alliance managers route them."
        )


def require_staff(user: Any) -> None:
    """Pages and figures about every partner's offers: vendor staff only, a 404 to partners."""
    if not (user and user.is_authenticated and user.is_active) or user.is_partner_user:
        raise Http404("No such page.")


def get_offer_for(user: Any, offer_id: int) -> LeadOffer:
    try:
        return offers_visible_to(user).select_related("lead", "partner").get(pk=offer_id)
    except LeadOffer.DoesNotExist:
        raise Http404("No such lead offer.") from None


def can_answer(user: Any, offer: LeadOffer) -> bool:
    return bool(user.is_partner_user and user.partner_id == offer.partner_id)


def require_can_answer(user: Any, offer: LeadOffer) -> None:
    get_offer_for(user, offer.pk)  # another partner's offer: 404
    if not can_answer(user, offer):
        raise NotAllowed(f"Only {offer.partner.name}'s people answer this offer.")
