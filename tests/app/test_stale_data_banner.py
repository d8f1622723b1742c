"""Every page warns when the published day is later than the newest data behind it."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient

from quarterdeck.app import create_app
from quarterdeck.appdb import make_engine
from quarterdeck.appdb.data_age import publish_stale_data, stale_data_sentences
from quarterdeck.quality.data_age import DataAge
from tests.app.conftest import AS_OF, build_world, sign_in

SUBSCRIPTIONS_BEHIND = DataAge("subscriptions", date(2024, 4, 26), AS_OF)


def _app(tmp_path, behind: list[DataAge]):
    url = f"sqlite:///{tmp_path / 'app.db'}"
    build_world(url)
    engine = make_engine(url)
    publish_stale_data(engine, AS_OF, behind)
    engine.dispose()
    return create_app(url, secret_key="test-secret", workspace_name="Example Co")


def test_pages_warn_when_the_published_day_is_later_than_the_data(tmp_path):
    app = _app(tmp_path, [SUBSCRIPTIONS_BEHIND])
    client = sign_in(TestClient(app))
    for page in ("/accounts", "/accounts/acme"):
        response = client.get(page)
        assert response.status_code == 200, page
        html = response.text
        assert "These figures are as of a day later than the newest data" in html, page
        assert ("The newest subscription data is from 2024-04-26, 65 days before 2024-06-30: "
                "contracts ending since then show as churn until renewals are loaded") in html
    login = TestClient(app).get("/login").text
    assert "newest subscription data" not in login  # nothing is shown before signing in
    app.state.engine.dispose()


def test_pages_say_nothing_when_the_data_reaches_the_day(tmp_path):
    app = _app(tmp_path, [])
    html = sign_in(TestClient(app)).get("/accounts").text
    assert "newest data" not in html
    app.state.engine.dispose()


def test_publishing_a_day_again_replaces_its_warnings(tmp_path):
    url = f"sqlite:///{tmp_path / 'app.db'}"
    build_world(url)
    engine = make_engine(url)
    publish_stale_data(engine, AS_OF, [SUBSCRIPTIONS_BEHIND])
    publish_stale_data(engine, AS_OF, [])
    assert stale_data_sentences(engine) == []
    publish_stale_data(engine, AS_OF, [SUBSCRIPTIONS_BEHIND])
    assert stale_data_sentences(engine, AS_OF) == [SUBSCRIPTIONS_BEHIND.sentence]
    engine.dispose()
