"""The one result type every metric returns: a value with its interval, count and caveats.

A board number without its uncertainty is not honest, so there is no way to return a bare
float from a metric: everything goes through :class:`Estimate`, and anything that cannot be
computed honestly becomes ``Estimate.missing(...)`` (value ``None``, note "not enough data")
instead of a zero, a NaN or an exception.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

NOT_ENOUGH_DATA = "not enough data"
OBSERVATIONAL = "observational comparison, not causal: partners choose their deals"
LEVEL = 0.95


def _clean(x: float | None) -> float | None:
    """NaN and infinities are not numbers a board can read: they become None."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


@dataclass(frozen=True)
class Estimate:
    """A point estimate with a ``level`` interval [low, high] from ``n`` observations.

    ``won``/``closed`` are filled for win rates, ``count`` for other proportions (the
    numerator); ``method`` names the interval method so the UI can say how it was made.
    """

    value: float | None
    low: float | None = None
    high: float | None = None
    n: int = 0
    method: str = ""
    level: float = LEVEL
    won: int | None = None
    closed: int | None = None
    count: int | None = None
    warning: str | None = None
    note: str | None = None

    def __post_init__(self) -> None:
        for name in ("value", "low", "high"):
            object.__setattr__(self, name, _clean(getattr(self, name)))

    @classmethod
    def missing(cls, n: int = 0, note: str = NOT_ENOUGH_DATA, **extra: Any) -> Estimate:
        return cls(value=None, n=n, note=note, **extra)

    @property
    def ok(self) -> bool:
        return self.value is not None

    def with_warning(self, text: str | None) -> Estimate:
        """Add a warning, keeping any earlier one (both matter to the reader)."""
        if not text:
            return self
        merged = f"{self.warning}; {text}" if self.warning else text
        return replace(self, warning=merged)

    def with_note(self, text: str | None) -> Estimate:
        if not text:
            return self
        merged = f"{self.note}; {text}" if self.note else text
        return replace(self, note=merged)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "value": self.value,
            "low": self.low,
            "high": self.high,
            "n": self.n,
            "level": self.level,
            "method": self.method,
        }
        for key in ("won", "closed", "count", "warning", "note"):
            val = getattr(self, key)
            if val is not None:
                out[key] = val
        return out


def to_json(value: Any) -> Any:
    """Recursively turn estimates, dataclasses with ``to_json`` and containers into JSON."""
    if hasattr(value, "to_json"):
        return value.to_json()
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, float):
        return _clean(value)
    return value
