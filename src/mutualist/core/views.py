from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from mutualist.core.summary import ecosystem_summary
from mutualist.cosell.portal import portal_summary
from mutualist.crm.access import leads_visible_to, opportunities_visible_to


@login_required
def home(request: HttpRequest) -> HttpResponse:
    ctx: dict[str, Any] = {"summary": ecosystem_summary(request.user)}
    if request.user.is_partner_user:  # type: ignore[union-attr]
        ctx["partner"] = request.user.partner  # type: ignore[union-attr]
        ctx["recent_opportunities"] = opportunities_visible_to(request.user).select_related(
            "account"
        )[:10]
        ctx["recent_leads"] = leads_visible_to(request.user)[:10]
        ctx["portal"] = portal_summary(request.user)
        return render(request, "core/portal_home.html", ctx)
    return render(request, "core/home.html", ctx)


def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers and `mutualist serve` smoke checks: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
