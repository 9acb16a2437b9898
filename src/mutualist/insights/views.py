from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from mutualist.insights import access
from mutualist.insights.service import (
    board_for,
    charts_for,
    pillars_for,
    resolve_period,
    scorecard_for,
)
from mutualist.lib.errors import ValidationFailed
from mutualist.partners.access import get_partner_for

GROUPS = ["sourced", "influenced", "partner", "unattributed"]


@login_required
def board_page(request: HttpRequest) -> HttpResponse:
    access.require_board_access(request.user)
    ctx: dict[str, Any] = {"filters": {k: request.GET.get(k, "") for k in ("from", "to", "as_of")}}
    try:
        period, as_of = resolve_period(
            request.GET.get("from"), request.GET.get("to"), request.GET.get("as_of")
        )
    except ValidationFailed as exc:
        ctx["errors"] = exc.errors
        return render(request, "insights/board.html", ctx, status=400)
    board = board_for(period, as_of)
    ctx.update(
        board=board,
        period=period,
        as_of=as_of,
        charts=charts_for(period, as_of, board),
        pillars=pillars_for(period, as_of, board),
        groups=GROUPS,
        attach_groups=["partner_attached", "unattached"],
        lead_groups=["partner_referral", "cold_outbound"],
    )
    return render(request, "insights/board.html", ctx)


@login_required
def scorecard_fragment(request: HttpRequest, partner_id: int) -> HttpResponse:
    """A partner's four-pillar scorecard, loaded into its page (and its portal) by htmx."""
    partner = get_partner_for(request.user, partner_id)
    period, as_of = resolve_period(None, None, None)
    ctx = {"partner": partner, "card": scorecard_for(partner.pk, period, as_of), "period": period}
    return render(request, "insights/_scorecard.html", ctx)
