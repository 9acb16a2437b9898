"""Notifications: an in-app row for each person who must act, and an e-mail through Django's
e-mail backend (the console in development and the demo). Called by actions, inside their
transaction; e-mail goes out only once the transaction commits."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q, QuerySet

from mutualist.accounts.models import User
from mutualist.accounts.roles import Role
from mutualist.cosell.models import Notification
from mutualist.partners.models import Partner


def notify(users: Iterable[User], verb: str, text: str, url: str = "") -> int:
    recipients = {u.pk: u for u in users if u is not None and u.is_active}
    Notification.objects.bulk_create(
        [
            Notification(user=u, verb=verb, text=text[:500], url=url[:300])
            for u in recipients.values()
        ]
    )
    emails = [u.email for u in recipients.values() if u.email]
    if emails:
        transaction.on_commit(
            lambda: send_mail(
                f"[mutualist] {text[:120]}", f"{text}\n\n{url}", None, emails, fail_silently=True
            )
        )
    return len(recipients)


def partner_people(partner: Partner, admins_only: bool = False) -> QuerySet[User]:
    roles = [Role.PARTNER_ADMIN] if admins_only else [Role.PARTNER_ADMIN, Role.PARTNER_USER]
    return User.objects.filter(partner=partner, role__in=roles, is_active=True)


def deciders_for(partner: Partner) -> QuerySet[User]:
    """Who decides for this partner: its owner (alliance manager) and the CPOs."""
    owner = Q(pk=partner.owner_id) if partner.owner_id else Q(pk__in=[])
    return User.objects.filter(owner | Q(role=Role.CPO), is_active=True)
