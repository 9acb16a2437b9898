"""Which of our accounts are which of theirs: normalise, block, score, decide, resolve one-to-one.

The cascade (account-mapping reference, section 7.1), precision first:

- exact: same registrable domain, or same registration id. One-to-many is allowed here (two CRM
  records of one company are both matched). Keys shared by more than KEY_GROUP_CAP records on a
  side (a parent's website copied onto its subsidiaries) are not exact evidence.
- high / medium: name evidence (EVIDENCE_SQL), a sum of log2 likelihood ratios, one per
  comparison: how alike the names are (same normalised name, same core, one typo in a long
  core), how many groups on either side share the name, and whether country (the field, else
  the country-code TLD of the domain), legal form (canonical: Ltd = Limited), generic word and
  domain agree, disagree or are unknown. Country and generic-word disagreements cost evidence
  (branch offices, renamed divisions); two different legal forms or registration ids, or domains
  with unrelated labels, rule a pair out. high needs HIGH_EVIDENCE and the same name or core,
  medium MEDIUM_EVIDENCE.
- one-to-one for high / medium: records of one side that are the same company's duplicates
  (DUPLICATE_SQL) form a group; a pair is kept when each record's best group on the other side
  is the other record's group, and no other group ties with it.

The weights were fitted by logistic regression on the candidate pairs of synth.py at 100k x
100k (seed 7) and rounded; the thresholds were read off the precision/recall curve after
one-to-one resolution at 100k and 300k, where name collisions are commoner (high: about 0.99
precise at 300k; the medium band about 0.94). Evidence between 2.5 and 3.5 (a unique core with
only the country agreeing, a unique name with a differing country) is 0.85 precise and left out.

Everything runs in DuckDB over Arrow tables; Python touches only unique non-ASCII names, unique
domains the SQL cannot reduce on its own, and unique country spellings.
"""

from __future__ import annotations

import os
import tempfile
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import duckdb
import pyarrow as pa

from mutualist.lib.countries import COUNTRY_BY_NAME, COUNTRY_CODES, country_code
from mutualist.matching import domains, names

CONFIDENCE_TIERS = ("exact", "high", "medium")
PREPARED_COLUMNS = (
    "name_norm",
    "name_core",
    "domain_norm",
    "domain_label",
    "country_code",
    "registration_norm",
)
OUTPUT_SCHEMA = pa.schema(
    [
        ("our_id", pa.string()),
        ("their_id", pa.string()),
        ("confidence", pa.string()),
        ("reason", pa.string()),
        ("score", pa.float64()),
    ]
)

Progress = Callable[[str, float], None]
_INPUT_COLUMNS = ("id", "name", "domain", "country", "registration_id")

KEY_GROUP_CAP = 20  # records per side sharing a domain / registration id and still "exact"
NAME_BLOCK_CAP = 50  # pairs a shared name or core may create
FUZZY_BLOCK_CAP = 400  # pairs a (country, token) block may create
FUZZY_MIN = 0.95  # Jaro-Winkler a different-core pair needs to be considered at all
TYPO_JW_FILTER = 0.8  # every single edit in a core of 5+ characters scores above this
HIGH_EVIDENCE = 5.5
MEDIUM_EVIDENCE = 3.5
# Log2 odds of "same company" for a candidate pair: a base plus one term per comparison
# (see module docstring). A unique shared name with only the country agreeing scores 3.8
# (medium, about 0.94 precise on synth.py); add an agreeing legal form (7.8) or generic word
# (8.0) and it is high.
EVIDENCE_SQL = """-1.2
    + CASE WHEN name_level = 3 THEN 2.6 WHEN name_level = 2 THEN 1.3
        WHEN typo AND length(ac) >= 8 THEN 1.5 WHEN typo AND length(ac) >= 5 THEN -3.6
        ELSE -3.0 END
    + CASE WHEN name_freq <= 1 THEN 2.7 WHEN name_freq = 2 THEN 0.2
        WHEN name_freq = 3 THEN -1.6 ELSE -2.4 END
    + CASE WHEN same_country_any THEN 2.6 WHEN ak <> bk THEN -2.4
        WHEN coalesce(ak, akt) <> coalesce(bk, bkt) THEN -2.9 ELSE 1.6 END
    + CASE WHEN alf = blf THEN 1.4 ELSE -2.6 END
    + CASE WHEN agw = bgw THEN 2.8 WHEN agw <> bgw THEN -2.5 ELSE -1.4 END
    + CASE WHEN same_label THEN -1.3 WHEN ad <> bd THEN -1.0 ELSE 1.1 END"""
DUCKDB_MEMORY = os.environ.get("MUTUALIST_MATCH_MEMORY", "2500MB")

# Spellings CRMs use that lib.countries does not know (after lowercasing, accents and dots removed).
EXTRA_COUNTRIES = {
    "deutschland": "DE", "brasil": "BR", "espana": "ES", "italia": "IT", "sverige": "SE",
    "schweiz": "CH", "suisse": "CH", "svizzera": "CH", "eire": "IE", "belgique": "BE",
    "belgie": "BE", "danmark": "DK", "polska": "PL", "holland": "NL", "nederland": "NL",
    "osterreich": "AT", "norge": "NO", "suomi": "FI", "nippon": "JP", "republic of korea": "KR",
    "united states of america": "US", "usa": "US", "us": "US", "gbr": "GB", "deu": "DE",
    "fra": "FR", "can": "CA", "aus": "AU", "nld": "NL", "jpn": "JP", "ind": "IN", "bra": "BR",
    "esp": "ES", "ita": "IT", "swe": "SE", "che": "CH", "sgp": "SG", "irl": "IE", "mex": "MX",
    "bel": "BE", "dnk": "DK", "pol": "PL", "chn": "CN", "aut": "AT", "nor": "NO", "fin": "FI",
}  # fmt: skip


def normalize_country(value: str | None) -> str | None:
    """ISO 3166 alpha-2 code for a code or a common name in English or the local language."""
    if value is None or not value.strip():
        return None
    found = country_code(value)
    if found:
        return found
    text = unicodedata.normalize("NFKD", value.strip().lower())
    text = "".join(c for c in text if not unicodedata.combining(c)).replace(".", "").strip()
    if len(text) == 2 and text.upper() in COUNTRY_CODES:
        return text.upper()
    return COUNTRY_BY_NAME.get(text) or EXTRA_COUNTRIES.get(text)


@contextmanager
def _connection() -> Iterator[duckdb.DuckDBPyConnection]:
    with tempfile.TemporaryDirectory(prefix="mutualist-match-") as spill:
        con = duckdb.connect(
            config={
                "threads": 2,
                "memory_limit": DUCKDB_MEMORY,
                "temp_directory": spill,
                "preserve_insertion_order": False,
            }
        )
        try:
            yield con
        finally:
            con.close()


def _python_column(
    con: duckdb.DuckDBPyConnection, sql: str, func: Callable[[str], str | None], name: str
) -> None:
    """Create table `name` (value, result) by running `func` over the values `sql` returns."""
    values = con.sql(sql).to_arrow_table().column(0).to_pylist()
    results = [func(v) for v in values]
    table = pa.table(
        {"value": pa.array(values, pa.string()), "result": pa.array(results, pa.string())}
    )
    con.register(f"{name}_arrow", table)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_arrow")
    con.unregister(f"{name}_arrow")


def _prepare_keys(con: duckdb.DuckDBPyConnection, sources: list[str]) -> None:
    """Lookup tables raw value -> normalised value, shared by all `sources` (registered tables)."""
    union = " UNION ".join(f"SELECT {{col}} AS v FROM {s}" for s in sources)

    def distinct(col: str) -> str:
        return f"SELECT DISTINCT v FROM ({union.format(col=col)}) WHERE v IS NOT NULL"

    con.execute(f"CREATE OR REPLACE TEMP TABLE raw_names AS {distinct('name')}")
    _python_column(
        con, "SELECT v FROM raw_names WHERE strlen(v) <> length(v)", names.fold, "folded_names"
    )
    folded = f"coalesce(f.result, {names.fold_sql('r.v')})"
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE name_keys AS
        SELECT r.v AS name, {names.the_sql(folded)} AS full_name
        FROM raw_names r LEFT JOIN folded_names f ON f.value = r.v"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE name_keys AS
        SELECT name, full_name, {names.strip_sql("full_name", names.legal_pattern())} AS name_norm
        FROM name_keys"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE name_keys AS
        SELECT name, name_norm, {names.strip_sql("name_norm", names.core_pattern())} AS name_core,
            nullif(trim(substr(full_name, length(name_norm) + 1)), '') AS legal_raw
        FROM name_keys"""
    )
    # The legal form and generic word a record shows, canonical ("incorporated" -> "inc").
    spellings = [
        (spelling, canonical, kind)
        for kind, mapping in (("legal", names.legal_forms()), ("generic", names.generic_words()))
        for spelling, canonical in mapping.items()
    ]
    con.register(
        "spellings", pa.table(list(zip(*spellings, strict=True)), ["spelling", "canonical", "kind"])
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE name_keys AS
        SELECT k.name, k.name_norm, k.name_core,
            coalesce(l.canonical, k.legal_raw) AS legal_form,
            coalesce(g.canonical, k.generic_raw) AS generic_word
        FROM (SELECT *, nullif(trim(substr(name_norm, length(name_core) + 1)), '') AS generic_raw
              FROM name_keys) k
        LEFT JOIN spellings l ON l.kind = 'legal' AND l.spelling = k.legal_raw
        LEFT JOIN spellings g ON g.kind = 'generic' AND g.spelling = k.generic_raw"""
    )
    con.unregister("spellings")
    _prepare_domains(con, distinct("domain"))
    tlds = sorted(
        t for t in (c.lower() for c in COUNTRY_CODES) if domains.country_of_domain(f"x.{t}")
    )
    codes = [domains.country_of_domain(f"x.{t}") for t in [*tlds, "uk"]]
    con.register("tld_arrow", pa.table({"tld": [*tlds, "uk"], "code": codes}))
    con.execute("CREATE OR REPLACE TEMP TABLE tld_countries AS SELECT * FROM tld_arrow")
    con.unregister("tld_arrow")
    _python_column(con, distinct("country"), normalize_country, "country_keys")


def _prepare_domains(con: duckdb.DuckDBPyConnection, distinct_sql: str) -> None:
    plain, wild = domains.suffix_rules()
    rules = pa.table(
        {
            "rule": pa.array(sorted(plain | {f"*.{w}" for w in wild}), pa.string()),
        }
    )
    con.register("psl_rules", rules)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE hosts AS
        SELECT v AS raw, {domains.host_sql("v")} AS host FROM ({distinct_sql})"""
    )
    shared = ", ".join(f"'{d}'" for d in sorted(domains.SHARED_DOMAINS | domains.SHARED_HOSTS))
    # "label.tld" (or "www.label.tld") where tld is a public suffix, label.tld is not one and
    # the tld has no wildcard rule: the registrable domain is label.tld, no Python needed.
    pattern = domains.SIMPLE_HOST_SQL
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE simple_hosts AS
        SELECT host, regexp_extract(host, '{pattern}', 2) AS reg,
               regexp_extract(host, '{pattern}', 4) AS tld
        FROM (SELECT DISTINCT host FROM hosts) WHERE regexp_matches(host, '{pattern}')"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE simple_hosts AS
        SELECT s.host, CASE WHEN s.reg IN ({shared}) THEN NULL ELSE s.reg END AS result
        FROM simple_hosts s
        WHERE s.tld IN (SELECT rule FROM psl_rules)
          AND s.reg NOT IN (SELECT rule FROM psl_rules)
          AND '*.' || s.tld NOT IN (SELECT rule FROM psl_rules)"""
    )
    _python_column(
        con,
        """SELECT DISTINCT host FROM hosts WHERE host <> ''
           AND host NOT IN (SELECT host FROM simple_hosts)""",
        domains.registrable,
        "complex_hosts",
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE domain_keys AS
        SELECT h.raw AS domain, coalesce(s.result, c.result) AS domain_norm
        FROM hosts h LEFT JOIN simple_hosts s ON s.host = h.host
        LEFT JOIN complex_hosts c ON c.value = h.host"""
    )
    con.unregister("psl_rules")


# At least five digits and not one character repeated ("000000000"): else a placeholder.
REGISTRATION_SQL = """CASE WHEN length(regexp_replace({reg}, '[^0-9]', '', 'g')) >= 5
    AND length(replace({reg}, left({reg}, 1), '')) > 0 THEN {reg} END"""


def _prepared_sql(source: str) -> str:
    reg = "upper(regexp_replace(s.registration_id, '[^A-Za-z0-9]', '', 'g'))"
    return f"""SELECT s.*, n.name_norm, n.name_core, n.legal_form, n.generic_word, d.domain_norm,
        split_part(d.domain_norm, '.', 1) AS domain_label, c.result AS country_code,
        {REGISTRATION_SQL.format(reg=reg)} AS registration_norm, t.code AS domain_country
    FROM {source} s
    LEFT JOIN name_keys n ON n.name = s.name
    LEFT JOIN domain_keys d ON d.domain = s.domain
    LEFT JOIN country_keys c ON c.value = s.country
    LEFT JOIN tld_countries t ON t.tld = split_part(d.domain_norm, '.', -1)"""


def _with_position(accounts: pa.Table) -> pa.Table:
    return accounts.append_column("_pos", pa.array(range(accounts.num_rows), pa.int64()))


def prepare(accounts: pa.Table) -> pa.Table:
    """`accounts` plus the normalised columns PREPARED_COLUMNS (nulls where unusable)."""
    with _connection() as con:
        con.register("src", _with_position(accounts))
        _prepare_keys(con, ["src"])
        table = con.sql(f"SELECT * FROM ({_prepared_sql('src')}) ORDER BY _pos").to_arrow_table()
    return table.drop_columns(["_pos", "legal_form", "generic_word", "domain_country"])


def _report(progress: Progress | None, stage: str, fraction: float) -> None:
    if progress is not None:
        progress(stage, fraction)


def match_accounts(
    ours: pa.Table, theirs: pa.Table, *, progress: Progress | None = None
) -> pa.Table:
    """Pairs (our_id, their_id, confidence, reason, score); see the module docstring."""
    return run_match(ours, theirs, progress=progress)[0]


def run_match(
    ours: pa.Table, theirs: pa.Table, *, progress: Progress | None = None
) -> tuple[pa.Table, dict[str, int]]:
    """`match_accounts` plus, per side, how many non-empty domains were unusable."""
    with _connection() as con:
        for side, table in (("ours", ours), ("theirs", theirs)):
            con.register(f"src_{side}", table.select(list(_INPUT_COLUMNS)))
        _report(progress, "normalising", 0.0)
        _prepare_keys(con, ["src_ours", "src_theirs"])
        unusable = {side: _prepare_side(con, side) for side in ("ours", "theirs")}
        _report(progress, "finding candidates", 0.3)
        _candidates(con)
        _report(progress, "scoring", 0.6)
        _score(con)
        _report(progress, "resolving", 0.85)
        result = _resolve(con)
    _report(progress, "done", 1.0)
    return result, unusable


# Two records on one side are the same company's duplicate records when they share the
# normalised name, nothing conflicts (country, legal form, generic word, domain) and at least
# one of legal form, domain or registration id agrees. Duplicates form one group: uniqueness
# counts groups, and one-to-one resolution treats a group as one company.
DUPLICATE_SQL = """x.n = y.n AND x.i <> y.i AND x.nf <= {cap}
    AND coalesce(coalesce(x.k, x.kt) = coalesce(y.k, y.kt), true)
    AND coalesce(x.lf = y.lf, true) AND coalesce(x.gw = y.gw, true)
    AND coalesce(x.d = y.d, true) AND coalesce(x.r = y.r, true)
    AND (x.lf = y.lf OR x.d = y.d OR x.r = y.r)"""


def _prepare_side(con: duckdb.DuckDBPyConnection, side: str) -> int:
    """Working table `side` with key frequencies and duplicate groups; unusable domain count."""
    con.execute(f"CREATE TEMP TABLE {side} AS {_side_sql(_prepared_sql(f'src_{side}'))}")
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {side} AS SELECT *,
            count(*) OVER (PARTITION BY n) AS nf, count(*) OVER (PARTITION BY c) AS cf,
            count(*) OVER (PARTITION BY d) AS df, count(*) OVER (PARTITION BY r) AS rf
        FROM {side}"""
    )
    dup = DUPLICATE_SQL.format(cap=KEY_GROUP_CAP)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {side} AS
        WITH dup AS (
            SELECT x.i, least(x.i, min(y.i)) AS g FROM {side} x JOIN {side} y ON {dup}
            WHERE x.nf > 1 GROUP BY x.i
        ), s AS (
            SELECT t.*, coalesce(dup.g, t.i) AS g FROM {side} t LEFT JOIN dup USING (i)
        )
        SELECT s.*, coalesce(nn.nfg, 1) AS nfg, coalesce(cc.cfg, 1) AS cfg FROM s
        LEFT JOIN (SELECT n, count(DISTINCT g) AS nfg FROM s WHERE nf > 1 GROUP BY n) nn USING (n)
        LEFT JOIN (SELECT c, count(DISTINCT g) AS cfg FROM s WHERE cf > 1 GROUP BY c) cc USING (c)"""
    )
    rows = con.sql(f"SELECT count(*) FILTER (bad_domain) FROM {side}").fetchall()
    return int(rows[0][0])


def _side_sql(prepared: str) -> str:
    """One side's working table: row number, keys and blocking tokens."""
    return f"""SELECT row_number() OVER () AS i, id, name_norm AS n, name_core AS c,
        domain_norm AS d, domain_label AS l, country_code AS k, registration_norm AS r,
        legal_form AS lf, generic_word AS gw, domain_country AS kt,
        domain IS NOT NULL AND domain_norm IS NULL AS bad_domain,
        split_part(name_core, ' ', 1) AS t1,
        CASE WHEN name_core LIKE '% %' THEN split_part(name_core, ' ', -1) END AS tl,
        left(replace(name_core, ' ', ''), 4) AS p4,
        right(replace(name_core, ' ', ''), 4) AS s4
    FROM ({prepared})"""


def _pairs_on(key: str, cap: int, where: str = "") -> str:
    """Candidate pairs sharing `key` (a column list), skipping keys with more than `cap` pairs."""
    cols = [c.strip() for c in key.split(",")]
    not_null = " AND ".join(f"{c} IS NOT NULL" for c in cols)
    extra = f" AND {where}" if where else ""
    return f"""SELECT a.i AS ia, b.i AS ib FROM ours a JOIN theirs b USING ({key})
        WHERE ({key}) IN (
            SELECT ({key}) FROM (
                SELECT {key}, count(*) AS na FROM ours WHERE {not_null}{extra} GROUP BY ALL
            ) x JOIN (
                SELECT {key}, count(*) AS nb FROM theirs WHERE {not_null}{extra} GROUP BY ALL
            ) y USING ({key}) WHERE na * nb <= {cap})"""


def _candidates(con: duckdb.DuckDBPyConnection) -> None:
    blocks = [
        _pairs_on("d", KEY_GROUP_CAP * KEY_GROUP_CAP),
        _pairs_on("r", KEY_GROUP_CAP * KEY_GROUP_CAP),
        _pairs_on("n", NAME_BLOCK_CAP),
        _pairs_on("c", NAME_BLOCK_CAP),
        _pairs_on("l", NAME_BLOCK_CAP),
        _pairs_on("k, t1", FUZZY_BLOCK_CAP),
        _pairs_on("k, tl", FUZZY_BLOCK_CAP),
        _pairs_on("k, p4", FUZZY_BLOCK_CAP),
        _pairs_on("k, s4", FUZZY_BLOCK_CAP),
    ]
    con.execute("CREATE TEMP TABLE candidates AS " + " UNION ".join(blocks))


def _score(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"""CREATE TEMP TABLE scored AS
        WITH f AS (
            SELECT p.ia, p.ib, a.id AS our_id, b.id AS their_id,
                a.n AS an, b.n AS bn, a.c AS ac, b.c AS bc, a.d AS ad, b.d AS bd,
                a.l AS al, b.l AS bl, a.k AS ak, b.k AS bk, a.r AS ar, b.r AS br,
                a.lf AS alf, b.lf AS blf, a.gw AS agw, b.gw AS bgw, a.kt AS akt, b.kt AS bkt,
                a.nfg AS n_a, a.cfg AS c_a, a.df AS d_a, a.rf AS r_a, a.g AS ga,
                b.nfg AS n_b, b.cfg AS c_b, b.df AS d_b, b.rf AS r_b, b.g AS gb
            FROM candidates p JOIN ours a ON a.i = p.ia JOIN theirs b ON b.i = p.ib
        ), g AS (
            SELECT *,
                ad = bd AND d_a <= {KEY_GROUP_CAP} AND d_b <= {KEY_GROUP_CAP} AS same_domain,
                ar = br AND r_a <= {KEY_GROUP_CAP} AND r_b <= {KEY_GROUP_CAP} AS same_reg,
                coalesce(ak <> bk, false) AS country_conflict,
                coalesce(ak = bk, false) AS same_country,
                coalesce(ar <> br, false) AS reg_conflict,
                coalesce(ad <> bd AND NOT starts_with(al, bl) AND NOT starts_with(bl, al), false)
                    AS domain_conflict,
                coalesce(alf <> blf, false) AS legal_conflict,
                coalesce(agw <> bgw, false) AS generic_conflict,
                coalesce(ad <> bd AND al = bl, false) AS same_label,
                jaro_winkler_similarity(ac, bc) AS jw_core,
                jaro_winkler_similarity(an, bn) AS jw_name,
                -- One edit between the cores. CASE, not AND, so that DuckDB runs the slow
                -- edit distance only on the few pairs the cheap Jaro-Winkler filter passes.
                CASE WHEN ac <> bc AND abs(length(ac) - length(bc)) <= 1
                    AND jaro_winkler_similarity(ac, bc) >= {TYPO_JW_FILTER}
                    THEN damerau_levenshtein(ac, bc) = 1 ELSE false END AS typo
            FROM f
        )
        , e AS (
            SELECT *,
                CASE WHEN an = bn THEN 3 WHEN ac = bc THEN 2
                    WHEN typo AND length(ac) >= 5 OR greatest(jw_core, jw_name) >= {FUZZY_MIN}
                    THEN 1 ELSE 0 END AS name_level,
                CASE WHEN an = bn THEN greatest(n_a, n_b) ELSE greatest(c_a, c_b) END AS name_freq,
                coalesce(coalesce(ak, akt) = coalesce(bk, bkt), false) AS same_country_any
            FROM g
        ), w AS (
            SELECT *, {EVIDENCE_SQL} AS evidence FROM e
        )
        SELECT *,
            CASE
                WHEN same_domain OR same_reg THEN 'exact'
                WHEN reg_conflict OR domain_conflict OR legal_conflict OR name_level = 0 THEN NULL
                WHEN evidence >= {HIGH_EVIDENCE} AND name_level >= 2 THEN 'high'
                WHEN evidence >= {MEDIUM_EVIDENCE} THEN 'medium'
            END AS confidence,
            CASE WHEN same_domain OR same_reg THEN 1.0
                ELSE round(least(1 / (1 + pow(2, -evidence)), 0.99), 4)
            END AS score
        FROM w"""
    )


def _resolve(con: duckdb.DuckDBPyConnection) -> pa.Table:
    unique = "(an = bn AND n_a = 1 AND n_b = 1) OR (an <> bn AND c_a = 1 AND c_b = 1)"
    quoted = "'''' || {} || ''''"
    name_part = f"""CASE
            WHEN an = bn THEN 'same name ' || {quoted.format("an")}
            WHEN ac = bc THEN 'same name without generic words ' || {quoted.format("ac")}
                || ' (' || {quoted.format("an")} || ' ~ ' || {quoted.format("bn")} || ')'
            ELSE printf('similar name %.2f: ', greatest(jw_core, jw_name))
                || {quoted.format("an")} || ' ~ ' || {quoted.format("bn")}
        END || CASE WHEN {unique} THEN ' (unique on both sides)'
            ELSE ' (shared with other records)' END"""
    reason = f"""CASE
        WHEN same_domain THEN 'same domain ' || ad
        WHEN same_reg THEN 'same registration id ' || ar
        ELSE concat_ws(', ', {name_part},
            CASE WHEN same_country_any THEN 'same country ' || coalesce(ak, akt) END,
            CASE WHEN alf = blf THEN 'same legal form ' || alf END,
            CASE WHEN agw = bgw THEN 'same generic word ' || agw END,
            CASE WHEN same_label THEN 'same domain name ' || {quoted.format("al")}
                || ' (' || ad || ' vs ' || bd || ')' END)
    END"""
    con.execute(
        f"""CREATE TEMP TABLE decided AS
        SELECT ia, ib, ga, gb, our_id, their_id, confidence, {reason} AS reason, score,
            round(evidence + 0.1 * jw_name, 3) AS rank
        FROM scored WHERE confidence IS NOT NULL"""
    )
    # One-to-one for the name tiers: both records must be each other's single best.
    return (
        con.sql(
            """WITH fuzzy AS (
            SELECT * FROM decided WHERE confidence <> 'exact'
        ), a_side AS (  -- each of our records: its best group of theirs, if only one is best
            SELECT ia, arg_max(gb, grank) AS best_gb, max(grank) AS best,
                count(*) FILTER (grank = best_rank) AS n_best
            FROM (SELECT ia, gb, max(rank) AS grank,
                    max(max(rank)) OVER (PARTITION BY ia) AS best_rank
                  FROM fuzzy GROUP BY ia, gb)
            GROUP BY ia
        ), b_side AS (
            SELECT ib, arg_max(ga, grank) AS best_ga, max(grank) AS best,
                count(*) FILTER (grank = best_rank) AS n_best
            FROM (SELECT ib, ga, max(rank) AS grank,
                    max(max(rank)) OVER (PARTITION BY ib) AS best_rank
                  FROM fuzzy GROUP BY ib, ga)
            GROUP BY ib
        )
        SELECT our_id, their_id, confidence, reason, score::DOUBLE AS score FROM decided
        WHERE confidence = 'exact'
        UNION ALL
        SELECT f.our_id, f.their_id, f.confidence, f.reason, f.score::DOUBLE FROM fuzzy f
        JOIN a_side x ON x.ia = f.ia AND x.best_gb = f.gb AND x.n_best = 1
        JOIN b_side y ON y.ib = f.ib AND y.best_ga = f.ga AND y.n_best = 1
        ORDER BY our_id, their_id"""
        )
        .to_arrow_table()
        .cast(OUTPUT_SCHEMA)
    )
