"""Seeded, vectorised synthetic partner-ecosystem generator with planted, recorded effects.

No Django here: the loader in the Django apps consumes ``Ecosystem.tables`` (columnar numpy
arrays) and ``Ecosystem.truth`` (plain JSON) produced by :func:`generate`.
"""

from __future__ import annotations

from .config import SIZES, SynthConfig
from .generate import Ecosystem, generate
from .salesforce_csv import write_salesforce_csv
from .truth import attribution_buckets, write_truth

__all__ = [
    "SIZES",
    "Ecosystem",
    "SynthConfig",
    "attribution_buckets",
    "generate",
    "write_salesforce_csv",
    "write_truth",
]
