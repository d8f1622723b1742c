"""HubSpot CRM records as data-contract rows: companies → accounts, contacts → contacts,
deals → opportunities.

Pure functions over the JSON of the CRM v3 objects API (`{"id": "512", "properties": {…},
"createdAt": …, "archived": false, "associations": {…}}`), plus the search request that
reads what changed after a cursor. The connector (`hubspot_connector.py`) does the I/O;
everything here is checked on hand-written records.

Example::

    opts = HubSpotOptions.model_validate({"external_id_properties": {"billing": "stripe_id"}})
    account_row({"id": "512", "properties": {"name": "Acme", "domain": "www.acme.com",
                                             "stripe_id": "cus_N1"}}, opts, {},
                lambda v: f"crm:{v}")
    # {"account_id": "crm:512", "name": "Acme", "domain": "acme.com",
    #  "external_ids": '{"billing": "cus_N1"}', …}
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

Row = dict[str, Any]
Ids = Callable[[Any], str | None]  # a vendor id as a canonical (prefixed) id
Kind = Literal["renewal", "expansion", "new"]

# The `dealtype` property's options (HubSpot's two defaults, and the value portals commonly
# add for renewals) and what they mean to a CS team.
DEFAULT_KINDS: dict[str, str] = {
    "newbusiness": "new",
    "existingbusiness": "expansion",
    "renewal": "renewal",
}
# `hs_buying_role` options that name a contract persona, strongest first.
PERSONAS: tuple[tuple[str, str], ...] = (
    ("CHAMPION", "champion"),
    ("DECISION_MAKER", "decision_maker"),
    ("BUDGET_HOLDER", "decision_maker"),
    ("END_USER", "user"),
)
# HubSpot-defined association types to a company that mark the primary one (v4 typeIds and
# the v3 type names the list API returns with `associations=companies`).
PRIMARY_COMPANY_TYPE_IDS = {"contacts": 1, "deals": 5}
MAX_TIE_IDS = 400  # ids kept in a cursor for records changed in its very millisecond
_PROPERTY = re.compile(r"^[a-z][a-z0-9_]{0,99}$")  # an internal property name
_SOURCE = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")


def _property_name(value: str) -> str:
    if not _PROPERTY.match(value):
        raise ValueError(f"{value!r} is not a HubSpot property's internal name "
                         "(lowercase, e.g. customer_segment)")
    return value


class HubSpotOptions(BaseModel):
    """`options:` of a HubSpot source in `definitions/sources.yml`."""

    model_config = ConfigDict(extra="forbid")

    external_id_properties: dict[str, str] = Field(
        default_factory=dict, description="Source name → company property holding that "
        "source's id for the same company (e.g. {billing: stripe_customer_id}).")
    segment_property: str | None = Field(
        None, description="Company property holding the segment (e.g. customer_segment).")
    region_property: str | None = Field(
        None, description="Company property holding the sales region.")
    owner_property: str = Field(
        "hubspot_owner_id", description="Company property naming the owner who is the "
        "account's CSM; owner_email is that owner's email.")
    arr_property: str = Field(
        "amount", description="Deal property read as the ARR at stake (amount_arr).")
    kind_property: str = Field(
        "dealtype", description="Deal property whose value gives the opportunity's kind.")
    kind_map: dict[str, Kind] = Field(
        default_factory=dict, description="Deal type value → kind, added to the defaults.")
    default_kind: Kind | None = Field(
        None, description="The kind of deals whose type is empty or not mapped.")
    currency: str | None = Field(
        None, description="The portal's currency (ISO 4217), for deals without "
        "deal_currency_code.")

    @field_validator("segment_property", "region_property", "owner_property", "arr_property",
                     "kind_property")
    @classmethod
    def _property_names(cls, value: str | None) -> str | None:
        return None if value is None else _property_name(value)

    @field_validator("external_id_properties")
    @classmethod
    def _external(cls, value: dict[str, str]) -> dict[str, str]:
        for source, prop in value.items():
            if not _SOURCE.match(source):
                raise ValueError(f"{source!r} is not a source name")
            _property_name(prop)
        return value

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z]{3}", value):
            raise ValueError(f"{value!r} is not an ISO 4217 code (e.g. USD)")
        return value.upper() if value else value

    @property
    def kinds(self) -> dict[str, str]:
        return {**DEFAULT_KINDS, **self.kind_map}


# --- values --------------------------------------------------------------------------------

def parse_datetime(value: Any) -> datetime | None:
    """A HubSpot datetime (`2024-05-01T08:00:00.123Z`, an SDK `+00:00` rendering, or epoch
    milliseconds) as an aware UTC datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    text = str(value).strip()
    if text.isdigit():
        return datetime.fromtimestamp(int(text) / 1000, UTC)
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def timestamp(value: Any) -> str | None:
    """A HubSpot datetime as ISO 8601 UTC: `2024-05-01T08:00:00+00:00`."""
    parsed = parse_datetime(value)
    return parsed.isoformat(timespec="seconds") if parsed else None


def millis(value: Any) -> str:
    """A datetime as HubSpot writes it, in UTC with milliseconds: `2024-05-01T08:00:00.123Z`."""
    parsed = parse_datetime(value)
    if parsed is None:
        raise ValueError("an empty datetime has no HubSpot value")
    return parsed.strftime("%Y-%m-%dT%H:%M:%S.") + f"{parsed.microsecond // 1000:03d}Z"


def epoch_millis(value: Any) -> str:
    """A datetime as the epoch milliseconds a search filter compares: `1714550400123`."""
    parsed = parse_datetime(value)
    if parsed is None:
        raise ValueError("an empty datetime has no HubSpot value")
    return str(int(parsed.timestamp() * 1000))


def utc_date(value: Any) -> str | None:
    """A date property (HubSpot keeps dates as midnight UTC datetimes) as an ISO date."""
    parsed = parse_datetime(value)
    return parsed.date().isoformat() if parsed else None


def domain_of(value: str | None) -> str | None:
    """A company's web domain: `https://www.Acme.com/about` → `acme.com`."""
    if not value or not value.strip():
        return None
    text = value.strip()
    host = urlsplit(text if "//" in text else f"//{text}").hostname
    if not host or "." not in host:
        return None
    return host.removeprefix("www.")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _decimal(value: Any) -> Decimal | None:
    text = _text(value)
    if text is None:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def _true(value: Any) -> bool:
    return str(value).strip().lower() == "true"


def _props(record: Mapping[str, Any]) -> Mapping[str, Any]:
    return record.get("properties") or {}


# --- associations --------------------------------------------------------------------------

def embedded_company(record: Mapping[str, Any], obj: str) -> str | None:
    """The primary company among the associations the list API returns with the record
    (`?associations=companies`): type `contact_to_company` / `deal_to_company` is the
    primary one, `…_unlabeled` any other; else the first listed."""
    listed = (((record.get("associations") or {}).get("companies") or {})
              .get("results") or [])
    primary = f"{obj[:-1]}_to_company"
    for item in listed:
        if item.get("type") == primary:
            return str(item["id"])
    return str(listed[0]["id"]) if listed else None


def primary_companies(batch: Mapping[str, Any], obj: str) -> dict[str, str]:
    """From-id → its primary company id, from a v4 associations batch read
    (`{"results": [{"from": {"id"}, "to": [{"toObjectId", "associationTypes"}]}]}`); a
    record with companies but none labelled primary gets the first."""
    type_id = PRIMARY_COMPANY_TYPE_IDS[obj]
    found: dict[str, str] = {}
    for result in batch.get("results") or []:
        targets = result.get("to") or []
        if not targets:
            continue
        chosen = next((t for t in targets if any(
            a.get("typeId") == type_id and a.get("category") == "HUBSPOT_DEFINED"
            for a in t.get("associationTypes") or [])), targets[0])
        found[str(result["from"]["id"])] = str(chosen["toObjectId"])
    return found


# --- objects -------------------------------------------------------------------------------

def company_properties(opts: HubSpotOptions) -> list[str]:
    props = ["name", "domain", "website", "industry", "country", "hs_parent_company_id",
             "createdate", "hs_lastmodifieddate", opts.owner_property, opts.segment_property,
             opts.region_property, *opts.external_id_properties.values()]
    return _unique(props)


def account_row(record: Mapping[str, Any], opts: HubSpotOptions, owners: Mapping[str, str],
                ids: Ids) -> Row:
    """A company as an accounts row; `owners` maps owner ids to their emails.

    A company without a name takes its domain as name (HubSpot creates companies from a
    contact's email domain, often unnamed)."""
    props = _props(record)
    domain = domain_of(props.get("domain")) or domain_of(props.get("website"))
    external = {source: text for source, prop in sorted(opts.external_id_properties.items())
                if (text := _text(props.get(prop)))}
    owner = _text(props.get(opts.owner_property))
    return {
        "account_id": ids(record["id"]),
        "name": _text(props.get("name")) or domain,
        "domain": domain,
        "parent_account_id": ids(_text(props.get("hs_parent_company_id"))),
        "segment": _text(props.get(opts.segment_property)) if opts.segment_property else None,
        "industry": _text(props.get("industry")),
        "region": _text(props.get(opts.region_property)) if opts.region_property else None,
        "country": _text(props.get("country")),
        "owner_email": owners.get(owner) if owner else None,
        "created_at": timestamp(props.get("createdate") or record.get("createdAt")),
        "external_ids": json.dumps(external, sort_keys=True) if external else None,
        "is_deleted": bool(record.get("archived")),
    }


def contact_properties(opts: HubSpotOptions) -> list[str]:
    return ["email", "firstname", "lastname", "jobtitle", "hs_buying_role",
            "associatedcompanyid", "createdate", "lastmodifieddate"]


def persona(buying_roles: Any) -> str | None:
    """The contract persona of `hs_buying_role` (a `;`-separated multi-select): the
    strongest role named, champion before decision maker before user."""
    roles = {r.strip() for r in str(buying_roles or "").split(";")}
    return next((p for role, p in PERSONAS if role in roles), None)


def contact_row(record: Mapping[str, Any], company: str | None, opts: HubSpotOptions,
                ids: Ids) -> Row | None:
    """A contact as a contacts row; `company` is its primary company's id, else the
    `associatedcompanyid` property. A contact of no company is no customer's: None."""
    props = _props(record)
    company = company or _text(props.get("associatedcompanyid"))
    if not company:
        return None
    name = " ".join(p for p in (_text(props.get("firstname")), _text(props.get("lastname")))
                    if p)
    return {
        "contact_id": ids(record["id"]),
        "account_id": ids(company),
        "email": _text(props.get("email")),
        "name": name or None,
        "title": _text(props.get("jobtitle")),
        "persona": persona(props.get("hs_buying_role")),
        "created_at": timestamp(props.get("createdate") or record.get("createdAt")),
        "is_deleted": bool(record.get("archived")),
    }


def deal_properties(opts: HubSpotOptions) -> list[str]:
    return _unique(["dealname", opts.kind_property, opts.arr_property, "deal_currency_code",
                    "dealstage", "pipeline", "closedate", "hs_is_closed", "hs_is_closed_won",
                    "createdate", "hs_lastmodifieddate"])


def deal_kind(value: str | None, opts: HubSpotOptions) -> str | None:
    """renewal, expansion or new from the deal type; an unmapped value stays as it is, so
    the loader sets the row aside naming the value to add to `kind_map`."""
    text = _text(value)
    mapped = opts.kinds.get(text) if text else None
    return mapped or opts.default_kind or text


def deal_outcome(props: Mapping[str, Any]) -> str:
    """won, lost or open from HubSpot's calculated `hs_is_closed_won` and `hs_is_closed`
    (the default pipeline's `closedwon` / `closedlost` stages when those are absent)."""
    stage = _text(props.get("dealstage"))
    if _true(props.get("hs_is_closed_won")) or stage == "closedwon":
        return "won"
    if _true(props.get("hs_is_closed")) or stage == "closedlost":
        return "lost"
    return "open"


def opportunity_row(record: Mapping[str, Any], company: str | None, opts: HubSpotOptions,
                    ids: Ids) -> Row | None:
    """A deal as an opportunities row; a deal of no company: None."""
    if not company:
        return None
    props = _props(record)
    currency = _text(props.get("deal_currency_code")) or opts.currency
    return {
        "opportunity_id": ids(record["id"]),
        "account_id": ids(company),
        "kind": deal_kind(props.get(opts.kind_property), opts),
        "amount_arr": _decimal(props.get(opts.arr_property)),
        "currency": currency.upper() if currency else None,
        "stage": _text(props.get("dealstage")),
        "close_date": utc_date(props.get("closedate")),
        "outcome": deal_outcome(props),
        "is_deleted": bool(record.get("archived")),
    }


@dataclass(frozen=True)
class CrmObject:
    """A HubSpot object the connector reads: its entity, the property that stamps its last
    change, the properties it asks for, and whether its rows need the company association."""

    name: str
    entity: str
    modified: str
    properties: Callable[[HubSpotOptions], list[str]]
    needs_company: bool


OBJECTS: dict[str, CrmObject] = {o.name: o for o in (
    CrmObject("companies", "accounts", "hs_lastmodifieddate", company_properties, False),
    # contacts stamp their changes in `lastmodifieddate`, the other objects in
    # `hs_lastmodifieddate`
    CrmObject("contacts", "contacts", "lastmodifieddate", contact_properties, True),
    CrmObject("deals", "opportunities", "hs_lastmodifieddate", deal_properties, True),
)}


def modified_at(record: Mapping[str, Any], obj: CrmObject) -> str:
    """The record's last change as `2024-05-01T08:00:00.123Z` (its `updatedAt` when the
    property was not returned)."""
    return millis(_props(record).get(obj.modified) or record.get("updatedAt"))


# --- incremental search --------------------------------------------------------------------

def search_request(obj: CrmObject, opts: HubSpotOptions, cursor: Mapping[str, Any],
                   limit: int) -> dict[str, Any]:
    """The CRM search body for records changed at or after the cursor, oldest change first.

    `{"modified": t, "ids": [...]}` asks for changes at or after t (after t when `ids` is
    empty); the records of `ids`, read already, are skipped by the caller. The search API
    sorts by one property only, so records changed in the same millisecond come in no set
    order; when more of them exist than fit in a page, `{"modified": t, "tie_after": id}`
    reads that millisecond alone in id order, resuming after `id`.
    """
    stamp = epoch_millis(cursor["modified"])
    if "tie_after" in cursor:
        filters = [{"propertyName": obj.modified, "operator": "EQ", "value": stamp}]
        if cursor["tie_after"] is not None:
            filters.append({"propertyName": "hs_object_id", "operator": "GT",
                            "value": str(int(cursor["tie_after"]))})
        sort = "hs_object_id"
    else:
        operator = "GTE" if cursor.get("ids") else "GT"
        filters = [{"propertyName": obj.modified, "operator": operator, "value": stamp}]
        sort = obj.modified
    return {"filterGroups": [{"filters": filters}],
            "sorts": [{"propertyName": sort, "direction": "ASCENDING"}],
            "properties": obj.properties(opts), "limit": limit}


def _unique(values: list[str | None]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))
