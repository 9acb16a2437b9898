"""Leaderboard figures regrouped by a partner attribute (type, tier, segment) or per partner.

Credit is gross: a deal with partners in two groups counts in both, as on the leaderboard.
Each group's win rate comes with its Wilson interval; revenue is summed.
"""

from __future__ import annotations

from typing import Any

import ibis.expr.types as ir

from .estimate import to_json
from .stats import proportion

DIMENSIONS = ("type", "tier", "segment", "partner")
SEGMENT_COLUMNS = ("industries", "technologies", "practices", "region")


def _groups_of(partner: dict[str, Any], dimension: str) -> list[str]:
    if dimension == "type":
        return [t for t in (partner.get("types") or "").split(",") if t] or ["(none)"]
    if dimension == "tier":
        return [partner.get("tier") or "(no tier)"]
    if dimension == "partner":
        return [partner["name"]]
    found = []
    for column in SEGMENT_COLUMNS:
        found += [f"{column}:{v}" for v in (partner.get(column) or "").split(",") if v]
    return found or ["(none)"]


def by_dimension(
    tables: dict[str, ir.Table], board: dict[str, Any], dimension: str
) -> list[dict[str, Any]]:
    if dimension not in DIMENSIONS:
        raise ValueError(f"unknown dimension {dimension!r}; use one of {', '.join(DIMENSIONS)}")
    partners = {row["partner_id"]: row for row in tables["partners"].to_pyarrow().to_pylist()}
    totals: dict[str, dict[str, float]] = {}
    for row in board["leaderboard"]["partners"]:
        partner = partners.get(row["partner_id"], {"name": row["name"]})
        for group in _groups_of(partner, dimension):
            t = totals.setdefault(group, {"won": 0, "closed": 0, "revenue": 0.0, "partners": 0})
            t["won"] += row["won_deals"]
            t["closed"] += row["closed_deals"]
            t["revenue"] += row["won_revenue"] or 0.0
            t["partners"] += 1
    rows = [
        {
            "group": group,
            "partners": int(t["partners"]),
            "won_revenue": t["revenue"],
            "won_deals": int(t["won"]),
            "closed_deals": int(t["closed"]),
            "win_rate": proportion(int(t["won"]), int(t["closed"]), win=True),
        }
        for group, t in totals.items()
    ]
    rows.sort(key=lambda r: -float(r["won_revenue"]))  # type: ignore[arg-type]
    return list(to_json(rows))
