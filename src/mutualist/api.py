"""The REST API root: /api/v1/, token (or session) authentication, one error format.

Errors: 401 without credentials, 404 for anything the caller may not see, 403 when it may see
but not do, 409 when the state forbids it, 422 with `detail: [{loc, msg}]` naming each bad field.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.security import HttpBearer, django_auth

from mutualist.accounts.access import user_for_token
from mutualist.lib.errors import Conflict, NotAllowed, RateLimited, ValidationFailed


class TokenAuth(HttpBearer):
    openapi_description = "An API token: create one with `mutualist token create` or in Settings."

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(
    title="mutualist API",
    version="1",
    description="Partner registry and CRM data of a mutualist installation. "
    "Every list is paginated (`page`, `page_size`) and filterable.",
    auth=[TokenAuth(), django_auth],
    urls_namespace="api",
)


@api.exception_handler(ValidationFailed)
def on_validation_failed(request: HttpRequest, exc: ValidationFailed) -> HttpResponse:
    detail = [{"loc": ["body", field], "msg": msg} for field, msg in exc.errors.items()]
    return api.create_response(request, {"detail": detail}, status=422)


@api.exception_handler(NotAllowed)
def on_not_allowed(request: HttpRequest, exc: NotAllowed) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc)}, status=403)


@api.exception_handler(Conflict)
def on_conflict(request: HttpRequest, exc: Conflict) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc)}, status=409)


@api.exception_handler(RateLimited)
def on_rate_limited(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc)}, status=429)


def _register_routers() -> None:
    from mutualist.agreements.api import router as agreements_router
    from mutualist.cosell.api import router as cosell_router
    from mutualist.cosell.api_routing import router as routing_router
    from mutualist.crm.api import router as crm_router
    from mutualist.fit.api import router as fit_router
    from mutualist.imports.api import router as imports_router
    from mutualist.insights.api import router as insights_router
    from mutualist.onboarding.api import router as onboarding_router
    from mutualist.overlaps.api import router as overlaps_router
    from mutualist.partners.api import router as partners_router
    from mutualist.tiers.api import router as tiers_router

    api.add_router("/", partners_router)
    api.add_router("/", crm_router)
    api.add_router("/", imports_router)
    api.add_router("/", insights_router)
    api.add_router("/", overlaps_router)
    api.add_router("/", cosell_router)
    api.add_router("/", routing_router)
    api.add_router("/", tiers_router)
    api.add_router("/", agreements_router)
    api.add_router("/", onboarding_router)
    api.add_router("/", fit_router)


_register_routers()
