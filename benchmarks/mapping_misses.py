"""Where the company matcher loses recall, and how much recall is possible at all.

    .venv/bin/python benchmarks/mapping_misses.py [--size 100000] [--seed 7] [--examples 5]

Runs ``match.run_in`` on ``synth.generate_companies(size, size)`` (overlap 0.2) and classifies
every true pair the matcher did not return:

(a) never a candidate: which blocking key the pair shares (then the block was over its cap) or,
    when it shares none, what separates the two records (country missing on one side or
    different; how far apart the core names are);
(b) a candidate, but ruled out (a conflict) or scored below the medium threshold;
(c) decided, but lost in the one-to-one step (to a wrong counterpart, or to a tie).

The **ceiling** is the share of true pairs that are distinguishable at all: a pair (o, t) is
not when a record of another company on t's side compares with o exactly as t does (same
normalised name, and the same agreement with o on country, domain and registration id), or
the same holds the other way round. No matcher can pick the right one of two records that
carry the same evidence. "Ceiling with legal form" also counts the legal form and generic
word as evidence, the most the matcher's features could separate.
"""

from __future__ import annotations

import argparse
import time

import duckdb
import pyarrow as pa

from mutualist.matching import match
from mutualist.matching.synth import generate_companies

# Evidence of record x as seen from record y (both rows of the working tables): unknown when
# either side lacks the field, else same / label (same domain label) / differ.
EVIDENCE = {
    "country": """CASE WHEN coalesce({y}.k, {y}.kt) IS NULL OR coalesce({x}.k, {x}.kt) IS NULL
        THEN 'unknown' WHEN coalesce({y}.k, {y}.kt) = coalesce({x}.k, {x}.kt) THEN 'same'
        ELSE 'differ' END""",
    "domain": """CASE WHEN {y}.d IS NULL OR {x}.d IS NULL THEN 'unknown'
        WHEN {y}.d = {x}.d THEN 'same' WHEN {y}.l = {x}.l THEN 'label' ELSE 'differ' END""",
    "registration": """CASE WHEN {y}.r IS NULL OR {x}.r IS NULL THEN 'unknown'
        WHEN {y}.r = {x}.r THEN 'same' ELSE 'differ' END""",
}
EXTRA_EVIDENCE = {
    "legal form": """CASE WHEN {y}.lf IS NULL OR {x}.lf IS NULL THEN 'unknown'
        WHEN {y}.lf = {x}.lf THEN 'same' ELSE 'differ' END""",
    "generic word": """CASE WHEN {y}.gw IS NULL OR {x}.gw IS NULL THEN 'unknown'
        WHEN {y}.gw = {x}.gw THEN 'same' ELSE 'differ' END""",
}


# Why a candidate pair got no confidence (columns of the matcher's `scored` table).
SCORED_OUT_SQL = f"""CASE WHEN s.reg_conflict THEN 'registration ids differ'
    WHEN s.domain_conflict THEN 'unrelated domains' WHEN s.legal_conflict THEN 'legal forms differ'
    WHEN s.nl = {match.NAME_DIFFERENT} THEN 'names not alike'
    ELSE 'match probability ' || CASE WHEN s.probability < 0.5 THEN '< 0.5'
        WHEN s.probability < 0.8 THEN '0.5-0.8' ELSE '0.8-' || {match.MEDIUM_PROBABILITY} END
    END"""


def _same_evidence(x: str, z: str, y: str, evidence: dict[str, str]) -> str:
    """SQL: records x and z compare with record y identically."""
    return " AND ".join(
        f"({e.format(x=x, y=y)}) = ({e.format(x=z, y=y)})" for e in evidence.values()
    )


def _load(con: duckdb.DuckDBPyConnection, size: int, seed: int) -> float:
    """Generate, run the matcher in `con`; tables truth(ia, ib), found(ia, ib, confidence)."""
    data = generate_companies(size, size, overlap=0.2, seed=seed)
    t0 = time.perf_counter()
    result, _ = match.run_in(con, data.ours, data.theirs)
    seconds = time.perf_counter() - t0
    for side, ent in (("ours", data.ours_entity), ("theirs", data.theirs_entity)):
        table = pa.table({"id": getattr(data, side)["id"], "e": pa.array(ent, pa.int64())})
        con.register(f"{side}_entity_arrow", table)
        con.execute(
            f"""CREATE TEMP TABLE {side}_e AS SELECT s.i, x.e FROM {side} s
            JOIN {side}_entity_arrow x USING (id)"""
        )
    con.register("truth_arrow", data.truth)
    con.register("result_arrow", result)
    con.execute(
        """CREATE TEMP TABLE truth AS SELECT a.i AS ia, b.i AS ib FROM truth_arrow t
        JOIN ours a ON a.id = t.our_id JOIN theirs b ON b.id = t.their_id"""
    )
    con.execute(
        """CREATE TEMP TABLE found AS SELECT a.i AS ia, b.i AS ib, r.confidence
        FROM result_arrow r JOIN ours a ON a.id = r.our_id JOIN theirs b ON b.id = r.their_id"""
    )
    return seconds


def _confusable(evidence: dict[str, str]) -> str:
    """SQL: the true pairs (ia, ib) that some other company's record ties with."""
    theirs_tie = f"""SELECT p.ia, p.ib FROM truth p
        JOIN ours a ON a.i = p.ia JOIN theirs b ON b.i = p.ib JOIN ours_e ea ON ea.i = p.ia
        JOIN theirs z ON z.n IN (b.n, a.n) JOIN theirs_e ez ON ez.i = z.i
        WHERE ez.e <> ea.e AND {_same_evidence("b", "z", "a", evidence)}"""
    ours_tie = f"""SELECT p.ia, p.ib FROM truth p
        JOIN ours a ON a.i = p.ia JOIN theirs b ON b.i = p.ib JOIN theirs_e eb ON eb.i = p.ib
        JOIN ours z ON z.n IN (a.n, b.n) JOIN ours_e ez ON ez.i = z.i
        WHERE ez.e <> eb.e AND {_same_evidence("a", "z", "b", evidence)}"""
    return f"SELECT DISTINCT * FROM ({theirs_tie} UNION ALL {ours_tie})"


def _classify(con: duckdb.DuckDBPyConnection) -> None:
    """Table misses(ia, ib, stage, detail, confusable) for every true pair not found."""
    shared_keys = " || ".join(
        f"CASE WHEN {' AND '.join(f'a.{c} = b.{c}' for c in key)} THEN '{'+'.join(key)} ' "
        "ELSE '' END"
        for key in match.BLOCKING_KEYS
    )
    con.execute(f"CREATE TEMP TABLE confusable AS {_confusable(EVIDENCE)}")
    con.execute(
        f"""CREATE TEMP TABLE misses AS
        SELECT p.ia, p.ib,
            CASE WHEN s.ia IS NULL THEN 'a never a candidate'
                WHEN s.confidence IS NULL THEN 'b scored out'
                ELSE 'c lost one-to-one' END AS stage,
            CASE WHEN s.ia IS NULL THEN
                CASE WHEN {shared_keys} <> '' AND NOT coalesce(({match.DECIDABLE_SQL}), false)
                    THEN 'names not alike (dropped before scoring)'
                WHEN {shared_keys} <> '' THEN 'over cap: ' || trim({shared_keys})
                    ELSE 'no shared key, country '
                        || CASE WHEN a.k IS NULL OR b.k IS NULL THEN 'missing on a side'
                            WHEN a.k <> b.k THEN 'differs' ELSE 'same' END
                        || ', core edit distance '
                        || CASE WHEN damerau_levenshtein(a.c, b.c) <= 2
                            THEN damerau_levenshtein(a.c, b.c)::VARCHAR ELSE '3+' END
                END
            WHEN s.confidence IS NULL THEN {SCORED_OUT_SQL}
            ELSE CASE WHEN EXISTS (SELECT 1 FROM found f WHERE f.ia = p.ia AND f.ib <> p.ib)
                THEN 'a wrong counterpart kept' ELSE 'tie, both dropped' END
            END AS detail,
            c.ia IS NOT NULL AS confusable
        FROM truth p
        LEFT JOIN found f USING (ia, ib)
        LEFT JOIN scored s USING (ia, ib)
        LEFT JOIN confusable c USING (ia, ib)
        JOIN ours a ON a.i = p.ia JOIN theirs b ON b.i = p.ib
        WHERE f.ia IS NULL"""
    )


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    return int(con.sql(f"SELECT count(*) FROM {sql}").fetchall()[0][0])


def _print_report(con: duckdb.DuckDBPyConnection, seconds: float, examples: int) -> None:
    n_truth, n_found = _count(con, "truth"), _count(con, "found")
    hits = _count(con, "found JOIN truth USING (ia, ib)")
    n_conf = _count(con, "confusable")
    n_conf_lf = _count(con, f"({_confusable(EVIDENCE | EXTRA_EVIDENCE)})")
    found_conf = _count(con, "found JOIN confusable USING (ia, ib)")
    print(f"matcher: {seconds:.1f} s, {n_found:,} pairs, precision {hits / n_found:.4f}, "
          f"recall {hits / n_truth:.4f} ({hits:,} of {n_truth:,} true pairs)")  # fmt: skip
    print(
        f"ceiling (name + country + domain + registration id): {1 - n_conf / n_truth:.4f} "
        f"({n_conf:,} true pairs tie with another company's record; {found_conf:,} of them "
        f"were returned anyway)"
    )
    print(f"ceiling with legal form and generic word: {1 - n_conf_lf / n_truth:.4f}")
    print(f"missed: {n_truth - hits:,}")
    rows = con.sql(
        """SELECT stage, detail, count(*) AS n, count(*) FILTER (confusable) AS confusable
        FROM misses GROUP BY ALL ORDER BY stage, n DESC"""
    ).fetchall()
    print(f"{'stage':<22} {'detail':<62} {'pairs':>7} {'of them tie':>12}")
    for stage, detail, n, conf in rows:
        print(f"{stage:<22} {detail:<62} {n:>7,} {conf:>12,}")
    if examples:
        sample = con.sql(
            f"""SELECT m.stage, m.detail, a.id, a.n, a.k, a.d, b.id, b.n, b.k, b.d FROM misses m
            JOIN ours a ON a.i = m.ia JOIN theirs b ON b.i = m.ib WHERE NOT m.confusable
            QUALIFY row_number() OVER (PARTITION BY m.stage ORDER BY hash(m.ia)) <= {examples}
            ORDER BY m.stage"""
        ).fetchall()
        print("examples of distinguishable misses:")
        for row in sample:
            print("  ", " | ".join(str(x) for x in row))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--size", type=int, default=100_000, help="records per side")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--examples", type=int, default=5, help="sample misses to print per stage")
    args = ap.parse_args()
    with match.connection() as con:
        seconds = _load(con, args.size, args.seed)
        _classify(con)
        _print_report(con, seconds, args.examples)


if __name__ == "__main__":
    main()
