"""Blind mode: match per-partnership HMAC tokens instead of plaintext accounts.

Each party turns its accounts into tokens `HMAC-SHA256(key, "kind:normalised value")` under a key
only the two parties hold (`new_partnership_key`); the platform joins tokens and never sees a
name or a domain. Only deterministic exact keys can be tokenised:

- "domain": the registrable domain;
- "registration_id": the normalised registration id;
- "name_country": normalised name and country code ("acme robotics|DE"; "acme robotics|" when
  the country is unknown), made for every name, because whether a name is rare cannot be known
  when tokenising. `match_tokens` then applies the uniqueness guard of `match_accounts`' high
  tier on the tokens themselves: a name_country token counts only when it occurs once on each
  side, and not when the two records carry different domain or registration tokens.

Fuzzy matching is impossible here, so blind mode finds the exact and most of the high tier only.
Low-entropy values (domains, names) can be guessed by anyone holding the key, so the platform
must never hand one party the other's tokens.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from mutualist.matching.match import KEY_GROUP_CAP, OUTPUT_SCHEMA, prepare

TOKEN_KINDS = ("domain", "registration_id", "name_country")
TOKEN_SCHEMA = pa.schema([("id", pa.string()), ("kind", pa.string()), ("token", pa.string())])


def new_partnership_key() -> bytes:
    return secrets.token_bytes(32)


def _tokens(key: bytes, kind: str, values: pa.Array | pa.ChunkedArray) -> pa.Array:
    digest = {}
    for value in pc.unique(values).to_pylist():
        if value is not None:
            message = f"{kind}:{value}".encode()
            digest[value] = hmac.new(key, message, hashlib.sha256).hexdigest()
    return pa.array([digest.get(v) for v in values.to_pylist()], pa.string())


def blind_tokens(accounts: pa.Table, key: bytes) -> pa.Table:
    """Columns id, kind, token: one row per record and key it has (see the module docstring)."""
    prepared = prepare(accounts)
    name_country = pc.binary_join_element_wise(
        prepared["name_norm"], pc.fill_null(prepared["country_code"], ""), "|"
    )
    values = {
        "domain": prepared["domain_norm"],
        "registration_id": prepared["registration_norm"],
        "name_country": name_country,
    }
    parts = []
    for kind, column in values.items():
        token = _tokens(key, kind, column)
        part = pa.table(
            {
                "id": prepared["id"],
                "kind": pa.array([kind] * len(token), pa.string()),
                "token": token,
            }
        )
        parts.append(part.filter(pc.is_valid(token)))
    return pa.concat_tables(parts).cast(TOKEN_SCHEMA)


_REASONS = {
    "domain": "same domain (blind token)",
    "registration_id": "same registration id (blind token)",
    "name_country": "same name and country (blind token, unique on both sides)",
}


def match_tokens(ours: pa.Table, theirs: pa.Table) -> pa.Table:
    """Pairs from two token tables, in `match_accounts`' output shape, one row per pair."""
    reasons = pa.table({"kind": list(_REASONS), "reason": list(_REASONS.values())})
    con = duckdb.connect(config={"threads": 2})
    try:
        con.register("o", ours.select(["id", "kind", "token"]))
        con.register("t", theirs.select(["id", "kind", "token"]))
        con.register("reasons", reasons)
        return (
            con.sql(
                f"""WITH
            fo AS (SELECT *, count(*) OVER (PARTITION BY kind, token) AS n FROM o),
            ft AS (SELECT *, count(*) OVER (PARTITION BY kind, token) AS n FROM t),
            pairs AS (
                SELECT fo.id AS our_id, ft.id AS their_id, fo.kind
                FROM fo JOIN ft USING (kind, token)
                WHERE CASE WHEN fo.kind = 'name_country' THEN fo.n = 1 AND ft.n = 1
                      ELSE fo.n <= {KEY_GROUP_CAP} AND ft.n <= {KEY_GROUP_CAP} END
            ),
            exact AS (SELECT DISTINCT our_id, their_id FROM pairs WHERE kind <> 'name_country'),
            -- Different domains or registration ids on the two records veto a name token.
            conflict AS (
                SELECT p.our_id, p.their_id FROM pairs p
                JOIN o ON o.id = p.our_id JOIN t ON t.id = p.their_id AND t.kind = o.kind
                WHERE p.kind = 'name_country' AND o.kind IN ('domain', 'registration_id')
                GROUP BY ALL HAVING count(*) FILTER (o.token = t.token) = 0
            ),
            kept AS (
                SELECT * FROM pairs p WHERE kind <> 'name_country' OR (
                    NOT EXISTS (SELECT 1 FROM exact e
                                WHERE e.our_id = p.our_id AND e.their_id = p.their_id)
                    AND NOT EXISTS (SELECT 1 FROM conflict c
                                    WHERE c.our_id = p.our_id AND c.their_id = p.their_id))
            )
            SELECT our_id, their_id,
                CASE WHEN bool_and(kind = 'name_country') THEN 'high' ELSE 'exact' END AS confidence,
                any_value(r.reason ORDER BY CASE kind WHEN 'domain' THEN 0
                    WHEN 'registration_id' THEN 1 ELSE 2 END) AS reason,
                CASE WHEN bool_and(kind = 'name_country') THEN 0.97 ELSE 1.0 END AS score
            FROM kept JOIN reasons r USING (kind)
            GROUP BY our_id, their_id ORDER BY our_id, their_id"""
            )
            .to_arrow_table()
            .cast(OUTPUT_SCHEMA)
        )
    finally:
        con.close()
