from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from mutualist.lib.errors import Conflict, NotAllowed, RateLimited


class ActionErrorsMiddleware:
    """Render NotAllowed as 403 and Conflict as 409 pages with the action's own explanation."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if isinstance(exc, NotAllowed):
            return render(request, "core/refused.html", {"message": str(exc)}, status=403)
        if isinstance(exc, Conflict):
            return render(request, "core/refused.html", {"message": str(exc)}, status=409)
        if isinstance(exc, RateLimited):
            return render(request, "core/refused.html", {"message": str(exc)}, status=429)
        return None
