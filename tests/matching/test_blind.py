import re

import pyarrow as pa

from mutualist.matching.blind import blind_tokens, match_tokens, new_partnership_key
from mutualist.matching.match import OUTPUT_SCHEMA, match_accounts
from mutualist.matching.records import accounts_from_rows

KEYS = ("id", "name", "domain", "country", "registration_id")
OURS = [
    ("o1", "Acme Robotics GmbH", "acme-robotics.de", "DE", None),
    ("o2", "Initech", None, "US", "12-345-6789"),
    ("o3", "Kolvara Systems Inc", None, "US", None),
    ("o4", "Delta Air Lines", None, "US", None),
    ("o5", "Brightwave Analytcs", None, "US", None),  # typo: fuzzy only
    ("o6", "Acme Robotics Service", "https://acme-robotics.de/service", "DE", None),
]
THEIRS = [
    ("t1", "ACME Robotik", "www.acme-robotics.de", None, None),
    ("t2", "Initech Holdings", None, "US", "123456789"),
    ("t3", "KOLVARA SYSTEMS, Incorporated", None, "USA", None),
    ("t4", "Delta Faucet Company", None, "US", None),
    ("t5", "Brightwave Analytics", None, "US", None),
]


def table(rows: list[tuple[str, str, str | None, str | None, str | None]]) -> pa.Table:
    return accounts_from_rows([dict(zip(KEYS, row, strict=True)) for row in rows])


def test_it_finds_the_exact_and_high_pairs_of_match_accounts() -> None:
    key = new_partnership_key()
    ours, theirs = table(OURS), table(THEIRS)
    blind = match_tokens(blind_tokens(ours, key), blind_tokens(theirs, key))
    plain = match_accounts(ours, theirs)
    keep = [c in ("exact", "high") for c in plain["confidence"].to_pylist()]
    plain_exact_high = plain.filter(pa.array(keep))

    def as_set(t: pa.Table) -> set[tuple[str, str, str]]:
        return set(zip(t["our_id"].to_pylist(), t["their_id"].to_pylist(),
                       t["confidence"].to_pylist(), strict=True))  # fmt: skip

    assert as_set(blind) == as_set(plain_exact_high)
    assert as_set(blind) == {
        ("o1", "t1", "exact"), ("o6", "t1", "exact"), ("o2", "t2", "exact"), ("o3", "t3", "high")
    }  # fmt: skip
    assert blind.schema == OUTPUT_SCHEMA


def test_tokens_are_keyed_hmacs_without_plaintext() -> None:
    ours = table(OURS)
    first = blind_tokens(ours, b"k" * 32)
    second = blind_tokens(ours, b"other-key".ljust(32, b"-"))
    assert set(first.column_names) == {"id", "kind", "token"}
    assert set(first["kind"].to_pylist()) == {"domain", "registration_id", "name_country"}
    assert all(re.fullmatch(r"[0-9a-f]{64}", t) for t in first["token"].to_pylist())
    assert set(first["token"].to_pylist()).isdisjoint(second["token"].to_pylist())
    # o1 and o6 share a domain, so they share that token and nothing else.
    domain = first.filter(pa.compute.equal(first["kind"], "domain"))
    assert len(set(domain["token"].to_pylist())) == 1


def test_reasons_name_the_kind_but_never_the_token() -> None:
    key = new_partnership_key()
    ours_tokens, theirs_tokens = blind_tokens(table(OURS), key), blind_tokens(table(THEIRS), key)
    result = match_tokens(ours_tokens, theirs_tokens)
    tokens = set(ours_tokens["token"].to_pylist())
    reasons = result["reason"].to_pylist()
    assert "same domain (blind token)" in reasons
    assert "same registration id (blind token)" in reasons
    assert not any(token in reason for token in tokens for reason in reasons)


def test_a_name_token_needs_to_be_unique_and_unopposed() -> None:
    key = new_partnership_key()
    ours = table([("o1", "Summit Foods", None, "US", None), ("o2", "Summit Foods", None, "US", None),
                  ("o3", "Brixo", "brixo.com", "US", None)])  # fmt: skip
    theirs = table(
        [("t1", "Summit Foods", None, "US", None), ("t2", "Brixo", "brixo.io", "US", None)]
    )
    assert match_tokens(blind_tokens(ours, key), blind_tokens(theirs, key)).num_rows == 0


def test_new_keys_are_random_and_32_bytes() -> None:
    assert len(new_partnership_key()) == 32
    assert new_partnership_key() != new_partnership_key()
