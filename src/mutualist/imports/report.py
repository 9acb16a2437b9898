"""Writing an import's problems to CSV or JSON, for the person who fixes the export."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from mutualist.lib.errors import ValidationFailed

COLUMNS = ["severity", "code", "file", "row", "column", "value", "reason", "hint"]


def write_report(problems: list[dict[str, Any]], path: Path) -> None:
    if path.suffix.lower() == ".json":
        path.write_text(json.dumps(problems, indent=2, default=str))
    elif path.suffix.lower() == ".csv":
        with path.open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=COLUMNS, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(problems)
    else:
        raise ValidationFailed({"report": f"{path.name}: use a .csv or .json file name"})
