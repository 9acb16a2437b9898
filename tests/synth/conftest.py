"""Two shared ecosystems: a small one for structure, a moderate one for planted effects.

Both are session-scoped: generation is deterministic, so every test can share them.
"""

from __future__ import annotations

import pytest

from mutualist.synth import Ecosystem, SynthConfig, generate

SMALL = SynthConfig(partners=40, accounts=800, opportunities=3_000, seed=11)
# Big enough that sampling noise is well inside the tolerances of test_effects.py, still
# well under a second to generate.
MODERATE = SynthConfig(partners=150, accounts=20_000, opportunities=120_000, seed=3)


@pytest.fixture(scope="session")
def small() -> Ecosystem:
    return generate(SMALL)


@pytest.fixture(scope="session")
def moderate() -> Ecosystem:
    return generate(MODERATE)
