from typing import Any

from django.http import HttpRequest
from ninja import Router

from mutualist.insights import access
from mutualist.insights.service import board_for, resolve_period, scorecard_for
from mutualist.partners.access import get_partner_for

router = Router(tags=["metrics"])


@router.get("/metrics", response=dict[str, Any])
def metrics(request: HttpRequest, to: str = "", as_of: str = "") -> Any:
    """The board as JSON (the contract in docs/metrics.md). Query: from, to, as_of (YYYY-MM-DD)."""
    access.require_board_access(request.user)
    period, day = resolve_period(request.GET.get("from"), to, as_of)
    return board_for(period, day)


@router.get("/partners/{partner_id}/scorecard", response=dict[str, Any])
def scorecard(request: HttpRequest, partner_id: int, to: str = "", as_of: str = "") -> Any:
    """One partner's four-pillar scorecard; a partner's people see their own only."""
    partner = get_partner_for(request.user, partner_id)
    period, day = resolve_period(request.GET.get("from"), to, as_of)
    return scorecard_for(partner.pk, period, day)
