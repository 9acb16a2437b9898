"""The synthetic company generator: deterministic, well-formed, honest about its truth, hard."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from mutualist.matching.domains import normalize_domain
from mutualist.matching.names import core_name, normalize_name
from mutualist.matching.records import ACCOUNT_COLUMNS
from mutualist.matching.synth import FREEMAIL, CompanyData, Knobs, generate_companies, write_csv

N = 20_000


@pytest.fixture(scope="module")
def data() -> CompanyData:
    return generate_companies(N, N, overlap=0.2, seed=11)


def shared_share(d: CompanyData) -> float:
    ours, theirs = set(d.ours_entity.tolist()), set(d.theirs_entity.tolist())
    return len(ours & theirs) / min(len(ours), len(theirs))


def test_it_is_deterministic_by_seed(data: CompanyData) -> None:
    again = generate_companies(N, N, overlap=0.2, seed=11)
    assert again.ours.equals(data.ours)
    assert again.theirs.equals(data.theirs)
    assert again.truth.equals(data.truth)
    other = generate_companies(N, N, overlap=0.2, seed=12)
    assert not other.ours.equals(data.ours)
    same_names = np.mean(
        np.array(other.ours["name"].to_pylist()) == np.array(data.ours["name"].to_pylist())
    )
    assert same_names < 0.01


def test_it_has_the_account_columns_as_strings(data: CompanyData) -> None:
    for table, n, prefix in ((data.ours, N, "O"), (data.theirs, N, "T")):
        assert tuple(table.column_names) == ACCOUNT_COLUMNS
        assert all(t == pa.string() for t in table.schema.types)
        assert table.num_rows == n
        assert table["id"].null_count == 0
        assert table["name"].null_count == 0
        ids = table["id"].to_pylist()
        assert len(set(ids)) == n
        assert ids[0] == f"{prefix}00000001"
    assert data.truth.schema == pa.schema([("our_id", pa.string()), ("their_id", pa.string())])


def test_truth_is_every_pair_of_records_of_one_company(data: CompanyData) -> None:
    our_rows = {i: r for r, i in enumerate(data.ours["id"].to_pylist())}
    their_rows = {i: r for r, i in enumerate(data.theirs["id"].to_pylist())}
    truth = data.truth.to_pylist()
    for pair in truth:
        assert (
            data.ours_entity[our_rows[pair["our_id"]]]
            == (data.theirs_entity[their_rows[pair["their_id"]]])
        )
    ours, theirs = Counter(data.ours_entity.tolist()), Counter(data.theirs_entity.tolist())
    expected = sum(count * theirs[e] for e, count in ours.items() if e in theirs)
    assert len(truth) == expected
    assert len({(p["our_id"], p["their_id"]) for p in truth}) == len(truth)
    # CRM duplicates: some companies have two records on a side, so some records pair twice.
    assert 0.02 < sum(c == 2 for c in ours.values()) / len(ours) < 0.04
    assert max(Counter(p["our_id"] for p in truth).values()) == 2


@pytest.mark.parametrize("overlap", [0.2, 0.5])
def test_overlap_is_the_shared_share_of_the_smaller_side(overlap: float) -> None:
    d = generate_companies(3_000, 5_000, overlap=overlap, seed=3)
    assert shared_share(d) == pytest.approx(overlap, abs=0.005)


def test_field_rates_match_the_documented_knobs(data: CompanyData) -> None:
    both = pa.concat_tables([data.ours, data.theirs])
    rows = both.num_rows
    assert both["domain"].null_count / rows == pytest.approx(Knobs.domain_missing, abs=0.008)
    assert both["country"].null_count / rows == pytest.approx(Knobs.country_missing, abs=0.01)
    regs = 1 - both["registration_id"].null_count / rows
    assert regs == pytest.approx(Knobs.registration, abs=0.01)
    domains = [d for d in both["domain"].to_pylist() if d is not None]
    freemail = sum(d.split("@")[-1] in FREEMAIL for d in domains) / rows
    assert freemail == pytest.approx(Knobs.freemail, abs=0.005)
    assert any(d.startswith("https://www.") for d in domains)
    assert any(d.isupper() for d in domains)
    assert any("linkedin.com/company/" in d for d in domains)
    dashed = [r for r in both["registration_id"].to_pylist() if r and "-" in r]
    assert all(len(r) == 11 and r.replace("-", "").isdigit() for r in dashed)


def test_names_vary_per_record_like_crm_data(data: CompanyData) -> None:
    names = data.ours["name"].to_pylist()
    assert 0.08 < sum(n.isupper() for n in names) / len(names) < 0.16
    assert any(n.startswith("The ") for n in names)
    assert any(", Inc" in n for n in names) and any(n.endswith(" GmbH") for n in names)
    assert any(" & " in n for n in names) and any(" and " in n for n in names)
    assert any(" Intl" in n or " Int'l" in n for n in names)
    # The two records of one company usually normalise alike, but not always (typos, words).
    by_entity: dict[int, list[str]] = defaultdict(list)
    for e, n in zip(data.ours_entity.tolist(), names, strict=True):
        by_entity[e].append(normalize_name(n))
    twice = [v for v in by_entity.values() if len(v) == 2]
    agree = sum(a == b for a, b in twice) / len(twice)
    assert 0.35 < agree < 0.9


def test_a_domain_belongs_to_one_company(data: CompanyData) -> None:
    owner: dict[str, set[int]] = defaultdict(set)
    for table, entities in ((data.ours, data.ours_entity), (data.theirs, data.theirs_entity)):
        for value, e in zip(table["domain"].to_pylist(), entities.tolist(), strict=True):
            registrable = normalize_domain(value)
            if registrable is not None:
                owner[registrable].add(e)
    assert len(owner) > N
    assert max(len(companies) for companies in owner.values()) == 1
    # ...but the label is a trap: acme.com and acme.de can be two different companies.
    by_label: dict[str, set[int]] = defaultdict(set)
    for registrable, companies in owner.items():
        by_label[registrable.split(".")[0]] |= companies
    assert sum(len(c) > 1 for c in by_label.values()) > 50


def confusable_share(data: CompanyData, key: Callable[[str], str]) -> tuple[float, int]:
    """Share of our records with a *different* company of the same key on their side."""
    theirs: dict[str, set[int]] = defaultdict(set)
    for n, e in zip(data.theirs["name"].to_pylist(), data.theirs_entity.tolist(), strict=True):
        theirs[key(n)].add(e)
    confusable = short = 0
    for n, e in zip(data.ours["name"].to_pylist(), data.ours_entity.tolist(), strict=True):
        k = key(n)
        if theirs.get(k, set()) - {e}:
            confusable += 1
            short += len(k.split()) <= 2
    return confusable / data.ours.num_rows, short


def test_different_companies_share_normalised_names_across_sides(data: CompanyData) -> None:
    # Hard negatives ("Delta" the airline vs "Delta" the faucet maker); more at larger sizes
    # (about 2% and 6% of records at 100k x 100k).
    full, short = confusable_share(data, normalize_name)
    assert 0.008 < full < 0.05
    assert short > 100
    core, _ = confusable_share(data, lambda n: core_name(normalize_name(n)))
    assert 0.025 < core < 0.1


def test_write_csv_round_trips(data: CompanyData, tmp_path: Path) -> None:
    small = generate_companies(300, 200, seed=5)
    ours, theirs, truth = write_csv(small, tmp_path / "out")
    assert [p.name for p in (ours, theirs, truth)] == ["ours.csv", "theirs.csv", "truth.csv"]
    strings = pacsv.ConvertOptions(
        column_types={c: pa.string() for c in ACCOUNT_COLUMNS},
        strings_can_be_null=True,
    )
    read = pacsv.read_csv(ours, convert_options=strings)
    assert read.num_rows == 300
    assert read["name"].to_pylist() == small.ours["name"].to_pylist()
    assert pacsv.read_csv(truth).num_rows == small.truth.num_rows
