"""Who sees and does what in onboarding. Every onboarding view and endpoint reads through here.

A partner's people see their own partner's journeys and nothing else: another partner's journey
or task is a 404. Vendor staff see every journey. The CPO and the partner's alliance manager run
a journey (start, assign, skip, cancel, complete the vendor's tasks); the partner's people
complete the partner's tasks. Templates are the CPO's.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from mutualist.accounts.roles import PARTNER_EDITORS, Role
from mutualist.lib.errors import NotAllowed
from mutualist.onboarding.choices import JourneyStatus, Side
from mutualist.onboarding.models import Journey, JourneyTemplate, Task
from mutualist.partners.access import can_edit_partner, partners_visible_to
from mutualist.partners.choices import Status
from mutualist.partners.models import Partner


def _active(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def journeys_visible_to(user: Any) -> QuerySet[Journey]:
    if not _active(user):
        return Journey.objects.none()
    if user.is_partner_user:
        return Journey.objects.filter(partner_id=user.partner_id)
    return Journey.objects.all()


def get_journey_for(user: Any, journey_id: int) -> Journey:
    try:
        return (
            journeys_visible_to(user)
            .select_related("partner", "template", "started_by")
            .get(pk=journey_id)
        )
    except Journey.DoesNotExist:
        raise Http404("No such onboarding journey.") from None


def tasks_visible_to(user: Any) -> QuerySet[Task]:
    return Task.objects.filter(journey__in=journeys_visible_to(user))


def get_task_for(user: Any, task_id: int) -> Task:
    try:
        return (
            tasks_visible_to(user)
            .select_related("journey", "journey__partner", "phase", "assignee")
            .get(pk=task_id)
        )
    except Task.DoesNotExist:
        raise Http404("No such onboarding task.") from None


def require_staff(user: Any) -> None:
    """Pages about every partner's onboarding: vendor staff only, a 404 to partners."""
    if not _active(user) or user.is_partner_user:
        raise Http404("No such page.")


def can_manage(user: Any, partner: Partner) -> bool:
    """Start, assign, skip, reopen, cancel: the CPO and the partner's alliance manager."""
    return _active(user) and not user.is_partner_user and can_edit_partner(user, partner)


def require_can_manage(user: Any, partner: Partner) -> None:
    if not can_manage(user, partner):
        if _active(user) and user.is_partner_user and user.partner_id != partner.pk:
            raise Http404("No such onboarding journey.")
        role = user.get_role_display() if _active(user) else "anonymous"
        raise NotAllowed(
            f"Your role ({role}) cannot run {partner.name}'s onboarding; "
            "the CPO and its alliance manager do."
        )


def can_complete(user: Any, task: Task) -> bool:
    partner = task.journey.partner
    if task.owner_side == Side.VENDOR:
        return can_manage(user, partner)
    return bool(_active(user) and user.is_partner_user and user.partner_id == partner.pk)


def require_can_complete(user: Any, task: Task) -> None:
    get_task_for(user, task.pk)  # another partner's task: 404
    if can_complete(user, task):
        return
    partner = task.journey.partner
    if task.owner_side == Side.PARTNER:
        raise NotAllowed(f"This is {partner.name}'s task: its people complete it in the portal.")
    if user.is_partner_user:
        raise NotAllowed(f"This is the vendor's task; {partner.name}'s alliance manager does it.")
    raise NotAllowed(
        f"Your role ({user.get_role_display()}) cannot complete {partner.name}'s onboarding "
        "tasks; the CPO and its alliance manager do."
    )


def can_assign(user: Any, task: Task) -> bool:
    """Staff who run the journey assign any task; a partner's admin assigns the partner's."""
    partner = task.journey.partner
    if can_manage(user, partner):
        return True
    return bool(
        _active(user)
        and user.role == Role.PARTNER_ADMIN
        and user.partner_id == partner.pk
        and task.owner_side == Side.PARTNER
    )


def templates_visible_to(user: Any) -> QuerySet[JourneyTemplate]:
    if not _active(user) or user.is_partner_user:
        return JourneyTemplate.objects.none()
    return JourneyTemplate.objects.all()


def get_template_for(user: Any, template_id: int) -> JourneyTemplate:
    try:
        return templates_visible_to(user).get(pk=template_id)
    except JourneyTemplate.DoesNotExist:
        raise Http404("No such journey template.") from None


def can_manage_templates(user: Any) -> bool:
    return _active(user) and user.role == Role.CPO


def require_can_manage_templates(user: Any) -> None:
    if not can_manage_templates(user):
        role = user.get_role_display() if _active(user) else "anonymous"
        raise NotAllowed(f"Your role ({role}) cannot change journey templates; the CPO does.")


def partners_waiting_for(user: Any) -> QuerySet[Partner]:
    """Partners in onboarding without an active journey that `user` may start one for: every
    such partner for the CPO, an alliance manager's own and unowned ones; nobody else's."""
    if not can_manage_any(user):
        return Partner.objects.none()
    waiting = partners_visible_to(user).filter(status=Status.ONBOARDING)
    waiting = waiting.exclude(journeys__status=JourneyStatus.ACTIVE)
    if user.role != Role.CPO:
        waiting = waiting.filter(Q(owner=user) | Q(owner__isnull=True))
    return waiting.order_by("name")


def can_manage_any(user: Any) -> bool:
    """Whether the user runs anyone's onboarding (shows the start form)."""
    return _active(user) and not user.is_partner_user and user.role in PARTNER_EDITORS
