"""`mutualist map --ours A.csv --theirs B.csv --out pairs.csv`: two files in, one pairs file out."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.csv as pacsv

from mutualist.matching.match import CONFIDENCE_TIERS, Progress, run_match
from mutualist.matching.records import NOTE_KEY, AccountFileError, read_accounts

OUTPUT_COLUMNS = ("our_id", "their_id", "confidence", "reason", "score")


@dataclass
class MapSummary:
    ours: int
    theirs: int
    pairs: int
    by_confidence: dict[str, int]
    unusable_domains: dict[str, int]  # per side ("ours", "theirs"): values that name no company
    seconds: float
    notes: list[str] = field(default_factory=list)  # e.g. a file read as Windows-1252


def map_files(
    ours: Path, theirs: Path, out: Path, *, progress: Progress | None = None
) -> MapSummary:
    """Match two account CSVs and write the pairs to `out` (never over one of the inputs)."""
    started = time.perf_counter()
    for source in (ours, theirs):
        if out.resolve() == source.resolve():
            raise AccountFileError(
                f"{out}: the output would overwrite the input {source}; choose another --out path."
            )
    ours_table = read_accounts(ours)
    theirs_table = read_accounts(theirs)
    notes = [
        (table.schema.metadata or {}).get(NOTE_KEY, b"").decode("utf-8")
        for table in (ours_table, theirs_table)
    ]
    pairs, unusable = run_match(ours_table, theirs_table, progress=progress)
    pacsv.write_csv(pairs.select(list(OUTPUT_COLUMNS)), out)
    counts = Counter(pairs["confidence"].to_pylist())
    return MapSummary(
        ours=ours_table.num_rows,
        theirs=theirs_table.num_rows,
        pairs=pairs.num_rows,
        by_confidence={tier: counts.get(tier, 0) for tier in CONFIDENCE_TIERS},
        unusable_domains=unusable,
        seconds=round(time.perf_counter() - started, 2),
        notes=[note for note in notes if note],
    )
