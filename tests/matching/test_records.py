from pathlib import Path

import pytest

from mutualist.matching.records import (
    ACCOUNT_COLUMNS,
    NOTE_KEY,
    AccountFileError,
    accounts_from_rows,
    read_accounts,
)


def write(tmp_path: Path, text: str, *, encoding: str = "utf-8", name: str = "a.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_it_reads_aliases_bom_and_extra_columns(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "\ufeffAccount ID,Company,Website,Billing Country,DUNS,Owner\n"
        "1, Acme GmbH ,acme.de,Germany,123456789,ann\n"
        '2,"Globex, Inc.",,,,bob\n',
    )
    table = read_accounts(path)
    assert table.column_names == list(ACCOUNT_COLUMNS)
    assert table.to_pylist() == [
        {"id": "1", "name": "Acme GmbH", "domain": "acme.de", "country": "Germany",
         "registration_id": "123456789"},
        {"id": "2", "name": "Globex, Inc.", "domain": None, "country": None,
         "registration_id": None},
    ]  # fmt: skip


def test_it_fills_missing_optional_columns_with_nulls(tmp_path: Path) -> None:
    table = read_accounts(write(tmp_path, "id;name\n7;Acme\n"))  # semicolon-delimited
    assert table.to_pylist() == [
        {"id": "7", "name": "Acme", "domain": None, "country": None, "registration_id": None}
    ]


def test_it_refuses_an_empty_file(tmp_path: Path) -> None:
    with pytest.raises(AccountFileError, match="empty"):
        read_accounts(write(tmp_path, "\n  \n"))


def test_it_refuses_a_file_without_header(tmp_path: Path) -> None:
    with pytest.raises(AccountFileError, match="no header row"):
        read_accounts(write(tmp_path, "1,Acme,acme.com\n2,Globex,globex.com\n"))


def test_it_names_the_missing_column(tmp_path: Path) -> None:
    with pytest.raises(AccountFileError, match="no 'id' column") as error:
        read_accounts(write(tmp_path, "name,domain\nAcme,acme.com\n"))
    assert "name, domain" in str(error.value)


def test_it_names_rows_with_empty_ids_and_names(tmp_path: Path) -> None:
    text = "id,name\n1,Acme\n,Globex\n3,Initech\n  ,Hooli\n"
    with pytest.raises(AccountFileError, match=r"empty id on row 3, 5;"):
        read_accounts(write(tmp_path, text))
    with pytest.raises(AccountFileError, match=r"empty name on row 2;"):
        read_accounts(write(tmp_path, "id,name\n1,\n2,Acme\n"))


def test_it_names_duplicate_ids_and_both_rows(tmp_path: Path) -> None:
    text = "id,name\nA1,Acme\nB2,Globex\nA1,Acme again\n"
    with pytest.raises(AccountFileError, match=r"duplicate id 'A1' on rows 2, 4"):
        read_accounts(write(tmp_path, text))


def test_it_enforces_max_rows(tmp_path: Path) -> None:
    path = write(tmp_path, "id,name\n1,a\n2,b\n3,c\n")
    assert read_accounts(path, max_rows=3).num_rows == 3
    with pytest.raises(AccountFileError, match="3 rows, more than the limit of 2"):
        read_accounts(path, max_rows=2)


def test_it_reads_windows_1252_and_says_so(tmp_path: Path) -> None:
    table = read_accounts(write(tmp_path, "id,name\n1,Société Générale\n", encoding="cp1252"))
    assert table["name"].to_pylist() == ["Société Générale"]
    assert b"Windows-1252" in (table.schema.metadata or {})[NOTE_KEY]


def test_it_refuses_undecodable_bytes_with_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(b"id,name\n1,Acme\n2,Glo\x81bex\xff\xfe\n")  # 0x81 is undefined in cp1252
    with pytest.raises(AccountFileError, match="not UTF-8 \\(first bad byte on line 3\\)"):
        read_accounts(path)


def test_it_names_ragged_rows(tmp_path: Path) -> None:
    with pytest.raises(AccountFileError, match="the row '2,Acme,extra' has 3 fields, not 2"):
        read_accounts(write(tmp_path, "id,name\n1,Acme\n2,Acme,extra\n"))


def test_it_validates_rows_from_memory() -> None:
    table = accounts_from_rows(
        [{"id": 1, "name": "Acme", "website": "acme.com"}, {"id": 2, "name": "Globex"}]
    )
    assert table["id"].to_pylist() == ["1", "2"]
    assert table["domain"].to_pylist() == ["acme.com", None]
    with pytest.raises(AccountFileError, match=r"duplicate id '1' on records 1, 2"):
        accounts_from_rows([{"id": 1, "name": "Acme"}, {"id": "1", "name": "Globex"}])
    with pytest.raises(AccountFileError, match="empty name on record 2"):
        accounts_from_rows([{"id": 1, "name": "Acme"}, {"id": 2, "name": None}])
    assert accounts_from_rows([]).num_rows == 0
