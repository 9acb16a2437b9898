from pathlib import Path

import pyarrow as pa

from mutualist.matching.match import CONFIDENCE_TIERS, OUTPUT_SCHEMA, match_accounts
from mutualist.matching.records import accounts_from_rows


def side(*rows: tuple[str, str, str | None, str | None, str | None]) -> pa.Table:
    keys = ("id", "name", "domain", "country", "registration_id")
    return accounts_from_rows([dict(zip(keys, row, strict=True)) for row in rows])


def pairs(result: pa.Table) -> dict[tuple[str, str], tuple[str, str]]:
    return {
        (r["our_id"], r["their_id"]): (r["confidence"], r["reason"]) for r in result.to_pylist()
    }


def test_it_matches_on_the_registrable_domain() -> None:
    ours = side(("o1", "Acme Robotics GmbH", "https://www.acme-robotics.de/", "DE", None))
    theirs = side(("t1", "Acme Robotik", "info@acme-robotics.de", None, None))
    result = match_accounts(ours, theirs)
    assert result.schema == OUTPUT_SCHEMA
    assert pairs(result) == {("o1", "t1"): ("exact", "same domain acme-robotics.de")}
    assert result["score"].to_pylist() == [1.0]


def test_it_matches_on_the_registration_id() -> None:
    ours = side(("o1", "Initech", None, "US", "12-345-6789"))
    theirs = side(("t1", "Initech Holdings (formerly Initrode)", None, "US", "123456789"))
    assert pairs(match_accounts(ours, theirs)) == {
        ("o1", "t1"): ("exact", "same registration id 123456789")
    }


def test_it_matches_a_rare_name_in_a_compatible_country() -> None:
    ours = side(("o1", "Kolvara Systems Inc", None, "US", None))
    theirs = side(
        ("t1", "KOLVARA SYSTEMS, Incorporated", None, "USA", None),
        ("t2", "Brimstone Foods", None, "US", None),
    )
    assert pairs(match_accounts(ours, theirs)) == {
        ("o1", "t1"): (
            "high",
            "same name 'kolvara systems' (unique on both sides), same country US, "
            "same legal form inc, same generic word systems",
        )
    }


def test_it_does_not_match_delta_air_lines_with_delta_faucet() -> None:
    ours = side(
        ("o1", "Delta Air Lines, Inc.", None, "US", None), ("o2", "Delta", None, "US", None)
    )
    theirs = side(
        ("t1", "Delta Faucet Inc", None, "US", None), ("t2", "Delta Faucet", None, None, None)
    )
    assert match_accounts(ours, theirs).num_rows == 0


def test_it_refuses_a_name_shared_by_two_companies() -> None:
    ours = side(
        ("o1", "Summit Foods", "summitfoods.com", "US", None),
        ("o2", "Summit Foods", "summit-foods.net", "US", None),
    )
    theirs = side(("t1", "Summit Foods Inc", None, "US", None))
    assert match_accounts(ours, theirs).num_rows == 0


def test_it_refuses_a_name_match_across_countries_or_legal_forms() -> None:
    ours = side(("o1", "Kolvara GmbH", None, "DE", None), ("o2", "Brixo Inc", None, "US", None))
    theirs = side(("t1", "Kolvara", None, "FR", None), ("t2", "Brixo LLC", None, "US", None))
    assert match_accounts(ours, theirs).num_rows == 0


def test_it_matches_a_typo_as_medium() -> None:
    ours = side(("o1", "Acme Robotcs Systems LLC", None, "US", None))
    theirs = side(("t1", "Acme Robotics Systems, L.L.C.", None, "United States", None))
    result = pairs(match_accounts(ours, theirs))
    assert list(result) == [("o1", "t1")]
    confidence, reason = result["o1", "t1"]
    assert confidence == "medium"
    assert reason.startswith("similar name 0.9")
    assert reason.endswith(
        ": 'acme robotcs systems' ~ 'acme robotics systems' (unique on both sides), "
        "same country US, same legal form llc, same generic word systems"
    )


def test_it_keeps_only_the_best_fuzzy_counterpart() -> None:
    ours = side(("o1", "Brightwave Analytics Systems Inc", None, "US", None))
    theirs = side(
        ("t1", "Brightwave Analytcs Systems, Inc.", None, "US", None),
        ("t2", "Brightwave Anlytcs Systems Inc", None, "US", None),
    )
    result = match_accounts(ours, theirs)
    assert result["our_id"].to_pylist() == ["o1"]
    assert result["their_id"].to_pylist() == ["t1"]


def test_it_allows_one_to_many_on_exact_evidence() -> None:
    ours = side(
        ("o1", "Acme Corp", "acme.com", "US", None),
        ("o2", "ACME Corporation (billing)", "https://acme.com/billing", None, None),
    )
    theirs = side(("t1", "Acme", "www.acme.com", "US", None))
    assert set(pairs(match_accounts(ours, theirs))) == {("o1", "t1"), ("o2", "t1")}


def test_it_matches_a_multi_domain_company_by_name() -> None:
    ours = side(("o1", "Zentrix Labs GmbH", "zentrix.de", "DE", None))
    theirs = side(("t1", "Zentrix Labs GmbH", "zentrix.com", "DE", None))
    assert pairs(match_accounts(ours, theirs)) == {
        ("o1", "t1"): (
            "high",
            "same name 'zentrix labs' (unique on both sides), same country DE, same legal form "
            "gmbh, same generic word labs, same domain name 'zentrix' (zentrix.de vs zentrix.com)",
        )
    }


def test_it_ignores_free_mail_domains() -> None:
    ours = side(("o1", "Brimstone Foods", "j.smith@gmail.com", "US", None))
    theirs = side(("t1", "Kolvara Systems", "anna@gmail.com", "US", None))
    assert match_accounts(ours, theirs).num_rows == 0


def test_it_reports_progress() -> None:
    seen: list[tuple[str, float]] = []
    match_accounts(side(("o1", "A", None, None, None)), side(("t1", "B", None, None, None)),
                   progress=lambda stage, done: seen.append((stage, done)))  # fmt: skip
    assert seen[0] == ("normalising", 0.0)
    assert seen[-1] == ("done", 1.0)
    assert [done for _, done in seen] == sorted(done for _, done in seen)
    assert set(CONFIDENCE_TIERS) == {"exact", "high", "medium"}


def test_map_files_round_trip(tmp_path: Path) -> None:
    import csv

    import pytest

    from mutualist.matching.command import map_files
    from mutualist.matching.records import AccountFileError

    ours = tmp_path / "ours.csv"
    theirs = tmp_path / "theirs.csv"
    out = tmp_path / "pairs.csv"
    ours.write_text(
        "Account ID,Account Name,Website,Billing Country\n"
        "o1,Acme Robotics GmbH,https://www.acme-robotics.de,Germany\n"
        "o2,Kolvara Systems Inc,j.doe@gmail.com,USA\n"
        "o3,Delta Air Lines,,US\n",
        encoding="utf-8",
    )
    theirs.write_text(
        "id,company,domain,country\n"
        "t1,ACME Robotik,acme-robotics.de,DE\n"
        't2,"KOLVARA SYSTEMS, Incorporated",,United States\n'
        "t3,Delta Faucet Co,,US\n",
        encoding="utf-8",
    )
    seen: list[str] = []
    summary = map_files(ours, theirs, out, progress=lambda stage, _: seen.append(stage))
    with out.open(encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["our_id", "their_id", "confidence", "reason", "score"]
    assert [r[:3] for r in rows[1:]] == [["o1", "t1", "exact"], ["o2", "t2", "high"]]
    assert summary.ours == 3 and summary.theirs == 3 and summary.pairs == 2
    assert summary.by_confidence == {"exact": 1, "high": 1, "medium": 0}
    assert summary.unusable_domains == {"ours": 1, "theirs": 0}
    assert summary.seconds > 0
    assert seen[-1] == "done"
    with pytest.raises(AccountFileError, match="would overwrite the input"):
        map_files(ours, theirs, tmp_path / "." / "ours.csv")


def test_it_takes_the_country_from_a_country_code_domain() -> None:
    # No country field on either side: the .ie domain agrees with Ireland ...
    ours = side(("o1", "Chescaria Limited", None, "Ireland", None))
    theirs = side(("t1", "Chescaria Ltd", "chescaria.ie", None, None))
    result = pairs(match_accounts(ours, theirs))
    assert result["o1", "t1"][0] == "high"
    assert "same country IE" in result["o1", "t1"][1]
    # ... and a .pl domain rules out a same-name company in the US.
    theirs = side(("t1", "Chescaria", "chescaria.pl", None, None))
    ours = side(("o1", "Chescaria", None, "US", None))
    assert match_accounts(ours, theirs).num_rows == 0


def test_it_matches_a_company_with_two_records_on_one_side() -> None:
    # Two CRM records of one company (same name, legal form and country) are one group:
    # both are matched instead of the tie dropping both.
    ours = side(
        ("o1", "Vapopro Partners Pty Ltd", None, "Australia", None),
        ("o2", "VAPOPRO PARTNERS PTY. LTD.", None, "AU", None),
    )
    theirs = side(("t1", "Vapopro Partners Pty Limited", None, "AU", None))
    assert set(pairs(match_accounts(ours, theirs))) == {("o1", "t1"), ("o2", "t1")}


def test_two_same_name_companies_on_one_side_stay_apart() -> None:
    # Same name and country but different legal forms: two companies, so no match at all.
    ours = side(
        ("o1", "Vapopro Partners Pty Ltd", None, "AU", None),
        ("o2", "Vapopro Partners Limited", None, "AU", None),
    )
    theirs = side(("t1", "Vapopro Partners", None, "AU", None))
    assert match_accounts(ours, theirs).num_rows == 0


def test_it_matches_a_one_letter_typo_in_a_long_name_as_medium() -> None:
    ours = side(("o1", "Sheglecrona Plumbing Ltd", None, "GB", None))
    theirs = side(("t1", "Sheglecrona Plumbng Limited", None, "UK", None))
    result = pairs(match_accounts(ours, theirs))
    assert [c for c, _ in result.values()] == ["medium"]
    # A one-letter difference in a short name is another company.
    ours = side(("o1", "Kolra Ltd", None, "GB", None))
    theirs = side(("t1", "Kodra Ltd", None, "GB", None))
    assert match_accounts(ours, theirs).num_rows == 0


def test_a_common_name_needs_more_than_the_country() -> None:
    ours = side(("o1", "Summit Foods", None, "US", None))
    theirs = side(
        ("t1", "Summit Foods", None, "US", None),
        ("t2", "Summit Foods", "summitfoods.co.uk", "GB", None),
        ("t3", "Summit Foods", "summit-foods.de", "DE", None),
    )
    assert match_accounts(ours, theirs).num_rows == 0
