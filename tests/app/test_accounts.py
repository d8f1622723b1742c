"""The account list and account page, as HTML and as JSON, over the hand-made world."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from fastapi.testclient import TestClient

from quarterdeck.app import create_app
from quarterdeck.appdb import add_user
from quarterdeck.testing.web_client import post_login

# The world's total ARR, worked out in tests/app/conftest.py.
TOTAL_ARR = Decimal("303999.96")


def _names(client: TestClient, **params: object) -> list[str]:
    response = client.get("/api/accounts", params={"status": "all", **params})
    assert response.status_code == 200, response.text
    return [a["name"] for a in response.json()["accounts"]]


def test_home_is_the_signed_in_persons_book(signed_in: TestClient) -> None:
    response = signed_in.get("/", follow_redirects=False)
    assert response.status_code == 200
    assert "Nothing published yet" in response.text  # this world has no book published


def test_list_is_sorted_by_arr_with_count_and_total(signed_in: TestClient) -> None:
    body = signed_in.get("/api/accounts", params={"status": "all"}).json()
    assert body["as_of"] == "2024-06-30" and body["currency"] == "USD"
    assert body["total"] == 6
    assert Decimal(body["total_arr"]) == TOTAL_ARR
    assert [a["account_id"] for a in body["accounts"]] == [
        "acme",
        "hooli",
        "globex",
        "acme-eu",
        "initech",
        "umbrella",
    ]


def test_search_is_by_part_of_the_name_in_any_case(signed_in: TestClient) -> None:
    assert _names(signed_in, q="ACME") == ["Acme Corp", "Acme Europe GmbH"]
    assert _names(signed_in, q="100%") == []  # "%" is a character, not a wildcard


def test_filters_by_segment_and_owner_combine(signed_in: TestClient) -> None:
    assert _names(signed_in, segment="mid-market") == ["Globex", "Umbrella Health"]
    assert _names(signed_in, owner="ana@example.com", segment="enterprise") == [
        "Acme Corp",
        "Acme Europe GmbH",
    ]
    body = signed_in.get("/api/accounts",
                         params={"owner": "ben@example.com", "status": "all"}).json()
    assert (body["total"], Decimal(body["total_arr"])) == (2, Decimal("54000.00"))


def test_sorting_puts_missing_values_last(signed_in: TestClient) -> None:
    assert _names(signed_in, sort="renewal_date")[-1] == "Umbrella Health"
    assert _names(signed_in, sort="-renewal_date")[-1] == "Umbrella Health"
    assert _names(signed_in, sort="name")[0] == "Acme Corp"
    assert _names(signed_in, sort="no-such-column")[0] == "Acme Corp"  # falls back to -arr


def test_pagination_splits_without_overlap(signed_in: TestClient) -> None:
    first = signed_in.get("/api/accounts", params={"per_page": 4, "status": "all"}).json()
    second = signed_in.get("/api/accounts",
                           params={"per_page": 4, "page": 2, "status": "all"}).json()
    assert (first["pages"], len(first["accounts"]), len(second["accounts"])) == (2, 4, 2)
    ids = [a["account_id"] for a in first["accounts"] + second["accounts"]]
    assert len(set(ids)) == 6
    assert Decimal(second["total_arr"]) == TOTAL_ARR


def test_list_page_shows_the_accounts_filters_and_as_of(signed_in: TestClient) -> None:
    html = signed_in.get("/accounts").text
    assert "Jun 30, 2024" in html
    assert "$304,000" in html and "ARR = 12 × MRR" in html
    assert html.index("Acme Corp") < html.index("Hooli") < html.index("Globex")
    assert '<option value="ana@example.com"' in html and ">Ana Ruiz</option>" in html

    filtered = signed_in.get("/accounts", params={"segment": "smb"}).text
    assert "Initech" in filtered and "Globex" not in filtered


def test_list_page_paginates_with_links_that_keep_the_filters(signed_in: TestClient) -> None:
    page = signed_in.get("/accounts", params={"segment": "enterprise", "per_page": 2}).text
    assert "Page 1 of 2" in page
    assert 'href="/accounts?segment=enterprise&amp;page=2&amp;per_page=2"' in page
    second = signed_in.get("/accounts?segment=enterprise&page=2&per_page=2").text
    assert "Page 2 of 2" in second and "Acme Europe GmbH" in second and "Hooli" not in second


def test_no_match_says_so(signed_in: TestClient) -> None:
    assert "No accounts match" in signed_in.get("/accounts", params={"q": "zzz"}).text


def test_account_page_shows_facts_chart_and_hierarchy(signed_in: TestClient) -> None:
    html = signed_in.get("/accounts/acme").text
    assert "Acme Corp" in html
    assert "$120,000" in html and "$10,000.00" in html  # ARR and MRR
    assert "Aug 15, 2024" in html and "in 46 days" in html
    assert "Mar 1, 2021" in html
    assert "1,520" in html and "48" in html  # events and active users in 30 days
    arr_chart = html.split('aria-label="ARR by month"')[1].split("</svg>")[0]
    assert arr_chart.count("<circle") == 24
    assert "June 2024: $120,000 ARR" in html  # the newest point's tooltip
    assert 'href="/accounts/acme-eu"' in html

    child = signed_in.get("/accounts/acme-eu").text
    assert 'href="/accounts/acme"' in child and "No ARR history" in child


def test_unknown_account_is_a_404_page_and_a_404_json(signed_in: TestClient) -> None:
    page = signed_in.get("/accounts/nope")
    assert page.status_code == 404 and "Page not found" in page.text
    api = signed_in.get("/api/accounts/nope")
    assert api.status_code == 404 and api.json()["error"] == "NotFound"


def test_account_json_has_every_published_field(signed_in: TestClient) -> None:
    body = signed_in.get("/api/accounts/acme").json()
    assert (body["arr"], body["mrr"], body["currency"]) == ("120000.00", "10000.00", "USD")
    assert body["children"] == [
        {"account_id": "acme-eu", "name": "Acme Europe GmbH", "arr": "30000.00"}
    ]
    assert body["arr_history"][-1] == {"month": "2024-06-01", "arr": "120000.00"}
    assert body["last_activity_at"] == "2024-06-29T15:00:00Z"


def test_empty_state_before_anything_is_published(tmp_path: Path, password: str) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    app = create_app(url, secret_key="test")
    add_user(app.state.engine, "ana@example.com", "Ana", "csm", password)
    client = TestClient(app)
    post_login(client, "ana@example.com", password)
    html = client.get("/accounts").text
    assert "Nothing published yet" in html and "quarterdeck run" in html
    assert client.get("/api/accounts").json()["total"] == 0
    assert client.get("/accounts/acme").status_code == 404
