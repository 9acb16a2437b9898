"""The project's URLs plus lead routing and referrals, until the project mounts them itself.

Once `mutualist.urls` includes `mutualist.cosell.routing_urls` and `mutualist.api` registers
`mutualist.cosell.api_routing.router`, this module adds nothing and the real URLs are tested.
"""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, URLResolver, include, path
from ninja import NinjaAPI

from mutualist.api import api
from mutualist.cosell.api_routing import router
from mutualist.urls import urlpatterns as project_urlpatterns


def _names(patterns: list[Any]) -> set[str]:
    found: set[str] = set()
    for p in patterns:
        if isinstance(p, URLResolver):
            found |= _names(p.url_patterns)
        elif isinstance(p, URLPattern) and p.name:
            found.add(p.name)
    return found


def _extra() -> list[Any]:
    extra: list[Any] = []
    if not any(registration[1] is router for registration in api._router_registrations):
        routing_api = NinjaAPI(auth=api.auth, urls_namespace="cosell-routing-test")
        routing_api._exception_handlers.update(api._exception_handlers)
        routing_api.add_router("/", router)
        extra.append(path("api/v1/", routing_api.urls))
    if "lead-offers" not in _names(project_urlpatterns):
        extra.append(path("cosell/", include("mutualist.cosell.routing_urls")))
    return extra


urlpatterns = [*_extra(), *project_urlpatterns]
