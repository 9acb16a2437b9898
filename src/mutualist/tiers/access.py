"""Who sees and decides what in tier governance. Every tiers view and endpoint reads through here.

Programs (levels, rules, benefits) are public to every signed-in user: partners should know
what a tier takes. Evaluations: vendor staff see all; a partner's people see their own
partner's. Proposals are the vendor's internal queue: a partner's people never see them (404);
the partner's owner and the CPO decide, other staff may look but not decide (403).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from mutualist.accounts.roles import Role
from mutualist.lib.errors import NotAllowed
from mutualist.partners.access import get_partner_for
from mutualist.partners.models import Partner
from mutualist.tiers.models import Evaluation, Level, Program, Proposal


def _active(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def _staff(user: Any) -> bool:
    return _active(user) and not user.is_partner_user


def programs_visible_to(user: Any) -> QuerySet[Program]:
    return Program.objects.all() if _active(user) else Program.objects.none()


def get_program_for(user: Any, program_id: int) -> Program:
    try:
        return programs_visible_to(user).get(pk=program_id)
    except Program.DoesNotExist:
        raise Http404("No such tier program.") from None


def get_level_for(user: Any, level_id: int) -> Level:
    try:
        return Level.objects.select_related("program").get(
            pk=level_id, program__in=programs_visible_to(user)
        )
    except Level.DoesNotExist:
        raise Http404("No such tier level.") from None


def can_manage_programs(user: Any) -> bool:
    return _active(user) and user.role == Role.CPO


def require_can_manage_programs(user: Any) -> None:
    if not can_manage_programs(user):
        if _active(user) and user.is_partner_user:
            raise Http404("No such tier program.")
        raise NotAllowed("Only the CPO changes tier programs, levels, rules and benefits.")


def evaluations_visible_to(user: Any) -> QuerySet[Evaluation]:
    if not _active(user):
        return Evaluation.objects.none()
    if user.is_partner_user:
        return Evaluation.objects.filter(partner_id=user.partner_id)
    return Evaluation.objects.all()


def proposals_visible_to(user: Any) -> QuerySet[Proposal]:
    return Proposal.objects.all() if _staff(user) else Proposal.objects.none()


def get_proposal_for(user: Any, proposal_id: int) -> Proposal:
    try:
        return (
            proposals_visible_to(user)
            .select_related("partner", "partner__owner", "program", "evaluation", "decided_by")
            .get(pk=proposal_id)
        )
    except Proposal.DoesNotExist:
        raise Http404("No such tier proposal.") from None


def can_decide(user: Any, partner: Partner) -> bool:
    """The partner's owner and the CPO decide its tier changes."""
    if not _staff(user):
        return False
    return bool(user.role == Role.CPO or partner.owner_id == user.pk)


def require_can_decide(user: Any, partner: Partner) -> None:
    if not can_decide(user, partner):
        if not _staff(user):
            raise Http404("No such tier proposal.")
        raise NotAllowed(
            f"Your role ({user.get_role_display()}) cannot decide {partner.name}'s tier; "
            "its alliance manager or the CPO decides."
        )


def get_partner_tier_for(user: Any, partner_id: int) -> Partner:
    """A partner whose tier, benefits and evaluations `user` may see: 404 for anyone else's."""
    return get_partner_for(user, partner_id)


def can_record_facts(user: Any, partner: Partner) -> bool:
    return can_decide(user, partner)
