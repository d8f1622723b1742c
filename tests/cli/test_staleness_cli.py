"""`metrics`, `run` and `export` say when the day asked for is later than the data, and
`load` reads files as users export them."""

from __future__ import annotations

import io
from datetime import date

import pytest
from rich.console import Console
from typer.testing import CliRunner

from quarterdeck.cli.main import app
from tests.conftest import write

runner = CliRunner()

ACCOUNTS = """
account_id,name,segment
a1,Acme,smb
a2,Beta,smb
"""
SUBSCRIPTIONS = """
subscription_id,account_id,plan,quantity,unit_price,currency,interval_months,start_date,end_date
s1,a1,Pro,1,100,USD,1,2026-01-01,2026-10-15
s2,a2,Pro,1,100,USD,1,2026-09-30,
"""
SENTENCE = ("the newest subscription data is from 2026-09-30, 65 days before 2026-12-04: "
            "contracts ending since then show as churn until renewals are loaded")


def qd(*args: object, code: int = 0):
    result = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


@pytest.fixture
def ws(tmp_path):
    root = tmp_path / "ws"
    qd("init", root)
    qd("load", write(tmp_path / "in" / "accounts.csv", ACCOUNTS),
       write(tmp_path / "in" / "subscriptions.csv", SUBSCRIPTIONS), "--workspace", root)
    return root


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_metrics_asked_after_the_newest_data_warns_and_says_how_to_pick_its_day(ws):
    result = qd("metrics", "--as-of", "2026-12-04", "--workspace", ws)
    assert SENTENCE in _flat(result.stderr)
    assert "pass --as-of 2026-09-30" in _flat(result.stderr)
    assert "warning" not in qd("metrics", "--as-of", "2026-09-30", "--workspace", ws).output


def test_export_warns_on_stderr_and_keeps_stdout_the_data(ws):
    result = qd("export", "mrr_movements", "--as-of", "2026-12-04", "--workspace", ws)
    assert SENTENCE in _flat(result.stderr)
    assert "warning" not in result.stdout


def test_run_asked_after_the_newest_data_warns_and_publishes_the_warning_for_pages(ws):
    from quarterdeck.appdb import make_engine
    from quarterdeck.appdb.data_age import stale_data_sentences
    from quarterdeck.workspace.workspace import open_workspace

    result = qd("run", "--as-of", "2026-12-04", "--workspace", ws)
    assert SENTENCE in _flat(result.stderr)
    engine = make_engine(open_workspace(ws).app_database_url)
    assert stale_data_sentences(engine) == [SENTENCE]
    engine.dispose()
    assert "warning: the newest" not in qd("run", "--as-of", "2026-10-01", "--workspace",
                                           ws).stderr



def test_run_warns_of_old_events_as_a_second_look_at_the_data_would(ws, tmp_path):
    from quarterdeck.cli.staleness import warn_if_behind
    from quarterdeck.workspace.workspace import open_workspace

    qd("load", write(tmp_path / "in" / "events.csv", """
event_id,timestamp,event,account_id,user_id
e1,2026-09-01T10:00:00Z,login,a1,
e2,2026-09-20T10:00:00Z,login,a2,
"""), "--workspace", ws)
    # The first run reads the events; the second finds their newest day in the quality
    # checks it keeps. Each prints what a fresh look at the warehouse finds.
    for day in ("2026-11-30", "2026-12-04"):
        printed = qd("run", "--as-of", day, "--workspace", ws).stderr
        assert "the newest product usage data is from 2026-09-20" in _flat(printed)
        fresh = Console(file=io.StringIO(), width=200)
        warn_if_behind(fresh, open_workspace(ws), date.fromisoformat(day))
        looked = fresh.file.getvalue()
        assert _flat(printed).replace("warning: ", "") == _flat(looked).replace(
            "warning: ", "")

def test_load_reads_a_windows_1252_file_and_says_so(tmp_path):
    root = tmp_path / "ws"
    qd("init", root)
    path = tmp_path / "in" / "accounts.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes("account_id,name\na1,Société Générale\n".encode("cp1252"))
    out = qd("load", path, "--workspace", root).output
    assert "accounts.csv was read as cp1252 (detected), not UTF-8" in _flat(out)


def test_load_refuses_an_unknown_encoding_in_one_sentence_and_takes_encoding(tmp_path):
    root = tmp_path / "ws"
    qd("init", root)
    path = tmp_path / "in" / "accounts.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes("account_id,name\na1,Łódź Spółka\n".encode("cp1250"))
    refused = _flat(qd("load", path, "--workspace", root, code=1).output)
    assert ("accounts.csv is not UTF-8 (line 2): save it as UTF-8 or pass --encoding cp1252"
            in refused)
    assert "Possible Solution" not in refused and "Invalid Input Error" not in refused
    out = qd("load", path, "--encoding", "cp1250", "--workspace", root).output
    assert "accounts.csv was read as cp1250 (as asked), not UTF-8" in _flat(out)
