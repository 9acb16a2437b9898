"""Win rate (won / closed, open deals excluded) per bucket and partner vs unattributed.

The naive partner-minus-unattributed difference is confounded: partners attach to large
deals, which are won less often. Next to it we report a difference standardised within
strata (size band by default) to the partner deals' mix, and warn when the two disagree in
sign (Simpson's paradox). Both are observational.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .attribution import BUCKETS, PARTNER, PARTNER_BUCKETS, UNATTRIBUTED, AttributionRules
from .estimate import OBSERVATIONAL, Estimate
from .groups import GROUPS
from .period import DateLike, Period
from .schema import Tables
from .snapshot import Snapshot, as_snapshot, in_range, rows
from .stats import (
    Stratum,
    difference,
    proportion,
    ratio,
    simpson_warning,
    standardized_difference,
)

Counts = dict[tuple[str, str], tuple[int, int]]  # (bucket, stratum) -> (won, closed)


def closed_counts(snap: Snapshot, period: Period, strata: Sequence[str] = ("size_band",)) -> Counts:
    """Won and closed deal counts per (bucket, stratum) for deals closed in the period."""
    opp = snap.opportunities
    closed = opp.filter(opp.is_closed & in_range(opp.closed_at, period.lo, period.hi))
    closed = snap.with_accounts(closed)
    key = closed[strata[0]].cast("string")
    for col in strata[1:]:
        key = key.concat("|", closed[col].cast("string"))
    keyed = closed.mutate(stratum=key)
    agg = keyed.group_by(["bucket", "stratum"]).agg(won=keyed.is_won.sum(), closed=keyed.count())
    return {(r["bucket"], r["stratum"]): (int(r["won"]), int(r["closed"])) for r in rows(agg)}


def _sum(counts: Counts, buckets: Sequence[str], stratum: str | None = None) -> tuple[int, int]:
    won = closed = 0
    for (b, s), (w, n) in counts.items():
        if b in buckets and (stratum is None or s == stratum):
            won, closed = won + w, closed + n
    return won, closed


def _members(group: str) -> tuple[str, ...]:
    return PARTNER_BUCKETS if group == PARTNER else (group,)


def adjusted_difference(counts: Counts) -> Estimate:
    names = sorted({s for _, s in counts})
    strata = []
    for s in names:
        w1, n1 = _sum(counts, PARTNER_BUCKETS, s)
        w0, n0 = _sum(counts, (UNATTRIBUTED,), s)
        strata.append(Stratum(s, w1, n1, w0, n0))
    return standardized_difference(strata)


def comparison(counts: Counts) -> dict[str, Estimate]:
    w1, n1 = _sum(counts, PARTNER_BUCKETS)
    w0, n0 = _sum(counts, (UNATTRIBUTED,))
    naive = difference(w1, n1, w0, n0).with_note(OBSERVATIONAL)
    adjusted = adjusted_difference(counts).with_note(OBSERVATIONAL)
    warning = simpson_warning(naive, adjusted, "size-band-adjusted")
    return {
        "difference": naive.with_warning(warning),
        "ratio": ratio(w1, n1, w0, n0).with_note(OBSERVATIONAL),
        "adjusted": adjusted.with_warning(warning),
    }


def win_rates(
    tables: Tables | Snapshot,
    period: Period,
    as_of: DateLike,
    rules: AttributionRules | None = None,
    strata: Sequence[str] = ("size_band",),
) -> dict[str, Any]:
    """Per group a Wilson rate with won/closed; ``partner_vs_unattributed`` comparisons;
    ``by_stratum`` rates so the reader can see the within-band picture."""
    snap = as_snapshot(tables, as_of, rules)
    counts = closed_counts(snap, period, strata)
    out: dict[str, Any] = {g: proportion(*_sum(counts, _members(g)), win=True) for g in GROUPS}
    out["partner_vs_unattributed"] = comparison(counts)
    out["by_stratum"] = {
        s: {g: proportion(*_sum(counts, _members(g), s), win=True) for g in (PARTNER, UNATTRIBUTED)}
        for s in sorted({s for _, s in counts})
    }
    out["stratified_by"] = list(strata)
    out["definition"] = "won / (won + lost) for deals closed in the period; open deals excluded"
    return out


__all__ = ["BUCKETS", "closed_counts", "win_rates"]
