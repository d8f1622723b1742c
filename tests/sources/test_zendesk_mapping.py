"""Zendesk records → contract rows, on the hand-written fixtures (values checked by hand)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from quarterdeck.sources.zendesk_mapping import (
    ZendeskOptions,
    account_row,
    csat_score,
    domain_of,
    survey_row,
    ticket_row,
    time_cursor,
    unix_time,
    unseen,
)

FIXTURES = Path(__file__).parent / "fixtures" / "zendesk"
DOC = Path(__file__).parents[2] / "docs" / "sources-zendesk.md"
OPTIONS = ZendeskOptions.model_validate({
    "subdomain": "acme-support", "segment_field": "tier", "region_field": "region",
    "owner_field": "csm_email",
    "external_id_fields": {"billing": "stripe_customer_id", "crm": "external_id"}})


def records(obj: str) -> dict[int, dict]:
    return {r["id"]: r for r in json.loads((FIXTURES / f"{obj}.json").read_text())[obj]}


def metric_sets() -> dict[int, dict]:
    body = json.loads((FIXTURES / "tickets.json").read_text())
    return {m["ticket_id"]: m for m in body["metric_sets"]}


def support(value):
    return None if value in (None, "") else f"support:{value}"


def test_an_organization_maps_every_contract_column():
    assert account_row(records("organizations")[361], OPTIONS, support) == {
        "account_id": "support:361",
        "name": "Acme Corporation",
        "domain": "acme.com",
        "segment": "Enterprise",
        "region": "NA",
        "owner_email": "dana.whitfield@quarterdeck.example",
        "created_at": "2023-01-10T09:00:00+00:00",
        "external_ids": '{"billing": "cus_N1acme", "crm": "001Hs00001AcmeQAAR"}',
        "is_deleted": False,
    }


def test_domains_are_lower_cased_and_external_ids_trimmed():
    globex = account_row(records("organizations")[362], OPTIONS, support)
    assert globex["domain"] == "globex.io"
    assert globex["external_ids"] == '{"billing": "cus_N3globex"}'
    assert domain_of(["", " WWW.Example.COM "]) == "example.com"


def test_a_deleted_organization_says_so_and_empty_fields_are_missing():
    orgs = records("organizations")
    assert account_row(orgs[363], OPTIONS, support)["is_deleted"] is True
    umbrella = account_row(orgs[364], OPTIONS, support)
    assert umbrella["domain"] is None and umbrella["segment"] is None
    assert umbrella["owner_email"] is None and umbrella["external_ids"] is None
    # an empty external id field is left out, not written as ""
    assert account_row(orgs[365], OPTIONS, support)["external_ids"] is None
    # unconfigured fields stay empty
    plain = account_row(orgs[361], ZendeskOptions(subdomain="acme"), support)
    assert plain["segment"] is None and plain["owner_email"] is None
    assert plain["external_ids"] is None


def test_a_solved_ticket_takes_its_solve_time_from_the_metric_set_and_its_csat():
    assert ticket_row(records("tickets")[35], metric_sets()[35], support) == {
        "ticket_id": "support:35",
        "account_id": "support:361",
        "created_at": "2024-04-02T09:15:00+00:00",
        "solved_at": "2024-04-03T17:30:00+00:00",
        "priority": "high",
        "status": "solved",
        "csat": 5,
        "requester_id": "support:9001",
        "is_deleted": False,
    }


def test_an_open_ticket_is_not_solved_and_an_offered_survey_is_no_score():
    row = ticket_row(records("tickets")[36], metric_sets()[36], support)
    assert row["solved_at"] is None and row["csat"] is None and row["priority"] == "urgent"


def test_a_closed_ticket_keeps_its_solve_time_and_a_bad_rating_scores_1():
    row = ticket_row(records("tickets")[37], metric_sets()[37], support)
    assert row["solved_at"] == "2024-03-04T12:00:00+00:00" and row["status"] == "closed"
    assert row["csat"] == 1 and row["priority"] is None


def test_a_solved_ticket_without_a_metric_set_counts_as_solved_at_its_last_change():
    row = ticket_row(records("tickets")[40], None, support)
    assert row["solved_at"] == "2024-05-04T10:00:00+00:00" and row["csat"] == 5


def test_a_ticket_of_no_organization_is_skipped_and_a_deleted_one_says_so():
    tickets = records("tickets")
    assert ticket_row(tickets[38], metric_sets()[38], support) is None
    deleted = ticket_row(tickets[39], None, support)
    assert deleted["is_deleted"] is True and deleted["solved_at"] is None


def test_a_rating_becomes_a_csat_response_of_its_tickets_account():
    ratings = records("satisfaction_ratings")
    assert survey_row(ratings[7002], 362, support) == {
        "response_id": "support:7002",
        "account_id": "support:362",
        "contact_id": "support:9003",
        "kind": "csat",
        "score": 1,
        "comment": "Took three days",
        "responded_at": "2024-04-05T10:00:00+00:00",
        "ticket_id": "support:37",
    }
    assert survey_row(ratings[7001], 361, support)["score"] == 5


def test_unanswered_ratings_and_ratings_of_no_account_are_skipped():
    ratings = records("satisfaction_ratings")
    assert survey_row(ratings[7003], 361, support) is None  # offered, not answered
    assert survey_row(ratings[7004], None, support) is None  # its ticket has no organization
    assert [csat_score(s) for s in ("good", "bad", "offered", "unoffered", None)] == [
        5, 1, None, None, None]


def test_the_time_cursor_skips_records_of_its_second_read_already():
    orgs = records("organizations")
    acme, globex, soylent = orgs[361], orgs[362], orgs[365]
    cursor = time_cursor([acme, globex], None)
    assert cursor == {"start_time": unix_time("2024-05-01T08:00:00Z"), "seen": [361, 362]}
    # the next page starts in that second: both come again and are skipped
    assert unseen([acme, globex, soylent], cursor) == [soylent]
    # a record changed again in a later second is not skipped
    changed = {**acme, "updated_at": "2024-06-01T00:00:00Z"}
    assert unseen([changed], cursor) == [changed]
    # seen ids of one second accumulate over pages
    more = {**soylent, "updated_at": "2024-05-01T08:00:00Z"}
    assert time_cursor([more], cursor)["seen"] == [361, 362, 365]


def test_options_are_checked():
    assert ZendeskOptions(start_date="2024-05-01").start_time == 1714521600
    assert ZendeskOptions().start_time == 0
    with pytest.raises(ValidationError, match="subdomain"):
        ZendeskOptions(subdomain="acme.zendesk.com")
    with pytest.raises(ValidationError, match="organization field key"):
        ZendeskOptions(segment_field="Tier Name")
    with pytest.raises(ValidationError, match="not a source name"):
        ZendeskOptions(external_id_fields={"Bad Name": "x"})
    with pytest.raises(ValidationError, match="Extra inputs"):
        ZendeskOptions(subdomian="acme")


def test_the_docs_example_is_a_valid_source_and_every_option_is_documented():
    from quarterdeck.sources.config import SourcesConfig

    text = DOC.read_text()
    example = yaml.safe_load(text.split("```yaml\n")[1].split("```")[0])
    source = SourcesConfig.model_validate(example).sources["support"]
    ZendeskOptions.model_validate(source.options)
    for name in ZendeskOptions.model_fields:
        assert f"| `{name}` |" in text, f"docs/sources-zendesk.md does not document {name}"
