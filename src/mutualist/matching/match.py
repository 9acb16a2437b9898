"""Which of our accounts are which of theirs: normalise, block, score, decide, resolve one-to-one.

The cascade (account-mapping reference, section 7.1), precision first:

- exact: same registrable domain, or same registration id. One-to-many is allowed here (two CRM
  records of one company are both matched). Keys shared by more than KEY_GROUP_CAP records on a
  side (a parent's website copied onto its subsidiaries) are not exact evidence.
- candidates: the union of equi-joins on BLOCKING_KEYS (domain, registration id, name, core,
  domain label, country + the first word or 4-letter prefix / suffix of the core, hashed into
  one integer), each key skipped when it would pair too many records, plus cores one edit
  apart (a one-deletion key, SymSpell style, kept only where it is rare on both sides), which
  needs no country and no shared word.
  Only pairs that can be decided stay (DECIDABLE_SQL: names alike, or the same domain or
  registration id); the rest would be vetoed whatever their weight.
- high / medium: a Fellegi-Sunter match probability. Each candidate pair gets one level per
  comparison (COMPARISONS, LEVEL_SQL): how alike the names are, how many groups on either
  side share the name or core and whether a word of it is rare in both lists, together with
  the domain and the generic word; country (the field, else the country-code TLD of the
  domain) together with the legal form (canonical: Ltd = Limited); registration id. m and u
  per level and the share of matches are estimated by EM (em.py) on this run's own
  candidate pairs with alike names, no labels involved; the match weight is the log2
  prior odds plus log2(m/u) of each level. Two different legal forms or registration ids,
  domains with unrelated labels, or names that are not alike rule a pair out whatever EM says.
  high needs probability HIGH_PROBABILITY and the same name or core, medium
  MEDIUM_PROBABILITY.
- one-to-one for high / medium: records of one side that are the same company's duplicates
  (DUPLICATE_SQL) form a group; a pair is kept when each record's best group on the other side
  is the other record's group, and no other group ties with it.

The thresholds are posterior probabilities, not fitted weights; see decision 0014 for how they
were chosen and what they give on the synthetic benchmark (benchmarks/mapping_misses.py
explains the misses).

Everything runs in DuckDB over Arrow tables; Python touches only unique non-ASCII names, unique
domains the SQL cannot reduce on its own, and unique country spellings.
"""

from __future__ import annotations

import itertools
import math
import os
import tempfile
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import duckdb
import numpy as np
import pyarrow as pa

from mutualist.lib.countries import COUNTRY_BY_NAME, COUNTRY_CODES, country_code
from mutualist.matching import domains, em, names

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
DELETION_MIN = 5  # shorter cores one edit apart are other names ("Kolra" / "Kodra")
DELETION_BLOCK_CAP = 4  # pairs a one-deletion key may create: typos of rare names only
TYPO_JW_FILTER = 0.8  # every single edit in a core of 5+ characters scores above this
HIGH_PROBABILITY = 0.99  # EM posterior a same-name / same-core pair needs for "high"
MEDIUM_PROBABILITY = 0.92  # and any alike pair for "medium"

# The comparisons EM weighs, one level per candidate pair each (LEVEL_SQL), with starting
# values that are also the prior on a small upload (see em.py): m = P(level | same company),
# u = P(level | two companies) among candidate pairs with alike names.
COUNTRY = em.Comparison(
    "country",
    ("same", "same by domain", "different", "different by domain", "unknown"),
    (0.72, 0.08, 0.01, 0.01, 0.18),
    (0.55, 0.02, 0.15, 0.06, 0.22),
)
LEGAL_FORM = em.Comparison(
    "legal form", ("same", "different", "unknown"), (0.5, 0.01, 0.49), (0.2, 0.3, 0.5)
)


def _joint(*parts: em.Comparison) -> em.Comparison:
    """One comparison for several that depend on each other among non-matches, one level per
    combination of theirs (the last part varies fastest; see LEVEL_SQL). Weighing dependent
    comparisons separately counts the same agreement more than once."""
    levels = tuple(
        ", ".join(f"{level} {part.name}" for level, part in zip(combo, parts, strict=True))
        for combo in itertools.product(*(part.levels for part in parts))
    )
    m = tuple(math.prod(combo) for combo in itertools.product(*(p.m_start for p in parts)))
    u = tuple(math.prod(combo) for combo in itertools.product(*(p.u_start for p in parts)))
    return em.Comparison(" and ".join(part.name for part in parts), levels, m, u)


NAME = em.Comparison(
    "name",
    ("same, unique, distinctive word", "same, unique, common words", "same, 2 companies",
     "same, 3+ companies", "same core, unique, distinctive word", "same core, unique, common words",
     "same core, shared", "one typo, long core, distinctive word",
     "one typo, long core, common words", "one typo, short core", "different"),
    # A level split by word rarity starts with the unsplit level's m / u ratio on both sides
    # of the split (no belief either way): a small upload, where the starting values decide,
    # scores as before the split; on 100k records EM tells the two apart.
    (0.40, 0.05, 0.04, 0.02, 0.17, 0.03, 0.03, 0.07, 0.01, 0.02, 0.16),
    (0.002 * 8 / 9, 0.002 / 9, 0.002, 0.004, 0.004 * 17 / 20, 0.004 * 3 / 20, 0.008,
     0.001 * 7 / 8, 0.001 / 8, 0.003, 0.976),
)  # fmt: skip
DOMAIN = em.Comparison(
    "domain",
    ("same", "same label", "related labels", "unrelated", "unknown"),
    (0.3, 0.05, 0.05, 0.05, 0.55),
    (0.001, 0.01, 0.02, 0.4, 0.569),
)
GENERIC_WORD = em.Comparison(
    "generic word", ("same", "different", "unknown"), (0.35, 0.1, 0.55), (0.1, 0.3, 0.6)
)
COMPARISONS = (
    # Name, domain and generic word are one comparison: a company's domain is made from its
    # name, so two companies with alike names often have alike domains (delta.com,
    # deltaair.de); weighed apart, a different domain with a related label read as evidence
    # *for* a same-name pair (0.76 precise at 100k, posterior 0.94). And the generic word
    # is part of the name: two names with the same core that are not the same name differ
    # in it by construction, so its level depends on the name's (decision 0014).
    _joint(NAME, DOMAIN, GENERIC_WORD),
    # Legal forms are per country (Inc, GmbH): two companies in one country often share one.
    _joint(COUNTRY, LEGAL_FORM),
    em.Comparison(
        "registration id", ("same", "different", "unknown"), (0.06, 0.01, 0.93), (0.0001, 0.05, 0.9499)
    ),
)  # fmt: skip
# SQL giving each comparison's level (index into its levels) from the pair features in _score.
# rare_word: each of the two cores has a word that is on at most RARE_WORD_RECORDS records of
# both lists together (see _core_rarity).
NAME_LEVEL_SQL = f"""CASE WHEN an = bn THEN CASE WHEN n_max = 1 THEN CASE WHEN rare_word THEN 0
            ELSE 1 END WHEN n_max = 2 THEN 2 ELSE 3 END
        WHEN ac = bc THEN CASE WHEN c_max = 1 THEN CASE WHEN rare_word THEN 4 ELSE 5 END ELSE 6 END
        WHEN typo AND length(ac) >= 8 THEN CASE WHEN rare_word THEN 7 ELSE 8 END
        WHEN typo AND length(ac) >= {DELETION_MIN} THEN 9
        ELSE 10 END"""
_DOMAIN_LEVEL = """CASE WHEN ad = bd THEN 0 WHEN al = bl THEN 1 WHEN domain_conflict THEN 3
        WHEN ad <> bd THEN 2 ELSE 4 END"""
_GENERIC_LEVEL = "CASE WHEN agw = bgw THEN 0 WHEN agw <> bgw THEN 1 ELSE 2 END"
_COUNTRY_LEVEL = """CASE WHEN ak = bk THEN 0 WHEN coalesce(ak, akt) = coalesce(bk, bkt) THEN 1
        WHEN ak <> bk THEN 2 WHEN coalesce(ak, akt) <> coalesce(bk, bkt) THEN 3 ELSE 4 END"""
_LEGAL_LEVEL = "CASE WHEN alf = blf THEN 0 WHEN alf <> blf THEN 1 ELSE 2 END"
LEVEL_SQL = {
    "name and domain and generic word": f"""(nl * {len(DOMAIN.levels)} + ({_DOMAIN_LEVEL}))
        * {len(GENERIC_WORD.levels)} + ({_GENERIC_LEVEL})""",
    "country and legal form": f"({_COUNTRY_LEVEL}) * {len(LEGAL_FORM.levels)} + {_LEGAL_LEVEL}",
    "registration id": "CASE WHEN ar = br THEN 0 WHEN ar <> br THEN 1 ELSE 2 END",
}
NAME_DIFFERENT = 10  # the name level (nl) that rules a pair out of the name tiers
HIGH_NAME_LEVEL = 6  # "high" needs the same name or the same core (name levels 0-6)
RARE_WORD_RECORDS = 4  # one company's records on both lists, a duplicate on each side
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
def connection() -> Iterator[duckdb.DuckDBPyConnection]:
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
    # UNION ALL: the DISTINCT below removes duplicates once (UNION did it twice, 0.3 s at 1M).
    union = " UNION ALL ".join(f"SELECT {{col}} AS v FROM {s}" for s in sources)

    def distinct(col: str) -> str:
        return f"SELECT DISTINCT v FROM ({union.format(col=col)}) WHERE v IS NOT NULL"

    con.execute(f"CREATE OR REPLACE TEMP TABLE raw_names AS {distinct('name')}")
    _python_column(
        con, "SELECT v FROM raw_names WHERE strlen(v) <> length(v)", names.fold, "folded_names"
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
    con.execute(f"CREATE OR REPLACE TEMP TABLE name_keys AS {_name_keys_sql()}")
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


def _name_keys_sql() -> str:
    """name -> name_norm, name_core, legal_form, generic_word, from `raw_names`,
    `folded_names` and `spellings`. One statement, each stage a subquery of the next: a table
    per stage wrote two million names three times over at 1M."""
    folded = f"""SELECT r.v AS name, coalesce(f.result, {names.fold_sql("r.v")}) AS folded
        FROM raw_names r LEFT JOIN folded_names f ON f.value = r.v"""
    full = f"SELECT name, {names.the_sql('folded')} AS full_name FROM ({folded})"
    norm = f"""SELECT name, full_name,
            {names.strip_sql("full_name", names.legal_pattern())} AS name_norm
        FROM ({full})"""
    core = f"""SELECT name, name_norm,
            {names.strip_sql("name_norm", names.core_pattern())} AS name_core,
            nullif(trim(substr(full_name, length(name_norm) + 1)), '') AS legal_raw
        FROM ({norm})"""
    return f"""SELECT k.name, k.name_norm, k.name_core,
            coalesce(l.canonical, k.legal_raw) AS legal_form,
            coalesce(g.canonical, k.generic_raw) AS generic_word
        FROM (SELECT *, nullif(trim(substr(name_norm, length(name_core) + 1)), '') AS generic_raw
              FROM ({core})) k
        LEFT JOIN spellings l ON l.kind = 'legal' AND l.spelling = k.legal_raw
        LEFT JOIN spellings g ON g.kind = 'generic' AND g.spelling = k.generic_raw"""


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
    # "label.suffix" (or "www.label.suffix"; suffix "tld" or "sld.tld") where the suffix is a
    # public suffix, label.suffix is not one and the suffix has no wildcard rule: the
    # registrable domain is label.suffix, no Python needed. (A longer rule would have to be
    # label.suffix or come from a wildcard on the suffix; an exception rule needs a wildcard.)
    con.execute(f"CREATE OR REPLACE TEMP TABLE simple_hosts AS {_simple_hosts_sql()}")
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE simple_hosts AS
        SELECT s.host, CASE WHEN s.reg IN ({shared}) THEN NULL ELSE s.reg END AS result
        FROM simple_hosts s
        WHERE s.suffix IN (SELECT rule FROM psl_rules)
          AND s.reg NOT IN (SELECT rule FROM psl_rules)
          AND '*.' || s.suffix NOT IN (SELECT rule FROM psl_rules)"""
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


def _simple_hosts_sql() -> str:
    """(host, reg, suffix) for the distinct hosts of `hosts` of a SIMPLE_HOST_SQL or
    SIMPLE_HOST2_SQL shape: reg is the host without "www.", suffix what follows its first
    label. Full matches and string functions, no regexp_extract: RE2 extracting groups was
    most of the time here, and the second shape took 125k of the 1M benchmark's hosts to
    Python (1.2 s)."""
    one, two = domains.SIMPLE_HOST_SQL, domains.SIMPLE_HOST2_SQL
    # A host of the first shape has one dot, or two after "www."; of the second, two or three.
    www_dots = "CASE WHEN one THEN 2 ELSE 3 END"
    dots = "strlen(host) - strlen(replace(host, '.', ''))"
    return f"""SELECT host, reg, substr(reg, strpos(reg, '.') + 1) AS suffix FROM (
        SELECT host, CASE WHEN starts_with(host, 'www.') AND {dots} = {www_dots}
            THEN substr(host, 5) ELSE host END AS reg
        FROM (SELECT host, regexp_full_match(host, '{one}') AS one
              FROM (SELECT DISTINCT host FROM hosts))
        WHERE one OR regexp_full_match(host, '{two}'))"""


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
    """`accounts` plus `_pos`, each row's position: it orders `prepare`'s output and numbers
    the working tables' records (`i`; ``row_number() OVER ()`` is a single-threaded window,
    0.5 s per side at 1M)."""
    return accounts.append_column("_pos", pa.array(np.arange(accounts.num_rows, dtype=np.int64)))


def prepare(accounts: pa.Table) -> pa.Table:
    """`accounts` plus the normalised columns PREPARED_COLUMNS (nulls where unusable)."""
    with connection() as con:
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
    with connection() as con:
        return run_in(con, ours, theirs, progress=progress)


def run_in(
    con: duckdb.DuckDBPyConnection,
    ours: pa.Table,
    theirs: pa.Table,
    *,
    progress: Progress | None = None,
) -> tuple[pa.Table, dict[str, int]]:
    """`run_match` on an open connection, leaving its working tables there for analysis
    (`ours`, `theirs`, their duplicate groups `ours_groups`, `theirs_groups`, `candidates`,
    `scored`; the last two hold decidable pairs only, see DECIDABLE_SQL)."""
    for side, table in (("ours", ours), ("theirs", theirs)):
        con.register(f"src_{side}", _with_position(table.select(list(_INPUT_COLUMNS))))
    _report(progress, "normalising", 0.0)
    _prepare_keys(con, ["src_ours", "src_theirs"])
    unusable = {side: _prepare_side(con, side) for side in ("ours", "theirs")}
    _drop_key_tables(con)
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


# The lookup tables of _prepare_keys: raw value -> normalised value. Once both working
# tables exist nothing reads them; at 1M they hold about 300 MB that the candidate joins,
# which run near DUCKDB_MEMORY, would otherwise spill to disk for.
KEY_TABLES = (
    "raw_names", "folded_names", "name_keys", "hosts", "simple_hosts", "complex_hosts",
    "domain_keys", "tld_countries", "country_keys",
)  # fmt: skip


def _drop_key_tables(con: duckdb.DuckDBPyConnection) -> None:
    for table in KEY_TABLES:
        con.execute(f"DROP TABLE IF EXISTS {table}")


def _prepare_side(con: duckdb.DuckDBPyConnection, side: str) -> int:
    """Working table `side` with key frequencies, table `side_groups` with duplicate groups;
    the count of unusable domains. One statement: writing the table and then rewriting it
    with the counts materialised a million rows of strings twice (about 1 s per side)."""
    base = f"{side}_base"
    con.execute(
        f"""CREATE TEMP TABLE {side} AS WITH {base} AS MATERIALIZED (
            {_side_sql(_prepared_sql(f"src_{side}"))}) {_key_counts_sql(base)}"""
    )
    con.execute(f"CREATE TEMP TABLE {side}_groups AS {_groups_sql(side)}")
    rows = con.sql(f"SELECT count(*) FILTER (bad_domain) FROM {side}").fetchall()
    return int(rows[0][0])


def _groups_sql(side: str) -> str:
    """(i, g, nfg, cfg): each record's duplicate group (the lowest i of it and its duplicates)
    and how many groups share its name and core. A table of its own: adding three columns to
    `side` rewrote a million rows of strings (1.2 s of CPU per side at 1M) for the few
    candidate pairs that read them."""
    dup = DUPLICATE_SQL.format(cap=KEY_GROUP_CAP)
    return f"""WITH dup AS (
            SELECT x.i, least(x.i, min(y.i)) AS g FROM {side} x JOIN {side} y ON {dup}
            WHERE x.nf > 1 GROUP BY x.i
        ), s AS (
            SELECT t.i, t.n, t.c, t.nf, t.cf, coalesce(dup.g, t.i) AS g
            FROM {side} t LEFT JOIN dup USING (i)
        )
        SELECT s.i, s.g, coalesce(nn.nfg, 1) AS nfg, coalesce(cc.cfg, 1) AS cfg FROM s
        LEFT JOIN (SELECT n, count(DISTINCT g) AS nfg FROM s WHERE nf > 1 GROUP BY n) nn USING (n)
        LEFT JOIN (SELECT c, count(DISTINCT g) AS cfg FROM s WHERE cf > 1 GROUP BY c) cc USING (c)"""


# How many records of a side share the name, core, domain, registration id (1 when null).
KEY_COUNTS = {"n": "nf", "c": "cf", "d": "df", "r": "rf"}


def _key_counts_sql(side: str) -> str:
    """`side` plus the KEY_COUNTS columns. One GROUP BY and join per key, not a window per
    key: four windows sort the whole table four times (4-6 s at 1M, against about 1 s). Only
    shared keys are joined back: a key on one record counts 1, and so does a null, which no
    other record equals."""
    joins = " ".join(
        f"""LEFT JOIN (SELECT {key}, count(*) AS {count} FROM {side}
            WHERE {key} IS NOT NULL GROUP BY {key} HAVING count(*) > 1) USING ({key})"""
        for key, count in KEY_COUNTS.items()
    )
    counts = ", ".join(f"coalesce({count}, 1) AS {count}" for count in KEY_COUNTS.values())
    return f"SELECT {side}.*, {counts} FROM {side} {joins}"


def _side_sql(prepared: str) -> str:
    """One side's working table: record number, keys and the (country, token) block keys.
    A block key is one 64-bit hash of the country and the token, not two text columns: it is
    cheaper to write, group and join, and a collision only puts a pair in a block that the
    decidability test then judges on the real names."""
    core = "replace(name_core, ' ', '')"
    tokens = {
        "kt1": "split_part(name_core, ' ', 1)",  # the first word
        "kp4": f"left({core}, 4)",  # the first and last four letters
        "ks4": f"right({core}, 4)",
    }
    keys = ",\n        ".join(
        f"CASE WHEN country_code IS NOT NULL AND name_core IS NOT NULL "
        f"THEN hash(country_code, {token}) END AS {name}"
        for name, token in tokens.items()
    )
    return f"""SELECT _pos AS i, id, name_norm AS n, name_core AS c,
        domain_norm AS d, domain_label AS l, country_code AS k, registration_norm AS r,
        legal_form AS lf, generic_word AS gw, domain_country AS kt,
        domain IS NOT NULL AND domain_norm IS NULL AS bad_domain,
        {keys}
    FROM ({prepared})"""


def _typo_sql(x: str, y: str) -> str:
    """SQL: cores `x` and `y` are one edit apart (Damerau-Levenshtein distance 1).

    CASE, not AND, so that the distances run only on the pairs the cheap checks pass. DuckDB's
    damerau_levenshtein is about six times slower than its levenshtein, so it runs only where
    it can differ: distance 1 is Levenshtein distance 1, or 2 with one swap of neighbours,
    which keeps the length (both functions count bytes).
    """
    return f"""CASE WHEN {x} <> {y} AND abs(length({x}) - length({y})) <= 1
            AND jaro_winkler_similarity({x}, {y}) >= {TYPO_JW_FILTER}
        THEN CASE levenshtein({x}, {y}) WHEN 1 THEN true
            WHEN 2 THEN CASE WHEN strlen({x}) = strlen({y})
                THEN damerau_levenshtein({x}, {y}) = 1 ELSE false END
            ELSE false END
        ELSE false END"""


# A blocked pair is kept only when it can get a confidence: the same domain or registration
# id (exact), or a name level below NAME_DIFFERENT (same name, same core, one typo in a core
# of DELETION_MIN+ characters). Any other pair is vetoed whatever EM says and EM does not learn
# from it, yet the (country, token) blocks make millions of them at 1M: scoring them cost more
# than everything else. So `candidates` and `scored` hold only the decidable pairs.
DECIDABLE_SQL = f"""a.n = b.n OR a.c = b.c OR a.d = b.d OR a.r = b.r
    OR (length(a.c) >= {DELETION_MIN} AND {_typo_sql("a.c", "b.c")})"""


def _pairs_on(key: str, cap: int) -> str:
    """Decidable candidate pairs sharing `key` (a column list), skipping keys with more than
    `cap` pairs."""
    cols = [c.strip() for c in key.split(",")]
    not_null = " AND ".join(f"{c} IS NOT NULL" for c in cols)
    return f"""SELECT a.i AS ia, b.i AS ib FROM ours a JOIN theirs b USING ({key})
        WHERE ({key}) IN (
            SELECT ({key}) FROM (
                SELECT {key}, count(*) AS na FROM ours WHERE {not_null} GROUP BY ALL
            ) x JOIN (
                SELECT {key}, count(*) AS nb FROM theirs WHERE {not_null} GROUP BY ALL
            ) y USING ({key}) WHERE na * nb <= {cap})
        AND ({DECIDABLE_SQL})"""


# Blocking keys (columns of the working tables) and the most pairs one key value may create.
# (country, last word) was one too: it took 0.4 s at 1M and decided no pair that another key
# did not also find (benchmark, 100k seeds 7 and 1234 and 1M): a typo in the last word is
# found by the one-deletion key or the prefix block, a shared last word alone is no match.
BLOCKING_KEYS: dict[tuple[str, ...], int] = {
    ("d",): KEY_GROUP_CAP * KEY_GROUP_CAP,
    ("r",): KEY_GROUP_CAP * KEY_GROUP_CAP,
    ("n",): NAME_BLOCK_CAP,
    ("c",): NAME_BLOCK_CAP,
    ("l",): NAME_BLOCK_CAP,
    ("kt1",): FUZZY_BLOCK_CAP,
    ("kp4",): FUZZY_BLOCK_CAP,
    ("ks4",): FUZZY_BLOCK_CAP,
}


def _counted_pairs_on(key: str, cap: int) -> str:
    """`_pairs_on` for a key whose count per side is a column already (KEY_COUNTS): no
    GROUP BY of both sides again. Each side alone is filtered first, so that a name on a
    thousand records on both sides never makes a million pairs to throw away. Sharing the
    name, core, domain or registration id makes a pair decidable: no DECIDABLE_SQL."""
    count = KEY_COUNTS[key]
    return f"""SELECT a.i AS ia, b.i AS ib
        FROM (SELECT i, {key}, {count} FROM ours WHERE {count} <= {cap}) a
        JOIN (SELECT i, {key}, {count} FROM theirs WHERE {count} <= {cap}) b USING ({key})
        WHERE a.{count} * b.{count} <= {cap}"""


def _block_sql(key: tuple[str, ...], cap: int) -> str:
    if len(key) == 1 and key[0] in KEY_COUNTS:
        return _counted_pairs_on(key[0], cap)
    return _pairs_on(", ".join(key), cap)


def _candidates(con: duckdb.DuckDBPyConnection) -> None:
    """Table `candidates` (ia, ib): blocked pairs that can be decided (DECIDABLE_SQL)."""
    for side in ("ours", "theirs"):
        con.execute(f"CREATE TEMP TABLE {side}_deletions AS {_deletion_keys(side)}")
    # The keys that can pair two different cores: 200,000 of the 16M a side at 1M (see
    # TYPO_PAIRS_SQL).
    con.execute(
        """CREATE TEMP TABLE typo_keys AS SELECT DISTINCT t.key FROM theirs_deletions t
        SEMI JOIN ours_deletions o ON o.key = t.key AND o.ch <> t.ch"""
    )
    blocks = [_block_sql(key, cap) for key, cap in BLOCKING_KEYS.items()]
    blocks.append(
        f"""SELECT p.ia, p.ib FROM ({TYPO_PAIRS_SQL}) p
        JOIN ours a ON a.i = p.ia JOIN theirs b ON b.i = p.ib WHERE {DECIDABLE_SQL}"""
    )
    con.execute("CREATE TEMP TABLE candidates AS " + " UNION ".join(blocks))
    con.execute("DROP TABLE ours_deletions; DROP TABLE theirs_deletions; DROP TABLE typo_keys")


def _deletion_keys(side: str) -> str:
    """(i, key, ch) for each core of DELETION_MIN+ characters and each way of deleting one of
    its characters (or none): two cores one edit apart share a key (Wolf Garbe's SymSpell),
    and neither needs a country or a shared word, unlike the (country, token) blocks. A doubled
    letter gives a key twice, which only makes its block look bigger: no DISTINCT, it costs
    seconds at 1M. ch, the hash of the core itself (64 bits, like the keys), tells same-core
    pairs apart (below)."""
    variant = "CASE WHEN p = 0 THEN c ELSE substr(c, 1, p - 1) || substr(c, p + 1) END"
    return f"""SELECT i, hash({variant}) AS key, hash(c) AS ch FROM (
        SELECT i, c, unnest(range(0, length(c) + 1)) AS p FROM {side}
        WHERE length(c) >= {DELETION_MIN})"""


# Candidate pairs whose cores are one edit apart, from deletion keys rare on both sides.
# Records with the same core share all of its keys, so the keys both sides have are mostly
# those (3.0M of 3.2M at 1M) and pair no two different cores: `typo_keys` holds only keys
# that an ours and a theirs record with different cores share (semi-join on the key with a
# different core hash), and all the records of those keys are counted against the cap, the
# same-core ones included. Same-core pairs are left to the core block, which has every one of
# them (a key's count on a side is at least the number of records with that core, and the
# core block's cap is the larger).
TYPO_PAIRS_SQL = f"""SELECT * FROM (
    WITH a AS MATERIALIZED (SELECT * FROM ours_deletions SEMI JOIN typo_keys USING (key)),
        b AS MATERIALIZED (SELECT * FROM theirs_deletions SEMI JOIN typo_keys USING (key))
    SELECT a.i AS ia, b.i AS ib FROM a JOIN b USING (key)
    WHERE a.ch <> b.ch AND key IN (
        SELECT key FROM (SELECT key, count(*) AS na FROM a GROUP BY key)
        JOIN (SELECT key, count(*) AS nb FROM b GROUP BY key)
        USING (key) WHERE na * nb <= {DELETION_BLOCK_CAP}))"""


def _score(con: duckdb.DuckDBPyConnection) -> em.Estimate:
    """Table `features` (one row per candidate pair), EM on it, view `scored` with decisions."""
    _features(con)
    columns = ", ".join(f"lv{j}" for j in range(len(COMPARISONS)))
    # EM learns from the pairs whose names are alike: the others come from the (country,
    # token) blocks, which pair same-country records with different names wholesale, so
    # among them country would look like evidence *against* a match (EM would read the
    # blocking, not the companies). They never reach the name tiers either.
    rows = con.sql(
        f"""SELECT {columns}, count(*) AS pairs FROM features
        WHERE nl <> {NAME_DIFFERENT} GROUP BY ALL"""
    ).fetchnumpy()
    patterns = np.column_stack([rows[f"lv{j}"] for j in range(len(COMPARISONS))])
    estimate = em.estimate(COMPARISONS, patterns, rows["pairs"])
    con.execute(
        f"""CREATE TEMP VIEW scored AS
        SELECT *,
            CASE
                WHEN same_domain OR same_reg THEN 'exact'
                WHEN reg_conflict OR domain_conflict OR legal_conflict
                    OR nl = {NAME_DIFFERENT} THEN NULL
                WHEN probability >= {HIGH_PROBABILITY} AND nl <= {HIGH_NAME_LEVEL} THEN 'high'
                WHEN probability >= {MEDIUM_PROBABILITY} THEN 'medium'
            END AS confidence,
            CASE WHEN same_domain OR same_reg THEN 1.0
                ELSE round(least(probability, 0.9999), 4) END AS score
        FROM (SELECT *, 1 / (1 + pow(2, -weight)) AS probability
              FROM (SELECT *, {_weight_sql(estimate)} AS weight FROM features))"""
    )
    return estimate


def _weight_sql(estimate: em.Estimate) -> str:
    """SQL for a pair's match weight: log2 prior odds plus log2(m/u) of each of its levels."""
    terms = [f"{estimate.prior_weight():.6f}"]
    for j, comparison in enumerate(COMPARISONS):
        weights = estimate.weights(comparison.name).values()
        cases = " ".join(f"WHEN {k} THEN {w:.6f}" for k, w in enumerate(weights))
        terms.append(f"CASE lv{j} {cases} END")
    return " + ".join(terms)


def _core_rarity(con: duckdb.DuckDBPyConnection) -> None:
    """Table `core_rarity` (c, rw): for each core of a candidate pair, how many records of
    both lists have its rarest word. Two records of one unique name are a weaker sign when
    every word of it is common ("Summit Air" in three countries, by chance) than when one
    word is one company's own ("Kolvara"), in the spirit of Splink's term-frequency
    adjustment but per word. Words are counted straight from the records: grouping the cores
    first cost more than it saved."""
    words = " UNION ALL ".join(
        f"SELECT unnest(string_split(c, ' ')) AS w FROM {side}" for side in ("ours", "theirs")
    )
    used = """SELECT a.c FROM candidates p JOIN ours a ON a.i = p.ia
        UNION SELECT b.c FROM candidates p JOIN theirs b ON b.i = p.ib"""
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE core_rarity AS
        WITH words AS (SELECT w, count(*) AS n FROM ({words}) GROUP BY w)
        SELECT c, min(words.n) AS rw FROM (SELECT c, unnest(string_split(c, ' ')) AS w FROM ({used}))
        JOIN words USING (w) GROUP BY c"""
    )


def _features(con: duckdb.DuckDBPyConnection) -> None:
    _core_rarity(con)
    levels = ",\n".join(f"{LEVEL_SQL[c.name]} AS lv{j}" for j, c in enumerate(COMPARISONS))
    con.execute(
        f"""CREATE TEMP TABLE features AS
        WITH f AS (
            SELECT p.ia, p.ib, a.id AS our_id, b.id AS their_id,
                a.n AS an, b.n AS bn, a.c AS ac, b.c AS bc, a.d AS ad, b.d AS bd,
                a.l AS al, b.l AS bl, a.k AS ak, b.k AS bk, a.r AS ar, b.r AS br,
                a.lf AS alf, b.lf AS blf, a.gw AS agw, b.gw AS bgw, a.kt AS akt, b.kt AS bkt,
                xa.nfg AS n_a, xa.cfg AS c_a, a.df AS d_a, a.rf AS r_a, xa.g AS ga,
                xb.nfg AS n_b, xb.cfg AS c_b, b.df AS d_b, b.rf AS r_b, xb.g AS gb,
                ra.rw AS rw_a, rb.rw AS rw_b
            FROM candidates p JOIN ours a ON a.i = p.ia JOIN theirs b ON b.i = p.ib
            JOIN ours_groups xa ON xa.i = p.ia JOIN theirs_groups xb ON xb.i = p.ib
            LEFT JOIN core_rarity ra ON ra.c = a.c LEFT JOIN core_rarity rb ON rb.c = b.c
        ), g AS (
            SELECT *,
                ad = bd AND d_a <= {KEY_GROUP_CAP} AND d_b <= {KEY_GROUP_CAP} AS same_domain,
                ar = br AND r_a <= {KEY_GROUP_CAP} AND r_b <= {KEY_GROUP_CAP} AS same_reg,
                coalesce(ar <> br, false) AS reg_conflict,
                coalesce(ad <> bd AND NOT starts_with(al, bl) AND NOT starts_with(bl, al), false)
                    AS domain_conflict,
                coalesce(alf <> blf, false) AS legal_conflict,
                coalesce(ad <> bd AND al = bl, false) AS same_label,
                coalesce(coalesce(ak, akt) = coalesce(bk, bkt), false) AS same_country_any,
                greatest(n_a, n_b) AS n_max, greatest(c_a, c_b) AS c_max,
                jaro_winkler_similarity(ac, bc) AS jw_core,
                jaro_winkler_similarity(an, bn) AS jw_name,
                {_typo_sql("ac", "bc")} AS typo,
                coalesce(greatest(rw_a, rw_b) <= {RARE_WORD_RECORDS}, false) AS rare_word
            FROM f
        ), h AS (SELECT *, {NAME_LEVEL_SQL} AS nl FROM g)
        SELECT *, {levels} FROM h"""
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
            round(weight + 0.1 * jw_name, 3) AS rank
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
