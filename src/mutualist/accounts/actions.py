"""Writes to users and API tokens."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from mutualist.accounts.models import ApiToken, User
from mutualist.accounts.roles import PARTNER_ROLES, Role
from mutualist.accounts.tokens import display_prefix, hash_key, new_key
from mutualist.audit.log import record
from mutualist.lib import validate
from mutualist.lib.errors import ValidationFailed
from mutualist.partners.models import Partner


@transaction.atomic
def create_user(
    actor: User | None,
    username: str,
    password: str,
    role: str,
    *,
    partner: Partner | None = None,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    is_staff: bool = False,
) -> User:
    errors: dict[str, str] = {}
    if message := validate.text_error(username, 150, required=True):
        errors["username"] = message
    elif User.objects.filter(username=username).exists():
        errors["username"] = f"{username!r} is taken; choose another user name"
    if message := validate.choice_error(role, Role.values, "role"):
        errors["role"] = message
    elif (role in PARTNER_ROLES) != (partner is not None):
        errors["partner"] = (
            "partner roles need a partner" if partner is None else "vendor roles take no partner"
        )
    if errors:
        raise ValidationFailed(errors)
    user = User.objects.create_user(
        username=username,
        password=password,
        role=role,
        partner=partner,
        first_name=first_name,
        last_name=last_name,
        email=email,
        is_staff=is_staff,
    )
    record(
        actor,
        "user.create",
        user,
        after={"username": username, "role": role, "partner_id": partner.pk if partner else None},
    )
    return user


@transaction.atomic
def create_api_token(actor: User, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a token for `user`; return it with the clear key, which is never stored."""
    if message := validate.text_error(name, 100, required=True):
        raise ValidationFailed({"name": message})
    key = new_key()
    token = ApiToken.objects.create(
        user=user, name=name.strip(), prefix=display_prefix(key), key_hash=hash_key(key)
    )
    record(actor, "token.create", token, after={"user": user.username, "name": token.name})
    return token, key


@transaction.atomic
def revoke_api_token(actor: User, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record(actor, "token.revoke", token, after={"revoked_at": token.revoked_at})
    return token
