"""Who sees and does what with agreements. Every agreement view and endpoint goes through here.

Vendor staff see every agreement and template. A partner's own people see their partner's
agreements once signed (and after: expired, terminated) and its targets; drafts, reviews and
templates are the vendor's (404). The CPO and the partner's alliance manager draft and edit;
approvers sign off, each only in the approver role they hold.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from mutualist.accounts.roles import Role
from mutualist.agreements.models import Agreement, AgreementTemplate, Target
from mutualist.agreements.terms import role_label
from mutualist.lib.errors import NotAllowed
from mutualist.partners.access import can_edit_partner, get_partner_for
from mutualist.partners.models import Partner

# What a partner sees of its own agreements.
SHARED_STATUSES = (
    Agreement.Status.SIGNED,
    Agreement.Status.EXPIRED,
    Agreement.Status.TERMINATED,
)


def _active(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def is_staff(user: Any) -> bool:
    return _active(user) and not user.is_partner_user


def agreements_visible_to(user: Any) -> QuerySet[Agreement]:
    if not _active(user):
        return Agreement.objects.none()
    if user.is_partner_user:
        return Agreement.objects.filter(partner_id=user.partner_id, status__in=SHARED_STATUSES)
    return Agreement.objects.all()


def get_agreement_for(user: Any, agreement_id: int) -> Agreement:
    try:
        return (
            agreements_visible_to(user)
            .select_related("partner", "template", "created_by")
            .get(pk=agreement_id)
        )
    except Agreement.DoesNotExist:
        raise Http404("No such agreement.") from None


def can_edit(user: Any, partner: Partner) -> bool:
    return is_staff(user) and can_edit_partner(user, partner)


def require_can_edit(user: Any, partner: Partner) -> None:
    if not can_edit(user, partner):
        role = user.get_role_display() if _active(user) else "anonymous"
        raise NotAllowed(
            f"Your role ({role}) cannot draft or change {partner.name}'s agreements; "
            "the CPO and the partner's alliance manager do."
        )


def approver_role_of(user: Any, agreement: Agreement) -> str | None:
    """The approver role in which this user may sign off this agreement, if any."""
    if is_staff(user) and user.role in agreement.required_approvals:
        return str(user.role)
    return None


def require_can_approve(user: Any, agreement: Agreement) -> str:
    if not _active(user) or user.is_partner_user:
        raise Http404("No such agreement.")
    role = approver_role_of(user, agreement)
    if role is None:
        needed = ", ".join(role_label(r) for r in agreement.required_approvals)
        own = " You drafted it, but" if agreement.created_by_id == user.pk else ""
        raise NotAllowed(
            f"This agreement needs the sign-off of: {needed}.{own} Your role "
            f"({user.get_role_display()}) is not one of them, so you cannot approve it; "
            "ask a user who holds the approver role."
        )
    return role


def can_manage_templates(user: Any) -> bool:
    """Templates set the defaults of every later agreement: only the CPO creates or edits them."""
    return is_staff(user) and user.role == Role.CPO


def require_can_manage_templates(user: Any) -> None:
    if not is_staff(user):
        raise Http404("No such page.")
    if not can_manage_templates(user):
        raise NotAllowed(
            f"Your role ({user.get_role_display()}) cannot change agreement templates; "
            "only the Chief Partner Officer does."
        )


def templates_visible_to(user: Any) -> QuerySet[AgreementTemplate]:
    return AgreementTemplate.objects.all() if is_staff(user) else AgreementTemplate.objects.none()


def get_template_for(user: Any, template_id: int) -> AgreementTemplate:
    try:
        return templates_visible_to(user).get(pk=template_id)
    except AgreementTemplate.DoesNotExist:
        raise Http404("No such agreement template.") from None


def targets_for(user: Any, partner_id: int) -> tuple[Partner, QuerySet[Target]]:
    """A partner's targets from its signed agreements: for staff and the partner's own people."""
    partner = get_partner_for(user, partner_id)
    # In force: signed, or signed and now amended under review (the signed terms still hold).
    targets = Target.objects.filter(
        partner=partner,
        agreement__signed_at__isnull=False,
        agreement__status__in=(Agreement.Status.SIGNED, Agreement.Status.IN_REVIEW),
    ).select_related("agreement")
    return partner, targets


def get_target_for(user: Any, target_id: int) -> Target:
    """One target in force, for staff and the partner's own people; 404 for anyone else."""
    target = Target.objects.filter(pk=target_id).only("partner_id").first()
    if target is None:
        raise Http404("No such target.")
    _, targets = targets_for(user, target.partner_id)
    try:
        return targets.select_related("partner").get(pk=target_id)
    except Target.DoesNotExist:
        raise Http404("No such target.") from None
