import duckdb
import pyarrow as pa
import pytest

from mutualist.matching.match import prepare
from mutualist.matching.names import core_name, normalize_name

EXAMPLES = [
    ("Robert Bosch GmbH", "robert bosch"),
    ("ACME GmbH & Co. KG", "acme"),
    ("Acme Sp. z o.o.", "acme"),
    ("Nokia Oyj", "nokia"),
    ("Société Générale S.A.", "societe generale"),
    ("Samsung Electronics Co., Ltd.", "samsung electronics"),
    ("Volkswagen Aktiengesellschaft", "volkswagen"),
    ("Alphabet Inc. (Google)", "alphabet"),
    ("Grupo Bimbo, S.A.B. de C.V.", "grupo bimbo"),
    ("Ericsson AB (publ)", "ericsson"),
    ("Acme (Pty) Ltd", "acme"),
    ("The Limited", "limited"),
    ("Inc", "inc"),
    ("Company Inc", "company"),
    ("The Acme Company", "acme"),
    ("McDonald's Corporation", "mcdonalds"),
    ("AT&T Inc.", "at and t"),
    ("  ACME   Robotics,  LLC ", "acme robotics"),
    ("(Google)", "google"),
    ("!!!", "!!!"),
    ("株式会社トヨタ", "株式会社トヨタ"),
    ("Газпром", "газпром"),
    ("ガス", "ガス"),
]


@pytest.mark.parametrize(("raw", "expected"), EXAMPLES)
def test_it_normalises_names(raw: str, expected: str) -> None:
    assert normalize_name(raw) == expected


def test_it_drops_trailing_generic_words_for_the_core() -> None:
    assert core_name(normalize_name("Acme Robotics Group Holdings Ltd")) == "acme robotics"
    assert core_name(normalize_name("Acme Solns")) == "acme"
    assert core_name("group") == "group"  # never empty
    assert core_name("delta air lines") == "delta air lines"


def test_sql_and_python_normalise_alike() -> None:
    raw = [name for name, _ in EXAMPLES] + [
        "Ümlaut Straße GmbH",
        "Łódź Sp. z o.o.",
        "O'Brien & Sons, Inc.",
        "Acme [EMEA] B.V.",
        "Crème Brûlée SARL",
        "\uff21\uff23\uff2d\uff25 Corp"  # full-width letters,
        "Delta\tFaucet Co",
    ]
    table = pa.table({"id": [str(i) for i in range(len(raw))], "name": raw})
    table = table.append_column("domain", pa.nulls(len(raw), pa.string()))
    table = table.append_column("country", pa.nulls(len(raw), pa.string()))
    table = table.append_column("registration_id", pa.nulls(len(raw), pa.string()))
    prepared = prepare(table)
    assert prepared["name_norm"].to_pylist() == [normalize_name(n) for n in raw]
    assert prepared["name_core"].to_pylist() == [core_name(normalize_name(n)) for n in raw]


def test_the_legal_pattern_is_valid_re2() -> None:
    from mutualist.matching.names import core_pattern, legal_pattern

    con = duckdb.connect()
    for pattern in (legal_pattern(), core_pattern()):
        rows = con.sql(f"SELECT regexp_replace('acme gmbh', '{pattern}', '')").fetchall()
        assert rows[0][0] == "acme"


def test_the_sql_fast_paths_fold_like_python() -> None:
    """fold_sql drops dots and apostrophes with plain replace() and the_sql tries its regex only
    on names starting "the ": both must give what the Python normalisation gives."""
    raw = [
        "The Acme Company", "THE ACME COMPANY", "the acme", "The", "the", "The  Acme",
        "Thermo Fisher", "Theta Labs", "Acme the Great", "The The", "The. Acme", "The-Acme Inc",
        "O'Brien's `Pub` Ltd.", "Macy\u2019s Inc", "A.B.C. Holdings", "Acme.com Inc", "...",
        "'", "``", "S.A.", "Acme & Co.", "&", "Acme, Inc.,", " The Acme ", "The\tAcme",
        "Müller & Söhne GmbH", "The Ümlaut Company",
    ]  # fmt: skip
    table = pa.table({"id": [str(i) for i in range(len(raw))], "name": raw})
    for column in ("domain", "country", "registration_id"):
        table = table.append_column(column, pa.nulls(len(raw), pa.string()))
    prepared = prepare(table)
    assert prepared["name_norm"].to_pylist() == [normalize_name(n) for n in raw]
    assert prepared["name_core"].to_pylist() == [core_name(normalize_name(n)) for n in raw]
