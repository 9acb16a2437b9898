"""Reads of users and tokens: who a bearer token belongs to, and whose tokens a user may see."""

from __future__ import annotations

from typing import Any, cast

from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone

from mutualist.accounts.models import ApiToken, User
from mutualist.accounts.tokens import hash_key


def user_for_token(key: str) -> User | None:
    """The active user a live token belongs to, or None. Marks the token as used."""
    token = (
        ApiToken.objects.select_related("user", "user__partner")
        .filter(key_hash=hash_key(key), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    # Only write once a minute per token: a busy API client would otherwise write on every call.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def tokens_visible_to(user: Any) -> QuerySet[ApiToken]:
    if not (user and user.is_authenticated):
        return ApiToken.objects.none()
    return ApiToken.objects.filter(user=user)


def get_token_for(user: Any, token_id: int) -> ApiToken:
    try:
        return tokens_visible_to(user).get(pk=token_id)
    except ApiToken.DoesNotExist:
        raise Http404("No such token.") from None


def acting_user(request: HttpRequest) -> User:
    """The logged-in user of a view behind @login_required (typed for the actions it calls)."""
    return cast(User, request.user)
