"""Zendesk records as data-contract rows: organizations → accounts, tickets → tickets,
satisfaction ratings → surveys.

Pure functions over the JSON the Zendesk Support API returns (`{"id": 361, "name": …,
"organization_fields": {…}}`), plus the options of a Zendesk source. The connector
(`zendesk_connector.py`) does the I/O; everything here is checked on hand-written records.

Example::

    opts = ZendeskOptions.model_validate({"subdomain": "acme", "segment_field": "tier"})
    account_row({"id": 361, "name": "Acme", "domain_names": ["acme.com"]}, opts,
                lambda v: f"support:{v}")
    # {"account_id": "support:361", "name": "Acme", "domain": "acme.com", …}
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

Row = dict[str, Any]
Ids = Callable[[Any], str | None]  # a vendor id as a canonical (prefixed) id

# Legacy CSAT answers a ticket's survey with good or bad; the contract's CSAT is 1–5.
CSAT_SCORES = {"good": 5, "bad": 1}
SOLVED_STATUSES = ("solved", "closed")
PRIORITIES = ("low", "normal", "high", "urgent")
# The organization's own `external_id` field, as a value of `external_id_fields`.
EXTERNAL_ID = "external_id"
_SUBDOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_FIELD_KEY = re.compile(r"^[a-z0-9_]{1,64}$")  # an organization field's key: tier, csm_email
_SOURCE = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")


class ZendeskOptions(BaseModel):
    """`options:` of a Zendesk source in `definitions/sources.yml`."""

    model_config = ConfigDict(extra="forbid")

    subdomain: str | None = Field(
        None, description="The account's subdomain: acme for acme.zendesk.com (required "
        "unless the source sets base_url).")
    segment_field: str | None = Field(
        None, description="Organization field (its key) holding the segment (e.g. tier).")
    region_field: str | None = Field(
        None, description="Organization field (its key) holding the region.")
    owner_field: str | None = Field(
        None, description="Organization field (its key) holding the CSM's email.")
    external_id_fields: dict[str, str] = Field(
        default_factory=dict, description="Source name → organization field key (or "
        "external_id, the organization's own field) holding that source's id for the "
        "same company (e.g. {billing: stripe_customer_id}).")
    start_date: date | None = Field(
        None, description="The first sync reads changes from this day on (UTC); default "
        "everything.")

    @field_validator("subdomain")
    @classmethod
    def _subdomain(cls, value: str | None) -> str | None:
        if value is not None and not _SUBDOMAIN.match(value):
            raise ValueError(f"{value!r} is not a Zendesk subdomain (acme for "
                             "acme.zendesk.com)")
        return value

    @field_validator("segment_field", "region_field", "owner_field")
    @classmethod
    def _field_keys(cls, value: str | None) -> str | None:
        if value is not None and not _FIELD_KEY.match(value):
            raise ValueError(f"{value!r} is not an organization field key (e.g. tier)")
        return value

    @field_validator("external_id_fields")
    @classmethod
    def _external(cls, value: dict[str, str]) -> dict[str, str]:
        for source, key in value.items():
            if not _SOURCE.match(source):
                raise ValueError(f"{source!r} is not a source name")
            if not _FIELD_KEY.match(key):
                raise ValueError(f"{key!r} is not an organization field key (e.g. "
                                 "stripe_customer_id) or external_id")
        return value

    @property
    def start_time(self) -> int:
        """Unix time the first sync starts from: `start_date` at midnight UTC, else 0."""
        if self.start_date is None:
            return 0
        return int(datetime(self.start_date.year, self.start_date.month, self.start_date.day,
                            tzinfo=UTC).timestamp())


# --- values --------------------------------------------------------------------------------

def parse_datetime(value: str | None) -> datetime | None:
    """A Zendesk time (`2024-05-01T08:00:00Z`) as an aware UTC datetime."""
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def timestamp(value: str | None) -> str | None:
    """A Zendesk time as ISO 8601 UTC: `2024-05-01T08:00:00+00:00`."""
    parsed = parse_datetime(value)
    return parsed.isoformat(timespec="seconds") if parsed else None


def unix_time(value: str) -> int:
    """A Zendesk time as Unix seconds, the unit of the incremental exports' start_time."""
    parsed = parse_datetime(value)
    if parsed is None:
        raise ValueError("an empty time has no Unix time")
    return int(parsed.timestamp())


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def domain_of(domain_names: list[str] | None) -> str | None:
    """The organization's first domain, lower-cased, without `www.`."""
    for name in domain_names or ():
        text = _text(name)
        if text:
            return text.lower().removeprefix("www.")
    return None


def _org_field(record: Row, key: str | None) -> str | None:
    if key is None:
        return None
    if key == EXTERNAL_ID:
        return _text(record.get(EXTERNAL_ID))
    fields = record.get("organization_fields")
    return _text(fields.get(key)) if isinstance(fields, dict) else None


def csat_score(score: str | None) -> int | None:
    """A legacy CSAT answer as the contract's 1–5: good → 5, bad → 1; offered, unoffered
    (no answer yet) → None."""
    return CSAT_SCORES.get(score or "")


# --- objects -------------------------------------------------------------------------------

def account_row(record: Row, opts: ZendeskOptions, ids: Ids) -> Row:
    """An organization as an accounts row; `external_ids` from the configured fields, and
    `is_deleted` for an organization the export reports deleted (`deleted_at`)."""
    external = {source: text for source, key in sorted(opts.external_id_fields.items())
                if (text := _org_field(record, key))}
    return {
        "account_id": ids(record["id"]),
        "name": _text(record.get("name")),
        "domain": domain_of(record.get("domain_names")),
        "segment": _org_field(record, opts.segment_field),
        "region": _org_field(record, opts.region_field),
        "owner_email": _org_field(record, opts.owner_field),
        "created_at": timestamp(record.get("created_at")),
        "external_ids": json.dumps(external, sort_keys=True) if external else None,
        "is_deleted": record.get("deleted_at") is not None,
    }


def solved_at(record: Row, metric_set: Row | None) -> str | None:
    """When a ticket was solved: its metric set's `solved_at` (the latest solve); a solved or
    closed ticket without one counts as solved at its last change, an upper bound."""
    if metric_set and metric_set.get("solved_at"):
        return timestamp(metric_set["solved_at"])
    if record.get("status") in SOLVED_STATUSES:
        return timestamp(record.get("updated_at"))
    return None


def ticket_row(record: Row, metric_set: Row | None, ids: Ids) -> Row | None:
    """A ticket as a tickets row, `csat` from its satisfaction rating; a ticket of no
    organization is no account's: None."""
    if not record.get("organization_id"):
        return None
    rating = record.get("satisfaction_rating")
    priority = record.get("priority")
    return {
        "ticket_id": ids(record["id"]),
        "account_id": ids(record["organization_id"]),
        "created_at": timestamp(record.get("created_at")),
        "solved_at": solved_at(record, metric_set),
        "priority": priority if priority in PRIORITIES else None,
        "status": _text(record.get("status")),
        "csat": csat_score(rating.get("score")) if isinstance(rating, dict) else None,
        "requester_id": ids(record.get("requester_id")),
        "is_deleted": record.get("status") == "deleted",
    }


def survey_row(record: Row, organization_id: Any, ids: Ids) -> Row | None:
    """A satisfaction rating as a CSAT surveys row, for the account of its ticket's
    organization; a rating not answered (yet), or of a ticket of no organization: None."""
    score = csat_score(record.get("score"))
    if score is None or not organization_id:
        return None
    return {
        "response_id": ids(record["id"]),
        "account_id": ids(organization_id),
        "contact_id": ids(record.get("requester_id")),
        "kind": "csat",
        "score": score,
        "comment": _text(record.get("comment")),
        "responded_at": timestamp(record.get("updated_at") or record.get("created_at")),
        "ticket_id": ids(record.get("ticket_id")),
    }


# --- incremental cursors -------------------------------------------------------------------

def time_cursor(records: list[Row], previous: dict[str, Any] | None) -> dict[str, Any]:
    """The cursor after `records` of a time-ordered read: the newest `updated_at` (as Unix
    time) and the ids changed in that second, which the next read returns again (its
    start_time is inclusive) and are then skipped."""
    newest = max(unix_time(r["updated_at"]) for r in records)
    seen = sorted({r["id"] for r in records if unix_time(r["updated_at"]) == newest})
    if previous and previous.get("start_time") == newest:
        seen = sorted({*previous.get("seen", ()), *seen})
    return {"start_time": newest, "seen": seen}


def unseen(records: list[Row], cursor: dict[str, Any] | None) -> list[Row]:
    """`records` without those the cursor says were read already (same id, changed in the
    cursor's second)."""
    if not cursor or not cursor.get("seen"):
        return records
    seen = set(cursor["seen"])
    start = cursor["start_time"]
    return [r for r in records
            if not (r["id"] in seen and unix_time(r["updated_at"]) == start)]
