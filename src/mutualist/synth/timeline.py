"""Time grid, random streams and small array helpers shared by the table builders.

Times are handled as int64 seconds since the Unix epoch (UTC) while generating: integer
arithmetic is exact and fast, and ``NAT`` (the smallest int64) is exactly numpy's
representation of ``NaT``, so conversion to ``datetime64[s]`` is a free ``view``.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .config import SynthConfig

Array = npt.NDArray[Any]

DAY = 86_400
HOUR = 3_600
YEAR = 365 * DAY
NAT = int(np.iinfo(np.int64).min)  # int64 bit pattern of NaT
FAR_FUTURE = 2**62  # "no end" for intervals; far beyond any date we generate


def rng_for(seed: int, step: str) -> np.random.Generator:
    """An independent random stream per generation step.

    Separate streams keep a change in one step (say, more leads) from shifting the draws of
    every later step, so tables stay comparable across code changes with the same seed.
    """
    return np.random.default_rng([seed, zlib.crc32(step.encode())])


def date_to_ts(day: dt.date) -> int:
    """Midnight UTC of a date, as epoch seconds."""
    return int(np.datetime64(day.isoformat(), "s").astype(np.int64))


@dataclass(frozen=True)
class Clock:
    """The monthly grid from the start month to the as-of month."""

    start_ts: int  # first possible opportunity creation
    as_of_ts: int  # exclusive upper bound: midnight after the config's end date
    edges: Array  # int64 month starts, M + 1 entries (last is the month after as-of)

    @classmethod
    def from_config(cls, cfg: SynthConfig) -> Clock:
        first = np.datetime64(cfg.start.isoformat(), "M")
        last = np.datetime64(cfg.end.isoformat(), "M")
        months = np.arange(first, last + 2, dtype="datetime64[M]")
        edges = months.astype("datetime64[s]").astype(np.int64)
        return cls(
            start_ts=date_to_ts(cfg.start),
            as_of_ts=date_to_ts(cfg.end) + DAY,
            edges=edges,
        )

    @property
    def months(self) -> int:
        return len(self.edges) - 1

    @property
    def lo(self) -> Array:
        """First second of each month that lies inside the data range."""
        return np.maximum(self.edges[:-1], self.start_ts)

    @property
    def hi(self) -> Array:
        """Exclusive end of each month, clipped to the as-of bound."""
        return np.minimum(self.edges[1:], self.as_of_ts)

    @property
    def month_weight(self) -> Array:
        """Fraction of each month inside the data range (partial first/last months)."""
        return (self.hi - self.lo) / (30.4375 * DAY)

    def month_of(self, ts: Array) -> Array:
        """Month index of each timestamp (-1 before the grid, M after it)."""
        return np.searchsorted(self.edges, ts, side="right") - 1

    def uniform_in_month(self, rng: np.random.Generator, month: Array) -> Array:
        """A uniformly random second inside each given month's data range."""
        lo = self.lo[month]
        span = self.hi[month] - lo
        return lo + (rng.random(len(month)) * span).astype(np.int64)

    def trend_months(self, rng: np.random.Generator, n: int, yearly_growth: float) -> Array:
        """Months drawn with weight growing by ``yearly_growth`` a year (business growth)."""
        t = np.arange(self.months) / 12.0
        w = self.month_weight * (1.0 + yearly_growth) ** t
        return rng.choice(self.months, size=n, p=w / w.sum())


def to_datetime(ts: Array) -> Array:
    """int64 epoch seconds (NAT for missing) to ``datetime64[s]``."""
    return np.asarray(ts, dtype=np.int64).view("datetime64[s]")


def str_array(values: Sequence[str]) -> Array:
    """Object array holding the given ``str`` values.

    All string columns are object arrays: gathering from small lookup tables costs one
    pointer per row, and ``.tolist()`` hands the loader plain ``str`` objects for free.
    """
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


def categorical(values: Sequence[str], codes: Array) -> Array:
    """Object array of shared ``str`` objects, one per code (memory: one pointer a row)."""
    return str_array(values)[codes]


def draw_codes(rng: np.random.Generator, probs: Array) -> Array:
    """Row-wise categorical draw: row i picks a column with probabilities ``probs[i]``."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(len(probs))[:, None] * cum[:, -1:]
    return np.minimum((u >= cum).sum(axis=1), probs.shape[1] - 1)


def lognormal_days(rng: np.random.Generator, median_days: Array, sigma: float) -> Array:
    """Lognormal durations in seconds with the given per-row medians (days)."""
    return np.exp(np.log(median_days * DAY) + sigma * rng.standard_normal(len(median_days)))


def segment_starts(keys: Array) -> Array:
    """Start index of each run of equal values in a sorted key array."""
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64)
    change = np.flatnonzero(keys[1:] != keys[:-1]) + 1
    return np.concatenate(([0], change)).astype(np.int64)
