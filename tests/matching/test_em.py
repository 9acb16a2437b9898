"""Fellegi-Sunter EM without labels, and the one-deletion blocking key that feeds it typos."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from mutualist.matching import em
from mutualist.matching.match import connection, run_in
from mutualist.matching.records import accounts_from_rows

FLAT = (0.5, 0.5)
COMPARISONS = tuple(
    em.Comparison(name, ("same", "different"), FLAT, FLAT)
    for name in ("name", "country", "legal form")
)
# The truth behind the hand-built pairs: 200 of one company among 2,000; P(same | match) and
# P(same | two companies) per comparison.
TRUE_M = (0.95, 0.9, 0.8)
TRUE_U = (0.02, 0.5, 0.2)


def hand_built() -> tuple[np.ndarray, np.ndarray]:
    """Expected pair counts per (name, country, legal form) pattern; no labels in them."""
    patterns = np.array([[a, b, c] for a in (0, 1) for b in (0, 1) for c in (0, 1)])

    def share(levels: np.ndarray, probs: tuple[float, ...]) -> float:
        return float(
            np.prod([p if lv == 0 else 1 - p for lv, p in zip(levels, probs, strict=True)])
        )

    counts = np.array([200 * share(p, TRUE_M) + 1_800 * share(p, TRUE_U) for p in patterns])
    return patterns, counts


def test_em_learns_m_high_and_u_low_for_name_agreement_without_labels() -> None:
    patterns, counts = hand_built()
    # A nearly flat start: only a slight tilt towards agreement in m, so that EM knows
    # which of its two classes to call "match".
    tilted = em.Comparison("name", ("same", "different"), (0.6, 0.4), (0.4, 0.6))
    result = em.estimate(
        (tilted, *COMPARISONS[1:]), patterns, counts, prior_pairs=0, max_iterations=1_000
    )
    assert result.converged
    assert result.m[0][0] == pytest.approx(0.95, abs=0.01)  # high m for the same name
    assert result.u[0][0] == pytest.approx(0.02, abs=0.01)  # low u
    assert result.m[1][0] == pytest.approx(0.9, abs=0.01)
    assert result.u[2][0] == pytest.approx(0.2, abs=0.01)
    assert result.prior == pytest.approx(0.1, abs=0.005)
    assert result.weights("name")["same"] == pytest.approx(np.log2(0.95 / 0.02), abs=0.2)
    assert result.probability((0, 0, 0)) > 0.95
    assert result.probability((1, 1, 1)) < 0.001


def test_em_result_does_not_depend_on_pattern_order() -> None:
    patterns, counts = hand_built()
    order = np.array([5, 3, 1, 7, 0, 2, 6, 4])
    a = em.estimate(COMPARISONS, patterns, counts, prior_pairs=0)
    b = em.estimate(COMPARISONS, patterns[order], counts[order], prior_pairs=0)
    assert a.prior == pytest.approx(b.prior)
    for x, y in zip(a.m + a.u, b.m + b.u, strict=True):
        assert np.allclose(x, y)


def test_a_handful_of_pairs_keeps_the_starting_values() -> None:
    start = em.Comparison("name", ("same", "different"), (0.9, 0.1), (0.01, 0.99))
    result = em.estimate((start,), np.array([[0], [0], [1]]), np.array([1, 1, 1]))
    assert result.m[0][0] == pytest.approx(0.9, abs=0.02)
    assert result.u[0][0] == pytest.approx(0.01, abs=0.01)
    assert result.prior == pytest.approx(0.05, abs=0.01)


def test_em_stops_at_the_iteration_cap() -> None:
    patterns, counts = hand_built()
    result = em.estimate(COMPARISONS, patterns, counts, max_iterations=2, tolerance=0)
    assert result.iterations == 2
    assert not result.converged


def test_a_comparison_must_be_a_distribution() -> None:
    with pytest.raises(ValueError, match="sum to 1"):
        em.Comparison("name", ("same", "different"), (0.9, 0.2), (0.5, 0.5))
    with pytest.raises(ValueError, match="one m and one u per level"):
        em.Comparison("name", ("same", "different"), (1.0,), (0.5, 0.5))


def side(*rows: tuple[str, str, str | None, str | None, str | None]) -> pa.Table:
    keys = ("id", "name", "domain", "country", "registration_id")
    return accounts_from_rows([dict(zip(keys, row, strict=True)) for row in rows])


def test_a_typo_pair_without_country_is_a_candidate_and_a_match() -> None:
    # No country on our record, no domain, no shared word beyond the misspelt one: only the
    # one-deletion key on the core name brings the two records together.
    ours = side(("o1", "Sheglecrona Plumbing Systems Ltd", None, None, None))
    theirs = side(
        ("t1", "Sheglecrona Plumbng Systems Limited", None, "UK", None),
        ("t2", "Brimstone Foods", None, "UK", None),
    )
    with connection() as con:
        result, _ = run_in(con, ours, theirs)
        candidates = con.sql(
            """SELECT a.id, b.id FROM candidates p
            JOIN ours a ON a.i = p.ia JOIN theirs b ON b.i = p.ib"""
        ).fetchall()
    assert candidates == [("o1", "t1")]
    assert result.to_pylist() == [
        {
            "our_id": "o1",
            "their_id": "t1",
            "confidence": "medium",
            "reason": "similar name 0.99: 'sheglecrona plumbing systems' ~ 'sheglecrona "
            "plumbng systems' (unique on both sides), same legal form ltd, same generic word "
            "systems",
            "score": result["score"][0].as_py(),
        }
    ]
    assert 0.92 <= result["score"][0].as_py() < 0.99


def test_short_cores_one_edit_apart_are_other_companies() -> None:
    # Six letters: the deletion key makes them a candidate, and one edit in a short core is
    # weak evidence, so no match. Four letters: not even a candidate.
    for name_a, name_b, candidates in (("Kolrax", "Kodrax", 1), ("Kolr", "Kodr", 0)):
        with connection() as con:
            result, _ = run_in(con, side(("o1", name_a, None, None, None)),
                               side(("t1", name_b, None, "GB", None)))  # fmt: skip
            assert con.sql("SELECT count(*) FROM candidates").fetchall() == [(candidates,)]
        assert result.num_rows == 0
