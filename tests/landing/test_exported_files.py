"""Files as users really export them: Excel's encodings, empty files, spreadsheet line
numbers, impossible and local dates, all said in a sentence the user can act on."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from quarterdeck.landing.input_files import discover
from quarterdeck.landing.loader import Loader

ACCOUNTS_HEADER = "account_id,name,created_at\n"
CP1252_NAMES = ["Société Générale", "Müller – Café €", "Ñandú S.A."]
POLISH_NAMES = ["Łódź Spółka z o.o.", "Zażółć gęślą jaźń"]


@pytest.fixture
def loader(tmp_path: Path) -> Loader:
    return Loader(duckdb.connect(), tmp_path / "data" / "landing", tmp_path / "data" / "rejects")


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def _accounts(names: list[str]) -> str:
    return ACCOUNTS_HEADER + "".join(f"a{i},{n},2024-01-0{i}\n" for i, n in enumerate(names, 1))


def _load(loader: Loader, path: Path, **kwargs):
    return loader.load([path], **kwargs).files[0]


def test_windows_1252_csv_from_excel_is_detected_and_read(loader, tmp_path):
    path = _write(tmp_path / "in" / "accounts.csv", _accounts(CP1252_NAMES), "cp1252")

    result = _load(loader, path)

    assert result.status == "loaded", [str(p) for p in result.problems]
    assert (result.encoding, result.encoding_detected) == ("cp1252", True)
    names = loader.con.execute("SELECT name FROM accounts ORDER BY account_id").fetchall()
    assert [n for (n,) in names] == CP1252_NAMES


def test_csv_in_an_undetectable_encoding_is_refused_with_one_plain_sentence(loader, tmp_path):
    path = _write(tmp_path / "in" / "accounts.csv", _accounts(POLISH_NAMES), "cp1250")

    result = _load(loader, path)

    assert result.status == "rejected"
    (problem,) = result.problems
    assert problem.reason == ("accounts.csv is not UTF-8 (line 2): save it as UTF-8 or pass "
                              "--encoding cp1252 (or the encoding it was saved in)")
    assert "\n" not in str(problem) and "Possible Solution" not in str(problem)


def test_encoding_named_by_the_user_reads_the_file(loader, tmp_path):
    path = _write(tmp_path / "in" / "accounts.csv", _accounts(POLISH_NAMES), "cp1250")

    result = _load(loader, path, encoding="cp1250")

    assert result.status == "loaded" and result.encoding == "cp1250"
    assert not result.encoding_detected
    names = loader.con.execute("SELECT name FROM accounts ORDER BY account_id").fetchall()
    assert [n for (n,) in names] == POLISH_NAMES


def test_unknown_encoding_name_is_refused_plainly(loader, tmp_path):
    path = _write(tmp_path / "in" / "accounts.csv", _accounts(["Acme"]))
    result = _load(loader, path, encoding="klingon")
    assert result.status == "rejected"
    assert result.problems[0].reason.startswith("'klingon' is not an encoding")


@pytest.mark.parametrize("content", [b"", b"\n\n", b"\xef\xbb\xbf\r\n"])
def test_empty_file_says_it_is_empty(loader, tmp_path, content):
    path = tmp_path / "in" / "accounts.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(content)

    result = _load(loader, path)

    assert result.status == "rejected"
    assert [p.reason for p in result.problems] == [
        "accounts.csv is empty: it has no header and no rows"]


def test_csv_problems_are_placed_by_spreadsheet_line_and_data_row(loader, tmp_path):
    path = _write(tmp_path / "in" / "accounts.csv",
                  ACCOUNTS_HEADER + "a1,Acme,2024-01-01\na2,,2024-01-01\na1,Again,2024-01-01\n")

    result = _load(loader, path)

    shown = {(p.field, str(p).split(": ", 1)[0]) for p in result.problems}
    assert ("name", f"{path}, line 3 (row 2 of data), field 'name'") in shown
    duplicate = next(p for p in result.problems if p.field == "account_id")
    assert (duplicate.row, duplicate.line) == (3, 4)
    assert duplicate.reason == "duplicate id: the same account_id is on line 2 (row 1 of data)"
    rejects = Path(result.rejects_file).read_text().splitlines()
    assert rejects[0] == "file,line,row,field,value,reason"
    assert rejects[1].startswith(f"{path},3,2,name,")


def test_ndjson_problems_are_placed_by_line(loader, tmp_path):
    path = _write(tmp_path / "in" / "accounts.ndjson",
                  '{"account_id": "a1", "name": "Acme"}\n{"account_id": "a2"}\n')
    (problem,) = _load(loader, path).problems
    assert (problem.row, problem.line) == (2, 2)
    assert str(problem).startswith(f"{path}, line 2, field 'name'")


@pytest.mark.parametrize(("value", "reason"), [
    ("2024-02-30", "not a real date"),
    ("2023-02-29", "not a real date"),
    ("2024-02-30T10:00:00Z", "not a real date"),
    ("03/15/2024", "not an ISO date: write it as YYYY-MM-DD"),
    ("15.03.2024", "not an ISO date: write it as YYYY-MM-DD"),
    ("3/15/24 9:30", "not an ISO date: write it as YYYY-MM-DD"),
    ("next tuesday", "not a valid ISO 8601 timestamp"),
])
def test_impossible_and_local_dates_say_what_is_wrong(loader, tmp_path, value, reason):
    path = _write(tmp_path / "in" / "accounts.csv", ACCOUNTS_HEADER + f"a1,Acme,{value}\n")

    (problem,) = _load(loader, path).problems

    assert problem.field == "created_at"
    assert problem.reason.startswith(reason), problem.reason


def test_local_date_in_a_date_column_gets_the_date_format_hint(loader, tmp_path):
    path = _write(tmp_path / "in" / "fx_rates.csv",
                  "date,currency,rate_to_base\n03/15/2024,EUR,1.1\n2024-02-30,EUR,1.1\n")
    reasons = [p.reason for p in _load(loader, path).problems]
    assert reasons == [
        "not an ISO date: write it as YYYY-MM-DD (e.g. 2024-03-15, not 03/15/2024)",
        "not a real date (the day does not exist in that month, or the time is out of range)"]


def test_file_refused_for_its_header_still_counts_the_rows_it_read(loader, tmp_path):
    path = _write(tmp_path / "in" / "accounts.csv", "account_id,title\na1,x\na2,y\na3,z\n")

    result = _load(loader, path)

    assert result.status == "rejected"
    assert [p.field for p in result.problems] == ["name"]
    assert result.rows_read == 3


def test_unreadable_file_error_is_one_line_not_the_engine_dump(loader, tmp_path):
    path = _write(tmp_path / "in" / "accounts.parquet", "this is not parquet")
    (problem,) = _load(loader, path).problems
    assert problem.reason.startswith("cannot read the file: ")
    assert "\n" not in problem.reason and "Error:" not in problem.reason


def test_detected_file_keeps_the_hash_of_its_own_bytes(loader, tmp_path):
    path = _write(tmp_path / "in" / "accounts.csv", _accounts(CP1252_NAMES), "cp1252")
    assert _load(loader, path).status == "loaded"
    assert _load(loader, path).status == "unchanged"
    assert not list((tmp_path / "data" / "tmp").iterdir())  # the UTF-8 copy is gone


def test_discover_tells_text_files_from_compressed_and_parquet(tmp_path):
    for name in ("accounts.csv", "events.ndjson.gz", "tickets.parquet"):
        _write(tmp_path / name, "x")
    by_name = {f.path.name: f for f in discover([tmp_path])}
    assert by_name["accounts.csv"].header_lines == 1 and by_name["accounts.csv"].is_plain_text
    assert not by_name["events.ndjson.gz"].is_plain_text
    assert by_name["tickets.parquet"].header_lines is None


def test_data_contract_doc_example_problems_are_what_the_loader_says(loader, tmp_path):
    import re

    from quarterdeck.contract.docs import _VALIDATION

    example = re.search(r"```csv\n(subscription_id.*?)```", _VALIDATION, re.S).group(1)
    printed = re.search(r"```text\n\$ quarterdeck load \S+\n[^\n]*\n(.*?)```", _VALIDATION,
                        re.S).group(1).replace("\\\n", "")
    _load(loader, _write(tmp_path / "in" / "accounts.csv", "account_id,name\nA-001,Acme\n"))
    path = Path("/srv/acme/in/subscriptions.csv")
    real = _write(tmp_path / "srv" / "subscriptions.csv", example)
    problems = _load(loader, real).problems
    assert [str(p).replace(str(real), str(path)) for p in problems] == [
        line.strip() for line in printed.strip().splitlines()]
