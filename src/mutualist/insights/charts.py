"""Board charts as Altair specs, rendered to SVG (or PNG) on the server by vl-convert:
no browser, no CDN, and the same pictures in the web page and the board report."""

from __future__ import annotations

from typing import Any

import altair as alt
import vl_convert

GROUP_ORDER = ["sourced", "influenced", "partner", "unattributed"]
COLORS = alt.Scale(domain=GROUP_ORDER, range=["#2f5bd3", "#7d9be8", "#1f8a4c", "#9aa3b2"])
WIDTH = 420


def _estimates(
    section: dict[str, Any], groups: list[str], key: str | None = None
) -> list[dict[str, Any]]:
    rows = []
    for group in groups:
        est = section.get(group, {})
        est = est.get(key, {}) if key else est
        if isinstance(est, dict) and est.get("value") is not None:
            rows.append(
                {
                    "group": group,
                    "value": est["value"],
                    "low": est.get("low"),
                    "high": est.get("high"),
                    "n": est.get("n"),
                }
            )
    return rows


def attribution_chart(board: dict[str, Any]) -> alt.Chart | None:
    rows = []
    for group in ("sourced", "influenced", "unattributed"):
        bucket = board["attribution"][group]
        rows.append({"group": group, "measure": "pipeline created", "amount": bucket["pipeline"]})
        rows.append({"group": group, "measure": "won revenue", "amount": bucket["won_revenue"]})
    if not any(r["amount"] for r in rows):
        return None
    return (
        alt.Chart(alt.Data(values=rows))
        .mark_bar()
        .encode(
            x=alt.X("amount:Q", title="amount", axis=alt.Axis(format="~s")),
            y=alt.Y("group:N", sort=GROUP_ORDER, title=None),
            color=alt.Color("group:N", scale=COLORS, legend=None),
            row=alt.Row("measure:N", title=None),
            tooltip=["group:N", "measure:N", alt.Tooltip("amount:Q", format=",.0f")],
        )
        .properties(width=WIDTH, height=90, title="Attribution (each deal in exactly one bucket)")
    )


def interval_chart(
    rows: list[dict[str, Any]], title: str, axis_format: str = ".0%"
) -> alt.LayerChart | None:
    if not rows:
        return None
    base = alt.Chart(alt.Data(values=rows)).encode(
        y=alt.Y("group:N", sort=[*GROUP_ORDER, "partner_attached", "unattached"], title=None)
    )
    bars = base.mark_rule(strokeWidth=3, color="#5b6475").encode(
        x=alt.X("low:Q", title=None, axis=alt.Axis(format=axis_format)), x2="high:Q"
    )
    points = base.mark_point(filled=True, size=90).encode(
        x="value:Q",
        color=alt.Color("group:N", legend=None),
        tooltip=[
            "group:N",
            alt.Tooltip("value:Q", format=".3f"),
            alt.Tooltip("low:Q", format=".3f"),
            alt.Tooltip("high:Q", format=".3f"),
            "n:Q",
        ],
    )
    return (bars + points).properties(
        width=WIDTH, height=30 * len(rows) + 20, title=f"{title} (95% interval)"
    )


def win_rate_chart(board: dict[str, Any]) -> alt.LayerChart | None:
    return interval_chart(_estimates(board["win_rate"], GROUP_ORDER), "Win rate")


def retention_chart(board: dict[str, Any]) -> alt.LayerChart | None:
    groups = ["partner_attached", "unattached"]
    rows = [
        dict(r, group=f"{name.upper()} {r['group']}")
        for name in ("nrr", "grr")
        for r in _estimates(board[name], groups)
    ]
    return interval_chart(rows, "NRR and GRR by partner attachment", ".0%")


def cycle_chart(board: dict[str, Any]) -> alt.Chart | None:
    rows = [
        {"group": group, "days": point["t"], "still_open": point["value"]}
        for group in GROUP_ORDER
        for point in board["cycle_days"].get(group, {}).get("still_open_curve", [])
    ]
    if not rows:
        return None
    return (
        alt.Chart(alt.Data(values=rows))
        .mark_line(interpolate="step-after")
        .encode(
            x=alt.X("days:Q", title="days since created"),
            y=alt.Y("still_open:Q", title="share still open", axis=alt.Axis(format=".0%")),
            color=alt.Color("group:N", scale=COLORS, title=None),
        )
        .properties(
            width=WIDTH, height=220, title="Sales cycle (Kaplan-Meier, open deals censored)"
        )
    )


def leaderboard_chart(board: dict[str, Any], top: int = 10) -> alt.Chart | None:
    rows = [
        {"partner": p["name"], "won_revenue": p["won_revenue"]}
        for p in board["leaderboard"]["partners"][:top]
        if p["won_revenue"]
    ]
    if not rows:
        return None
    return (
        alt.Chart(alt.Data(values=rows))
        .mark_bar(color="#2f5bd3")
        .encode(
            x=alt.X("won_revenue:Q", title="won revenue", axis=alt.Axis(format="~s")),
            y=alt.Y("partner:N", sort="-x", title=None),
            tooltip=["partner:N", alt.Tooltip("won_revenue:Q", format=",.0f")],
        )
        .properties(
            width=WIDTH, height=22 * len(rows), title=f"Top {len(rows)} partners by won revenue"
        )
    )


CHARTS = {
    "attribution": attribution_chart,
    "win_rate": win_rate_chart,
    "cycle_days": cycle_chart,
    "retention": retention_chart,
    "leaderboard": leaderboard_chart,
}


def render_svg(chart: Any) -> str:
    return str(vl_convert.vegalite_to_svg(chart.to_dict()))


def render_png(chart: Any, scale: float = 2.0) -> bytes:
    return bytes(vl_convert.vegalite_to_png(chart.to_dict(), scale=scale))


def board_svgs(board: dict[str, Any]) -> dict[str, str]:
    """Every chart that has data, as an inline SVG string keyed by name."""
    svgs = {}
    for name, build in CHARTS.items():
        chart = build(board)
        if chart is not None:
            svgs[name] = render_svg(chart)
    return svgs
