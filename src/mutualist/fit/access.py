"""Who sees and does what in partner fit. Every fit view and endpoint reads through here.

Fit is the vendor's internal judgement of prospects: a partner's people never see any of it
(404, for pages and endpoints alike). Every vendor role reads; the CPO defines scorecards; the
CPO and alliance managers assess (any of them, so that several reviewers can score); other
staff may look but not act (403).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from mutualist.accounts.roles import Role
from mutualist.fit.models import Scorecard, ScorecardVersion
from mutualist.lib.errors import NotAllowed
from mutualist.partners.models import Partner

ASSESSORS = frozenset({Role.CPO, Role.ALLIANCE_MANAGER})


def _staff(user: Any) -> bool:
    return bool(
        user is not None and user.is_authenticated and user.is_active and not user.is_partner_user
    )


def require_staff(user: Any) -> None:
    """Partner fit does not exist for anyone but vendor staff."""
    if not _staff(user):
        raise Http404("No such page.")


def scorecards_visible_to(user: Any) -> QuerySet[Scorecard]:
    return Scorecard.objects.all() if _staff(user) else Scorecard.objects.none()


def versions_visible_to(user: Any) -> QuerySet[ScorecardVersion]:
    return ScorecardVersion.objects.all() if _staff(user) else ScorecardVersion.objects.none()


def get_scorecard_for(user: Any, scorecard_id: int) -> Scorecard:
    try:
        return scorecards_visible_to(user).get(pk=scorecard_id)
    except Scorecard.DoesNotExist:
        raise Http404("No such scorecard.") from None


def get_version_for(user: Any, version_id: int) -> ScorecardVersion:
    try:
        return versions_visible_to(user).select_related("scorecard").get(pk=version_id)
    except ScorecardVersion.DoesNotExist:
        raise Http404("No such scorecard version.") from None


def get_partner_for(user: Any, partner_id: int) -> Partner:
    require_staff(user)
    try:
        return Partner.objects.prefetch_related("segments").get(pk=partner_id)
    except Partner.DoesNotExist:
        raise Http404("No such partner.") from None


def can_manage_scorecards(user: Any) -> bool:
    return _staff(user) and user.role == Role.CPO


def require_can_manage_scorecards(user: Any) -> None:
    require_staff(user)
    if not can_manage_scorecards(user):
        raise NotAllowed("Only the CPO defines, changes and publishes scorecards.")


def can_assess(user: Any) -> bool:
    return _staff(user) and user.role in ASSESSORS


def require_can_assess(user: Any) -> None:
    require_staff(user)
    if not can_assess(user):
        raise NotAllowed(
            f"Your role ({user.get_role_display()}) cannot assess partners; "
            "alliance managers and the CPO do."
        )
