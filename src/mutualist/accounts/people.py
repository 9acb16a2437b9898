"""A partner's administrators manage their own people: add partner users and administrators,
and switch them off. Nobody reaches another partner's people (404)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404

from mutualist.accounts.actions import create_user
from mutualist.accounts.models import User
from mutualist.accounts.roles import PARTNER_ROLES, Role
from mutualist.audit.log import record
from mutualist.lib.errors import Conflict, NotAllowed, ValidationFailed
from mutualist.partners.models import Partner


def people_of(viewer: Any, partner: Partner) -> QuerySet[User]:
    """A partner's people, for its own people and for vendor staff; a 404 for anyone else."""
    if not (viewer and viewer.is_authenticated and viewer.is_active):
        raise Http404("No such partner.")
    if viewer.is_partner_user and viewer.partner_id != partner.pk:
        raise Http404("No such partner.")
    return User.objects.filter(partner=partner).order_by("username")


def can_manage_people(viewer: Any, partner: Partner) -> bool:
    return (
        bool(viewer.role == Role.PARTNER_ADMIN and viewer.partner_id == partner.pk)
        or viewer.role == Role.CPO
    )


def _require(viewer: Any, partner: Partner) -> None:
    people_of(viewer, partner)
    if not can_manage_people(viewer, partner):
        raise NotAllowed("Only the partner's administrators (or the CPO) manage its people.")


def add_person(actor: User, partner: Partner, data: Mapping[str, Any]) -> User:
    _require(actor, partner)
    role = str(data.get("role") or Role.PARTNER_USER)
    password = str(data.get("password") or "")
    errors: dict[str, str] = {}
    if role not in PARTNER_ROLES:
        errors["role"] = "choose partner_user or partner_admin"
    email = str(data.get("email") or "").strip()
    if email and "@" not in email:
        errors["email"] = "is not an e-mail address"
    try:
        validate_password(password)
    except ValidationError as exc:
        errors["password"] = " ".join(exc.messages)
    if errors:
        raise ValidationFailed(errors)
    return create_user(
        actor,
        str(data.get("username") or "").strip(),
        password,
        role,
        partner=partner,
        first_name=str(data.get("first_name") or "").strip()[:150],
        last_name=str(data.get("last_name") or "").strip()[:150],
        email=email,
    )


@transaction.atomic
def set_active(actor: User, partner: Partner, person: User, active: bool) -> User:
    _require(actor, partner)
    if person.partner_id != partner.pk:
        raise Http404("No such person.")
    if person.pk == actor.pk and not active:
        raise Conflict("You cannot switch yourself off; ask another administrator.")
    if not active and person.role == Role.PARTNER_ADMIN:
        admins = User.objects.filter(partner=partner, role=Role.PARTNER_ADMIN, is_active=True)
        if admins.exclude(pk=person.pk).count() == 0:
            raise Conflict("This is the partner's last active administrator.")
    person.is_active = active
    person.save(update_fields=["is_active"])
    record(
        actor, "user.activate" if active else "user.deactivate", person, after={"is_active": active}
    )
    return person
