"""Who sees board metrics: vendor staff see the whole board; a partner's people see only their
own partner's scorecard (never the leaderboard, which names other partners)."""

from __future__ import annotations

from typing import Any

from django.http import Http404


def require_board_access(user: Any) -> None:
    if not (user and user.is_authenticated and user.is_active) or user.is_partner_user:
        raise Http404("No such page.")
