"""A small generic record linker (Fellegi-Sunter) for arbitrary fields, on DuckDB.

The company engine (:mod:`mutualist.matching.match`) is shaped for accounts: names, domains,
registration ids. This module links any two tables described by a list of
:class:`Comparison` objects, e.g. FEBRL person records, and is what the benchmark runs on
FEBRL4. It follows the model Splink popularised:

1. **Candidates**: the union of equi-joins on each blocking key set (``blocking=[["surname"],
   ["date_of_birth"]]``). Values are compared trimmed and lower-cased; empty is null.
2. **Comparison vectors**: each comparison maps a pair to a level, 0 = exact agreement,
   then one level per threshold (Jaro-Winkler similarity at least t, Levenshtein distance at
   most t, absolute numeric difference at most t, dates: a one-character typo, then at most
   t days apart), then "disagree"; a null on either side is "no evidence" (weight 0).
3. **u** (P(level | non-match)) from ``u_pairs`` random pairs, which are almost all
   non-matches.
4. **m** (P(level | match)) by expectation maximisation, once per blocking key set on that
   set's candidates, leaving out the comparisons of the blocked columns (they agree on every
   candidate, so they would teach EM nothing but bias); each comparison's m is the mean of
   its estimates. No labels are used anywhere.
5. **Score**: match weight = log2(prior odds) + sum of log2(m/u); with ``term_frequency``,
   exact agreement on a value uses that value's frequency instead of u (agreeing on a rare
   surname counts more than on "smith"). The prior is the expected number of matches, from
   EM, over all possible pairs.
6. **Resolve**: pairs at or above ``threshold`` probability, then one-to-one: repeatedly keep
   pairs that are each other's best remaining partner (greedy by probability).

The model (m, u, prior) is stored as JSON in the result's schema metadata under
``mutualist.model``, so a result explains itself.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import duckdb
import numpy as np
import pyarrow as pa

__all__ = ["Comparison", "link_records", "one_to_one"]

Kind = Literal["exact", "jaro_winkler", "levenshtein", "numeric", "date"]
Array = np.ndarray

MODEL_KEY = b"mutualist.model"
EM_ITERATIONS = 40
EM_TOLERANCE = 1e-5
FLOOR = 1e-6  # smallest m or u, so no level has infinite weight


@dataclass(frozen=True)
class Comparison:
    """How one field of a pair is compared.

    ``thresholds``: for ``jaro_winkler`` similarities in decreasing order (0.92, 0.8); for
    ``levenshtein`` distances, ``numeric`` absolute differences and ``date`` day differences,
    in increasing order. ``date`` values are parsed with ``date_format`` (DuckDB strptime) and
    also get a level for a one-character typo (Damerau-Levenshtein distance 1) before the day
    thresholds. ``term_frequency`` adjusts exact agreement by how common the value is.
    """

    column: str
    kind: Kind = "exact"
    thresholds: tuple[float, ...] = ()
    term_frequency: bool = False
    date_format: str = "%Y%m%d"

    @property
    def levels(self) -> int:
        """Number of non-null levels: exact, one per threshold (+ typo for dates), else."""
        if self.kind == "exact":
            return 2
        return 2 + len(self.thresholds) + (1 if self.kind == "date" else 0)

    def level_sql(self, left: str, right: str) -> str:
        """DuckDB expression: -1 when either value is null, else the level (0 = exact)."""
        conditions = [f"{left} = {right}"]
        if self.kind == "jaro_winkler":
            conditions += [
                f"jaro_winkler_similarity({left}, {right}) >= {float(t)!r}" for t in self.thresholds
            ]
        elif self.kind == "levenshtein":
            conditions += [f"levenshtein({left}, {right}) <= {int(t)}" for t in self.thresholds]
        elif self.kind == "numeric":
            diff = f"abs(try_cast({left} AS DOUBLE) - try_cast({right} AS DOUBLE))"
            conditions += [f"{diff} <= {float(t)!r}" for t in self.thresholds]
        elif self.kind == "date":
            fmt = _literal(self.date_format)
            days = (
                f"abs(date_diff('day', try_strptime({left}, {fmt})::DATE, "
                f"try_strptime({right}, {fmt})::DATE))"
            )
            conditions.append(f"damerau_levenshtein({left}, {right}) <= 1")
            conditions += [f"{days} <= {int(t)}" for t in self.thresholds]
        whens = " ".join(f"WHEN {c} THEN {k}" for k, c in enumerate(conditions))
        return (
            f"CASE WHEN {left} IS NULL OR {right} IS NULL THEN -1 "
            f"{whens} ELSE {len(conditions)} END"
        )


@dataclass
class _Model:
    """m and u per comparison (one entry per level) and the prior match probability."""

    m: list[Array]
    u: list[Array]
    prior: float
    em_rounds: list[dict[str, object]] = field(default_factory=list)

    def weights(self) -> list[Array]:
        return [np.log2(m / u) for m, u in zip(self.m, self.u, strict=True)]

    def to_json(self, comparisons: Sequence[Comparison]) -> str:
        return json.dumps(
            {
                "prior": self.prior,
                "comparisons": [
                    {"column": c.column, "kind": c.kind, "m": m.tolist(), "u": u.tolist()}
                    for c, m, u in zip(comparisons, self.m, self.u, strict=True)
                ],
                "em": self.em_rounds,
            }
        )


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _columns(comparisons: Sequence[Comparison], blocking: Sequence[Sequence[str]]) -> list[str]:
    names = [c.column for c in comparisons] + [col for rule in blocking for col in rule]
    return list(dict.fromkeys(names))


def _register(
    con: duckdb.DuckDBPyConnection, name: str, table: pa.Table, id_column: str, columns: list[str]
) -> None:
    missing = [c for c in [id_column, *columns] if c not in table.column_names]
    if missing:
        raise ValueError(f"{name} table lacks column(s) {', '.join(missing)}")
    rows = pa.array(np.arange(table.num_rows, dtype=np.int64))
    con.register(f"{name}_raw", table.select(columns).append_column("_row", rows))
    cleaned = ", ".join(
        f"nullif(lower(trim(CAST({_ident(c)} AS VARCHAR))), '') AS {_ident(c)}" for c in columns
    )
    con.execute(f"CREATE TEMP TABLE {name} AS SELECT _row, {cleaned} FROM {name}_raw")


def _candidates(con: duckdb.DuckDBPyConnection, blocking: Sequence[Sequence[str]]) -> None:
    """Table ``pairs(lr, rr, rules)``: each blocked pair once, ``rules`` a bitmask of rules."""
    if not blocking or any(not rule for rule in blocking) or len(blocking) > 62:
        raise ValueError("blocking needs 1 to 62 non-empty key sets")
    joins = []
    for k, rule in enumerate(blocking):
        on = " AND ".join(f"l.{_ident(c)} = r.{_ident(c)}" for c in rule)
        joins.append(f"SELECT l._row AS lr, r._row AS rr, {1 << k} AS bit FROM l JOIN r ON {on}")
    con.execute(
        "CREATE TEMP TABLE pairs AS SELECT lr, rr, bit_or(bit)::BIGINT AS rules FROM ("
        + " UNION ALL ".join(joins)
        + ") GROUP BY lr, rr"
    )


def _gamma(
    con: duckdb.DuckDBPyConnection, pairs: str, comparisons: Sequence[Comparison]
) -> dict[str, Array]:
    """Comparison levels of every pair in table ``pairs`` (int8 matrix ``gamma``)."""
    levels = ", ".join(
        f"{c.level_sql('l.' + _ident(c.column), 'r.' + _ident(c.column))}::TINYINT AS g{k}"
        for k, c in enumerate(comparisons)
    )
    extra = ", p.rules" if pairs == "pairs" else ""
    order = " ORDER BY p.lr, p.rr" if extra else ""  # candidates in a stable order
    sql = (
        f"SELECT p.lr, p.rr{extra}, {levels} FROM {pairs} p "
        f"JOIN l ON l._row = p.lr JOIN r ON r._row = p.rr{order}"
    )
    table = con.sql(sql).to_arrow_table()
    gamma = np.column_stack(
        [table[f"g{k}"].to_numpy() for k in range(len(comparisons))]
        or [np.zeros(table.num_rows, np.int8)]
    ).astype(np.int8)
    out = {"lr": table["lr"].to_numpy(), "rr": table["rr"].to_numpy(), "gamma": gamma}
    if extra:
        out["rules"] = table["rules"].to_numpy()
    return out


def _estimate_u(
    con: duckdb.DuckDBPyConnection,
    comparisons: Sequence[Comparison],
    n_left: int,
    n_right: int,
    u_pairs: int,
    seed: int,
) -> list[Array]:
    rng = np.random.default_rng(seed)
    k = min(u_pairs, n_left * n_right)
    sample = pa.table({"lr": rng.integers(n_left, size=k), "rr": rng.integers(n_right, size=k)})
    con.register("u_sample", sample)
    gamma = _gamma(con, "u_sample", comparisons)["gamma"]
    u = []
    for j, c in enumerate(comparisons):
        g = gamma[:, j]
        counts = np.bincount(g[g >= 0], minlength=c.levels).astype(float)
        u.append(np.maximum((counts + 0.5) / (counts.sum() + 0.5 * c.levels), FLOOR))
    return u


def _initial_m(levels: int) -> Array:
    """A guess that makes agreement likely: 0.9 on exact, the rest falling off."""
    rest = 0.5 ** np.arange(1, levels)
    return np.concatenate([[0.9], 0.1 * rest / rest.sum()])


def _em(
    gamma: Array, active: list[int], m: list[Array], u: list[Array], prior: float
) -> tuple[list[Array], float, int]:
    """EM for m of the ``active`` comparisons and the share of matches among these pairs."""
    m = [x.copy() for x in m]
    log_u = [np.log(x) for x in u]
    rounds = 0
    while rounds < EM_ITERATIONS:
        rounds += 1
        logit = np.full(len(gamma), math.log(prior / (1 - prior)))
        for j in active:
            g = gamma[:, j]
            w = np.where(g >= 0, np.log(m[j])[np.maximum(g, 0)] - log_u[j][np.maximum(g, 0)], 0)
            logit += w
        p = 1.0 / (1.0 + np.exp(-np.clip(logit, -60, 60)))
        change = 0.0
        for j in active:
            g = gamma[:, j]
            seen = g >= 0
            counts = np.bincount(g[seen], weights=p[seen], minlength=len(m[j]))
            new = np.maximum(counts / max(counts.sum(), FLOOR), FLOOR)
            change = max(change, float(np.abs(new - m[j]).max()))
            m[j] = new / new.sum()
        new_prior = float(np.clip(p.mean(), FLOOR, 1 - FLOOR))
        change = max(change, abs(new_prior - prior))
        prior = new_prior
        if change < EM_TOLERANCE:
            break
    return m, prior, rounds


def _estimate_m(
    comparisons: Sequence[Comparison],
    blocking: Sequence[Sequence[str]],
    candidates: dict[str, Array],
    u: list[Array],
    n_pairs: int,
) -> _Model:
    """EM once per blocking rule; returns m (mean over rules) and the prior over all pairs."""
    estimates: list[list[Array]] = [[] for _ in comparisons]
    expected_matches = 0.0
    rounds: list[dict[str, object]] = []
    gamma, rules = candidates["gamma"], candidates["rules"]
    for k, rule in enumerate(blocking):
        rows = (rules & (1 << k)) != 0
        active = [j for j, c in enumerate(comparisons) if c.column not in rule]
        if rows.sum() == 0 or not active:
            continue
        start = [_initial_m(c.levels) for c in comparisons]
        m, share, n_rounds = _em(gamma[rows], active, start, u, 0.5)
        for j in active:
            estimates[j].append(m[j])
        expected_matches = max(expected_matches, share * int(rows.sum()))
        rounds.append({"rule": list(rule), "pairs": int(rows.sum()), "share": share})
        rounds[-1]["iterations"] = n_rounds
    if any(not e for e in estimates) or expected_matches == 0:
        # Some comparison is blocked on by every rule: learn it from all candidates at once.
        start = [_initial_m(c.levels) for c in comparisons]
        m, share, _ = _em(gamma, list(range(len(comparisons))), start, u, 0.5)
        for j, e in enumerate(estimates):
            if not e:
                e.append(m[j])
        expected_matches = expected_matches or share * len(gamma)
    m_final = [np.mean(e, axis=0) for e in estimates]
    prior = float(np.clip(expected_matches / max(n_pairs, 1), FLOOR, 1 - FLOOR))
    return _Model([x / x.sum() for x in m_final], u, prior, rounds)


def _term_frequencies(con: duckdb.DuckDBPyConnection, column: str) -> Array:
    """For each left row, the share of non-null values (both sides) equal to its value."""
    col = _ident(column)
    sql = f"""
        WITH v AS (SELECT {col} AS v FROM l UNION ALL SELECT {col} FROM r),
        f AS (SELECT v, count(*) / sum(count(*)) OVER () AS tf FROM v WHERE v IS NOT NULL GROUP BY v)
        SELECT l._row, coalesce(f.tf, 1.0) AS tf FROM l LEFT JOIN f ON l.{col} = f.v ORDER BY l._row
    """
    return con.sql(sql).to_arrow_table()["tf"].to_numpy()


def _score(
    con: duckdb.DuckDBPyConnection,
    comparisons: Sequence[Comparison],
    model: _Model,
    candidates: dict[str, Array],
) -> Array:
    """Match probability of every candidate pair."""
    gamma = candidates["gamma"]
    weight = np.full(len(gamma), math.log2(model.prior / (1 - model.prior)))
    for j, (c, w) in enumerate(zip(comparisons, model.weights(), strict=True)):
        g = gamma[:, j]
        weight += np.where(g >= 0, w[np.maximum(g, 0)], 0.0)
        if c.term_frequency:
            tf = np.maximum(_term_frequencies(con, c.column)[candidates["lr"]], FLOOR)
            exact = g == 0
            weight[exact] += np.log2(model.u[j][0] / tf[exact])
    return 1.0 / (1.0 + np.exp2(-np.clip(weight, -200, 200)))


def one_to_one(left: Array, right: Array, score: Array) -> Array:
    """Indices of the pairs kept when each record may link at most once (greedy by score).

    Each round keeps every pair that is the best remaining pair of both its records, then
    drops all pairs touching a kept record; ties go to the lower row numbers.
    """
    order = np.lexsort((right, left, -score))
    left, right = left[order], right[order]
    alive = np.ones(len(order), bool)
    kept: list[Array] = []
    while alive.any():
        idx = np.flatnonzero(alive)
        first_l = idx[np.unique(left[idx], return_index=True)[1]]
        first_r = idx[np.unique(right[idx], return_index=True)[1]]
        mutual = np.intersect1d(first_l, first_r)
        kept.append(mutual)
        alive &= ~np.isin(left, left[mutual]) & ~np.isin(right, right[mutual])
    return np.sort(order[np.concatenate(kept)]) if kept else np.zeros(0, np.int64)


def link_records(
    left: pa.Table,
    right: pa.Table,
    *,
    id_column: str,
    comparisons: Sequence[Comparison],
    blocking: Sequence[Sequence[str]],
    threshold: float = 0.5,
    one_to_one_links: bool = True,
    u_pairs: int = 250_000,
    seed: int = 42,
) -> pa.Table:
    """Pairs (left_id, right_id, probability) that are the same entity, best first.

    Without labels: u from ``u_pairs`` random pairs, m by EM on the blocked candidates.
    ``one_to_one_links=False`` returns every candidate at or above ``threshold``.
    """
    if not comparisons:
        raise ValueError("need at least one comparison")
    if left.num_rows == 0 or right.num_rows == 0:
        empty = {"lr": np.zeros(0, np.int64), "rr": np.zeros(0, np.int64)}
        return _result(left, right, id_column, empty, np.zeros(0), np.zeros(0), None)
    con = duckdb.connect()
    try:
        columns = _columns(comparisons, blocking)
        _register(con, "l", left, id_column, columns)
        _register(con, "r", right, id_column, columns)
        _candidates(con, blocking)
        candidates = _gamma(con, "pairs", comparisons)
        if len(candidates["lr"]) == 0:
            return _result(left, right, id_column, candidates, np.zeros(0), np.zeros(0), None)
        u = _estimate_u(con, comparisons, left.num_rows, right.num_rows, u_pairs, seed)
        model = _estimate_m(comparisons, blocking, candidates, u, left.num_rows * right.num_rows)
        probability = _score(con, comparisons, model, candidates)
    finally:
        con.close()
    keep = np.flatnonzero(probability >= threshold)
    if one_to_one_links:
        lr, rr = candidates["lr"][keep], candidates["rr"][keep]
        keep = keep[one_to_one(lr, rr, probability[keep])]
    keep = keep[np.argsort(-probability[keep], kind="stable")]
    return _result(
        left, right, id_column, candidates, keep, probability, model.to_json(comparisons)
    )


def _result(
    left: pa.Table,
    right: pa.Table,
    id_column: str,
    candidates: dict[str, Array],
    keep: Array,
    probability: Array,
    model: str | None,
) -> pa.Table:
    keep = keep.astype(np.int64)
    result = pa.table(
        {
            "left_id": left[id_column].take(pa.array(candidates["lr"][keep])).cast(pa.string()),
            "right_id": right[id_column].take(pa.array(candidates["rr"][keep])).cast(pa.string()),
            "probability": pa.array(probability[keep], pa.float64()),
        }
    )
    return result.replace_schema_metadata({MODEL_KEY: (model or "{}").encode()})
