"""QBR decks built from the warehouse are kept in the app database, listed on the account page
and in the API, and downloaded as the .pptx they were."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from quarterdeck.app import create_app
from quarterdeck.appdb import make_engine
from quarterdeck.reports.store import keep_deck, list_decks
from quarterdeck.testing.web_client import post_login
from tests.app.conftest import PASSWORD, build_world

DECK = b"PK\x03\x04 a stand-in for a deck's bytes"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    url = f"sqlite:///{tmp_path_factory.mktemp('decks') / 'app.db'}"
    build_world(url)
    engine = make_engine(url)
    keep_deck(engine, "acme", date(2024, 6, 30), DECK, created_by="ops")
    keep_deck(engine, "acme", date(2024, 3, 31), b"older", created_by="ops")
    keep_deck(engine, "acme", date(2024, 6, 30), DECK + b"!", created_by="ops")  # replaces
    engine.dispose()
    app = create_app(url, secret_key="decks")
    yield app
    app.state.engine.dispose()


@pytest.fixture
def signed_in(app: FastAPI) -> TestClient:
    client = TestClient(app)
    assert post_login(client, "ben@example.com", PASSWORD).status_code == 303
    return client


def test_building_a_deck_again_for_the_same_day_replaces_it(app):
    decks = list_decks(app.state.engine, "acme")
    assert [(d.as_of, d.size) for d in decks] == [(date(2024, 6, 30), len(DECK) + 1),
                                                  (date(2024, 3, 31), 5)]


def test_the_account_page_lists_the_decks_and_each_downloads(signed_in):
    html = signed_in.get("/accounts/acme").text
    panel = html.split('id="decks-title"')[1].split("</section>")[0]
    assert panel.count('href="/qbr-decks/') == 2 and "Jun 30, 2024" in panel
    deck_id = panel.split('href="/qbr-decks/')[1].split('"')[0]
    got = signed_in.get(f"/qbr-decks/{deck_id}")
    assert got.status_code == 200 and got.content == DECK + b"!"
    assert got.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert 'filename="qbr-acme-2024-06-30.pptx"' in got.headers["content-disposition"]
    none = signed_in.get("/accounts/globex").text.split('id="decks-title"')[1]
    assert "quarterdeck report qbr globex" in none.split("</section>")[0]


def test_the_api_lists_them_and_an_unknown_deck_is_a_404(signed_in):
    body = signed_in.get("/api/qbr_decks", params={"account_id": "acme"}).json()
    assert [d["as_of"] for d in body] == ["2024-06-30", "2024-03-31"]
    assert body[0]["url"].startswith("/qbr-decks/")
    assert signed_in.get("/qbr-decks/999999").status_code == 404
    assert signed_in.get("/qbr-decks/99999999999999999999").status_code == 400


def test_the_cli_keeps_the_deck_it_writes(tmp_path: Path):
    """Through the documented command on a small demo company."""
    import json

    from typer.testing import CliRunner

    from quarterdeck.cli.main import app as cli

    runner = CliRunner()

    def qd(*args: object) -> str:
        result = runner.invoke(cli, [str(a) for a in args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    qd("demo", "--out", tmp_path / "demo", "--accounts", 40, "--years", 2, "--seed", 5)
    today = json.loads((tmp_path / "demo" / "demo.json").read_text())["today"]
    qd("init", tmp_path / "ws")
    qd("load", tmp_path / "demo" / "data", "--workspace", tmp_path / "ws")
    qd("run", "--as-of", today, "--workspace", tmp_path / "ws")
    engine = make_engine(f"sqlite:///{tmp_path / 'ws' / 'data' / 'app.db'}")
    try:
        from sqlalchemy import text

        with engine.connect() as c:
            account = c.execute(text("SELECT account_id FROM account_snapshots WHERE arr > 0 "
                                     "ORDER BY arr DESC LIMIT 1")).scalar()
        out = qd("report", "qbr", account, "--as-of", today, "--out", tmp_path / "deck.pptx",
                 "--workspace", tmp_path / "ws")
        assert "kept in the app database" in out
        decks = list_decks(engine, account)
        assert [str(d.as_of) for d in decks] == [today]
        assert decks[0].size == (tmp_path / "deck.pptx").stat().st_size
    finally:
        engine.dispose()
