"""The quick paths (Arrow for large CSV files, column-by-column reading of clean opportunity
rows) must give exactly what the careful row-by-row reader gives: same records, same problems,
same order. Each test reads the same files both ways and compares."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from mutualist.imports import parsing
from mutualist.imports.readers import salesforce
from mutualist.imports.readers.salesforce import read_salesforce
from mutualist.synth import SIZES, generate, write_salesforce_csv

SAMPLE = Path(__file__).resolve().parents[3] / "shared" / "data" / "salesforce-sample"
FIXTURES = Path(__file__).parent / "fixtures"

HEADER = (
    "Id,AccountId,Name,StageName,Amount,CloseDate,CreatedDate,IsClosed,IsWon,PartnerAccountId\n"
)
ROWS = [
    "006A,001A,Clean won,Closed Won,1200.50,2024-03-01,2024-01-02T10:00:00.000+0000,1,1,001P",
    "006B,001A,Open,Prospecting,900,2024-06-01,2024-01-03T10:00:00.000+0000,0,0,",
    "006C,001A,Negative,Closed Lost,-5,2024-03-01,2024-01-02T10:00:00Z,1,0,",
    "006D,001A,No amount,Closed Lost,,2024-03-01,2024-01-02T10:00:00Z,1,0,",
    '006E,001A,Thousands,Closed Won,"1,200",2024-03-01,2024-01-02,true,true,001P',
    "006B,001A,Duplicate,Prospecting,900,2024-06-01,2024-01-03T10:00:00.000+0000,0,0,",
    "006F,001A,Back-dated,Closed Won,10,2023-12-01,2024-01-02T10:00:00Z,1,1,",
    "006G,001A,Won not closed,Negotiation,10,2024-03-01,2024-01-02T10:00:00Z,0,1,",
    "006H,,No account,Prospecting,10,2024-03-01,2024-01-02T10:00:00Z,0,0,",
    "006I,001A,US date,Closed Won,10,03/01/24,01/02/24 08:55 PM,1,1,",
    "006J,001A,Bad date,Prospecting,10,soon,2024-01-02,0,0,",
    ",001A,No id,Prospecting,10,2024-03-01,2024-01-02,0,0,",
    "006K,001A, Spaces ,Prospecting , 10 ,2024-03-01, 2024-01-02 ,0,0,",
    "006L,001A,Odd flag,Prospecting,10,2024-03-01,2024-01-02,maybe,0,",
    "006M,001A,Offset,Closed Won,10,2024-03-01,2024-01-02T23:30:00-0500,1,1,",
    "006A,001A,Late duplicate of a clean row,Closed Won,1,2024-03-01,2024-01-02,1,1,",
]


def read_both(paths: list[Path], monkeypatch: Any, **kwargs: Any) -> tuple[Any, Any]:
    quick = read_salesforce(paths, **kwargs)
    with monkeypatch.context() as m:
        m.setattr(salesforce, "_clean_opportunities", lambda *a: [])
        m.setattr(salesforce, "_clean_opportunity_partners", lambda *a: [])
        m.setattr(parsing, "ARROW_MIN_BYTES", 1 << 62)
        careful = read_salesforce(paths, **kwargs)
    return quick, careful


def assert_same(quick: Any, careful: Any) -> None:
    assert quick.opportunities == careful.opportunities
    assert quick.involvements == careful.involvements
    assert quick.problems == careful.problems
    assert quick.accounts == careful.accounts


@pytest.mark.parametrize("flags", [True, False], ids=["IsClosed/IsWon", "stage only"])
def test_every_kind_of_row_reads_the_same_both_ways(
    tmp_path: Path, monkeypatch: Any, flags: bool
) -> None:
    text = HEADER + "\n".join(ROWS) + "\n"
    if not flags:
        text = "\n".join(
            ",".join(c for i, c in enumerate(line.split(",")) if i not in (7, 8))
            if '"' not in line
            else line.replace(",true,true", "")
            for line in text.splitlines()
        )
        text += "\n006N,001A,Custom stage,Verbal yes,10,2024-03-01,2024-01-02\n"
    (tmp_path / "Opportunity.csv").write_text(text, encoding="utf-8")
    monkeypatch.setattr(parsing, "ARROW_MIN_BYTES", 0)  # Arrow reads this small file too
    quick, careful = read_both([tmp_path], monkeypatch)
    assert_same(quick, careful)
    # The quick path really took the clean rows, and the careful one flagged the rest.
    clean = salesforce._clean_opportunities(
        parsing.read_csv(tmp_path / "Opportunity.csv"), salesforce.ValueMaps(), flags
    )
    # 006A and 006B repeat, so none of their rows is clean; 006M (an offset) is; without the
    # flags, "Negotiation" with IsWon set and the odd flag are no longer anything to flag.
    assert [n for n, *_ in clean] == ([15] if flags else [8, 14, 15])
    assert {p.code for p in careful.problems} >= {"negative_amount", "duplicate_id"}


PARTNER_ROWS = [
    "Id,OpportunityId,AccountToId,Role,IsPrimary,CreatedDate",
    "00IA,006A,001P,Reseller,1,2024-01-02T10:00:00.000+0000",
    "00IB,006A,001Q,Referrer,0,2024-01-03T10:00:00Z",
    "00IC,006B,001P,Mystery role,0,2024-01-03T10:00:00Z",
    "00IB,006C,001P,Reseller,0,2024-01-03T10:00:00Z",
    "00ID,006C,001P,Reseller,maybe,2024-01-03T10:00:00Z",
    "00IE,006C,001P,Reseller,0,",
    ",006D,001P,Reseller,true,01/03/24",
    ",006E,001P,Distributor,TRUE,2024-01-05",
]


def test_partner_rows_read_the_same_both_ways(tmp_path: Path, monkeypatch: Any) -> None:
    (tmp_path / "OpportunityPartner.csv").write_text("\n".join(PARTNER_ROWS) + "\n")
    monkeypatch.setattr(parsing, "ARROW_MIN_BYTES", 0)
    quick, careful = read_both([tmp_path], monkeypatch)
    assert_same(quick, careful)
    clean = salesforce._clean_opportunity_partners(
        parsing.read_csv(tmp_path / "OpportunityPartner.csv"), salesforce.ValueMaps()
    )
    assert [n for n, _ in clean] == [1]  # 00IB repeats, the rest each have something to say
    assert {p.code for p in careful.problems} == {
        "duplicate_id",
        "unknown_role",
        "invalid_value",
        "missing_value",
    }
    assert len(careful.involvements) == 5


def test_the_real_sample_reads_the_same_both_ways(monkeypatch: Any) -> None:
    monkeypatch.setattr(parsing, "ARROW_MIN_BYTES", 0)
    quick, careful = read_both([SAMPLE], monkeypatch)
    assert_same(quick, careful)
    assert len(quick.opportunities) == 50


def test_a_synthetic_export_reads_the_same_both_ways(tmp_path: Path, monkeypatch: Any) -> None:
    config = dataclasses.replace(SIZES["small"], opportunities=3000, accounts=400, partners=12)
    write_salesforce_csv(generate(config), tmp_path)
    monkeypatch.setattr(parsing, "ARROW_MIN_BYTES", 0)
    quick, careful = read_both([tmp_path], monkeypatch)
    assert_same(quick, careful)
    assert len(quick.opportunities) == 3000
    table = parsing.read_csv(tmp_path / "Opportunity.csv")
    assert table.arrow is not None  # read by Arrow
    assert len(salesforce._clean_opportunities(table, salesforce.ValueMaps(), True)) > 2500


@pytest.mark.parametrize(
    "path", sorted(p for p in FIXTURES.rglob("*.csv")) + sorted(SAMPLE.glob("*.csv")), ids=str
)
def test_arrow_and_the_csv_module_read_each_file_alike(path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(parsing, "ARROW_MIN_BYTES", 0)
    quick = parsing.read_csv(path)
    monkeypatch.setattr(parsing, "ARROW_MIN_BYTES", 1 << 62)
    careful = parsing.read_csv(path)
    assert (quick.header, quick.problems, quick.row_count) == (
        careful.header,
        careful.problems,
        careful.row_count,
    )
    assert list(quick.records()) == list(careful.records())


@pytest.mark.parametrize(
    "text",
    [
        "Id,Name\n001,A\n\n002,B\n",  # a blank line inside: row numbers must not shift
        "Id,Name\n001,A\n002\n",  # truncated last row
        'Id,Name\n001,"A\n',  # unbalanced quote
        "Id,Id\n001,002\n",  # repeated column name
        'Id,Name\n001,"two\nlines"\n',  # a line break inside a quoted value
    ],
)
def test_awkward_files_read_alike(tmp_path: Path, monkeypatch: Any, text: str) -> None:
    path = tmp_path / "f.csv"
    path.write_text(text, encoding="utf-8")
    test_arrow_and_the_csv_module_read_each_file_alike(path, monkeypatch)
