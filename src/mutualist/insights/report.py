"""The board report: one self-contained HTML file (inline CSS and SVG, no external files) and,
on request, each chart as a PNG."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string

from mutualist.analytics import Period
from mutualist.analytics.pillars import ecosystem_pillars
from mutualist.insights.charts import CHARTS, board_svgs, render_png


def board_report_html(
    board: dict[str, Any], tables: dict[str, Any], period: Period, as_of: dt.date
) -> str:
    css = (Path(settings.PACKAGE_DIR) / "static" / "mutualist" / "site.css").read_text()
    return render_to_string(
        "insights/report.html",
        {
            "board": board,
            "period": period,
            "as_of": as_of,
            "css": css,
            "charts": board_svgs(board),
            "pillars": ecosystem_pillars(tables, board, period, as_of),
            "groups": ["sourced", "influenced", "partner", "unattributed"],
            "attach_groups": ["partner_attached", "unattached"],
            "lead_groups": ["partner_referral", "cold_outbound"],
            "generated": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        },
    )


def write_pngs(board: dict[str, Any], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, build in CHARTS.items():
        chart = build(board)
        if chart is not None:
            path = folder / f"{name}.png"
            path.write_bytes(render_png(chart))
            written.append(path)
    return written
