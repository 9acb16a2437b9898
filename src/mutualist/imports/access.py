"""Who may see and start imports: vendor staff see the runs; the CPO and alliance managers
may start them. Partner users never see import runs (they hold every partner's data)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from mutualist.accounts.roles import PARTNER_EDITORS
from mutualist.imports.models import ImportRun
from mutualist.lib.errors import NotAllowed


def runs_visible_to(user: Any) -> QuerySet[ImportRun]:
    if not (user and user.is_authenticated and user.is_active) or user.is_partner_user:
        return ImportRun.objects.none()
    return ImportRun.objects.all()


def get_run_for(user: Any, run_id: int) -> ImportRun:
    try:
        return runs_visible_to(user).get(pk=run_id)
    except ImportRun.DoesNotExist:
        raise Http404("No such import.") from None


def can_import(user: Any) -> bool:
    return bool(user and user.is_authenticated and user.role in PARTNER_EDITORS)


def require_can_import(user: Any) -> None:
    if not can_import(user):
        if user and user.is_authenticated and user.is_partner_user:
            raise Http404("No such page.")
        raise NotAllowed("Only the CPO and alliance managers import data.")
