"""Background work of account mapping (django-tasks, database queue)."""

from __future__ import annotations

from django_tasks import task

from mutualist.overlaps import actions


@task()
def process_account_list(list_id: int) -> str:
    return actions.process_account_list(list_id).status


@task()
def resolve_vendor_accounts() -> int:
    return actions.resolve_vendor_accounts().accounts
