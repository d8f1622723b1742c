"""Salesforce records as data-contract rows: Account → accounts, Contact → contacts,
Opportunity → opportunities.

Pure functions over the records of the REST API's query resource (`{"attributes": …,
"Id": "001…", "Name": …}`), plus the SOQL that reads what changed since a cursor. The
connector (`salesforce_connector.py`) does the I/O; everything here is checked on
hand-written records.

Example::

    opts = SalesforceOptions.model_validate({"segment_field": "Segment__c"})
    account_row({"Id": "001A", "Name": "Acme", "Website": "https://www.acme.com"}, opts,
                lambda v: f"crm:{v}")
    # {"account_id": "crm:001A", "name": "Acme", "domain": "acme.com", …}
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Row = dict[str, Any]
Ids = Callable[[Any], str | None]  # a vendor id as a canonical (prefixed) id
Kind = Literal["renewal", "expansion", "new"]

# Opportunity.Type's standard picklist values and what they mean to a CS team.
DEFAULT_KINDS: dict[str, str] = {
    "Renewal": "renewal",
    "Existing Customer - Upgrade": "expansion",
    "New Customer": "new",
}
# Fields every query reads: the cursor (SystemModstamp, Id) and the deletion flag.
CURSOR_FIELDS = ("Id", "SystemModstamp", "IsDeleted")
_FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,79}$")  # an API name: Name, Segment__c, ns__X__c
_SOURCE = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
_ID = re.compile(r"^[A-Za-z0-9]{15,18}$")


def _api_name(value: str) -> str:
    if not _FIELD.match(value):
        raise ValueError(f"{value!r} is not a Salesforce field API name (e.g. Segment__c)")
    return value


class SalesforceOptions(BaseModel):
    """`options:` of a Salesforce source in `definitions/sources.yml`."""

    model_config = ConfigDict(extra="forbid")

    segment_field: str | None = Field(
        None, description="Account field holding the segment (e.g. Segment__c).")
    region_field: str | None = Field(
        None, description="Account field holding the sales region (e.g. Region__c).")
    owner_field: str = Field(
        "OwnerId", description="Account lookup to the User who is the account's CSM; "
        "owner_email is that user's Email (e.g. CSM__c).")
    external_id_fields: dict[str, str] = Field(
        default_factory=dict, description="Source name → Account field holding that "
        "source's id for the same company (e.g. {billing: Stripe_Customer_Id__c}).")
    arr_field: str = Field(
        "Amount", description="Opportunity field read as the ARR at stake (amount_arr).")
    multi_currency: bool = Field(
        False, description="The org has multiple currencies: read CurrencyIsoCode.")
    currency: str | None = Field(
        None, description="A single-currency org's currency (ISO 4217), for amounts.")
    kind_map: dict[str, Kind] = Field(
        default_factory=dict, description="Opportunity Type → kind, added to the defaults.")
    default_kind: Kind | None = Field(
        None, description="The kind of opportunities whose Type is empty or not mapped.")
    api_version: str = Field("59.0", description="The REST API version.")
    domain: str | None = Field(
        None, description="Login domain for username/password login: login, test or "
        "your My Domain (e.g. acme.my).")

    @field_validator("segment_field", "region_field", "owner_field", "arr_field")
    @classmethod
    def _field_names(cls, value: str | None) -> str | None:
        return None if value is None else _api_name(value)

    @field_validator("owner_field")
    @classmethod
    def _lookup(cls, value: str) -> str:
        if not (value.endswith("Id") or value.endswith("__c")):
            raise ValueError(f"{value!r} is not a lookup field (OwnerId, or a custom X__c)")
        return value

    @field_validator("external_id_fields")
    @classmethod
    def _external(cls, value: dict[str, str]) -> dict[str, str]:
        for source, field in value.items():
            if not _SOURCE.match(source):
                raise ValueError(f"{source!r} is not a source name")
            _api_name(field)
        return value

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z]{3}", value):
            raise ValueError(f"{value!r} is not an ISO 4217 code (e.g. USD)")
        return value.upper() if value else value

    @field_validator("api_version")
    @classmethod
    def _version(cls, value: str) -> str:
        if not re.fullmatch(r"\d{2,3}\.0", str(value)):
            raise ValueError(f"{value!r} is not a REST API version such as 59.0")
        return str(value)

    @model_validator(mode="after")
    def _one_currency_rule(self) -> SalesforceOptions:
        if self.multi_currency and self.currency:
            raise ValueError("set either `multi_currency: true` (amounts in each record's "
                             "CurrencyIsoCode) or `currency`, not both")
        return self

    @property
    def kinds(self) -> dict[str, str]:
        return {**DEFAULT_KINDS, **self.kind_map}

    @property
    def owner_relationship(self) -> str:
        """The owner lookup's relationship name: OwnerId → Owner, CSM__c → CSM__r."""
        if self.owner_field.endswith("__c"):
            return self.owner_field[:-1] + "r"
        return self.owner_field[:-2]


# --- values --------------------------------------------------------------------------------

def parse_datetime(value: str | None) -> datetime | None:
    """A Salesforce dateTime (`2024-05-01T08:00:00.000+0000`) as an aware UTC datetime."""
    if not value:
        return None
    return datetime.fromisoformat(value).astimezone(UTC)


def timestamp(value: str | None) -> str | None:
    """A Salesforce dateTime as ISO 8601 UTC: `2024-05-01T08:00:00+00:00`."""
    parsed = parse_datetime(value)
    return parsed.isoformat(timespec="seconds") if parsed else None


def soql_datetime(value: str) -> str:
    """A dateTime as a SOQL literal in UTC with milliseconds: `2024-05-01T08:00:00.000Z`."""
    parsed = parse_datetime(value)
    if parsed is None:
        raise ValueError("an empty dateTime has no SOQL literal")
    return parsed.strftime("%Y-%m-%dT%H:%M:%S.") + f"{parsed.microsecond // 1000:03d}Z"


def domain_of(website: str | None) -> str | None:
    """The web domain of an Account's Website: `https://www.Acme.com/about` → `acme.com`."""
    if not website or not website.strip():
        return None
    text = website.strip()
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
    if value is None or value == "":
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _related(record: Row, relationship: str, field: str) -> Any:
    parent = record.get(relationship)
    return parent.get(field) if isinstance(parent, dict) else None


# --- objects -------------------------------------------------------------------------------

def account_fields(opts: SalesforceOptions) -> list[str]:
    fields = ["Name", "Website", "Industry", "BillingCountry", "ParentId", "CreatedDate",
              f"{opts.owner_relationship}.Email", opts.segment_field, opts.region_field,
              *opts.external_id_fields.values()]
    return _unique([*CURSOR_FIELDS, *fields])


def account_row(record: Row, opts: SalesforceOptions, ids: Ids) -> Row:
    """An Account as an accounts row; `external_ids` from the configured id fields."""
    external = {source: text for source, field in sorted(opts.external_id_fields.items())
                if (text := _text(record.get(field)))}
    return {
        "account_id": ids(record["Id"]),
        "name": _text(record.get("Name")),
        "domain": domain_of(record.get("Website")),
        "parent_account_id": ids(record.get("ParentId")),
        "segment": _text(record.get(opts.segment_field)) if opts.segment_field else None,
        "industry": _text(record.get("Industry")),
        "region": _text(record.get(opts.region_field)) if opts.region_field else None,
        "country": _text(record.get("BillingCountry")),
        "owner_email": _text(_related(record, opts.owner_relationship, "Email")),
        "created_at": timestamp(record.get("CreatedDate")),
        "external_ids": json.dumps(external, sort_keys=True) if external else None,
        "is_deleted": bool(record.get("IsDeleted")),
    }


def contact_fields(opts: SalesforceOptions) -> list[str]:
    return _unique([*CURSOR_FIELDS, "AccountId", "Email", "Name", "Title", "CreatedDate"])


def contact_row(record: Row, opts: SalesforceOptions, ids: Ids) -> Row | None:
    """A Contact as a contacts row; a private contact (no AccountId) is no customer's: None."""
    if not record.get("AccountId"):
        return None
    return {
        "contact_id": ids(record["Id"]),
        "account_id": ids(record["AccountId"]),
        "email": _text(record.get("Email")),
        "name": _text(record.get("Name")),
        "title": _text(record.get("Title")),
        "created_at": timestamp(record.get("CreatedDate")),
        "is_deleted": bool(record.get("IsDeleted")),
    }


def opportunity_fields(opts: SalesforceOptions) -> list[str]:
    fields = ["AccountId", "Type", opts.arr_field, "StageName", "CloseDate", "IsClosed",
              "IsWon", "CurrencyIsoCode" if opts.multi_currency else None]
    return _unique([*CURSOR_FIELDS, *fields])


def opportunity_kind(type_: str | None, opts: SalesforceOptions) -> str | None:
    """renewal, expansion or new from Opportunity.Type; an unmapped Type stays as it is, so
    the loader sets the row aside naming the value to add to `kind_map`."""
    mapped = opts.kinds.get(type_) if type_ else None
    return mapped or opts.default_kind or _text(type_)


def opportunity_outcome(record: Row) -> str:
    if record.get("IsWon"):
        return "won"
    return "lost" if record.get("IsClosed") else "open"


def opportunity_row(record: Row, opts: SalesforceOptions, ids: Ids) -> Row | None:
    """An Opportunity as an opportunities row; one without an account: None."""
    if not record.get("AccountId"):
        return None
    currency = record.get("CurrencyIsoCode") if opts.multi_currency else opts.currency
    return {
        "opportunity_id": ids(record["Id"]),
        "account_id": ids(record["AccountId"]),
        "kind": opportunity_kind(record.get("Type"), opts),
        "amount_arr": _decimal(record.get(opts.arr_field)),
        "currency": currency.upper() if currency else None,
        "stage": _text(record.get("StageName")),
        "close_date": record.get("CloseDate") or None,
        "outcome": opportunity_outcome(record),
        "is_deleted": bool(record.get("IsDeleted")),
    }


@dataclass(frozen=True)
class SObject:
    """A Salesforce object the connector reads: the entity it feeds, its fields, its mapping."""

    name: str
    entity: str
    fields: Callable[[SalesforceOptions], list[str]]
    row: Callable[[Row, SalesforceOptions, Ids], Row | None]


SOBJECTS: dict[str, SObject] = {o.name: o for o in (
    SObject("Account", "accounts", account_fields, account_row),
    SObject("Contact", "contacts", contact_fields, contact_row),
    SObject("Opportunity", "opportunities", opportunity_fields, opportunity_row),
)}


# --- incremental queries -------------------------------------------------------------------

def cursor_after(record: Row) -> dict[str, str]:
    """The cursor resuming after `record`: its SystemModstamp and Id."""
    return {"system_modstamp": soql_datetime(record["SystemModstamp"]), "id": record["Id"]}


def changed_since(cursor: dict[str, Any] | None) -> str:
    """The SOQL condition for records after the cursor in (SystemModstamp, Id) order.

    Records sharing the cursor's SystemModstamp but with a greater Id are still to come, so
    a sync stopped between two of them loses none. The leading `>=` keeps the
    SystemModstamp index usable.
    """
    if not cursor:
        return ""
    stamp = soql_datetime(str(cursor["system_modstamp"]))
    last_id = str(cursor["id"])
    if not _ID.match(last_id):
        raise ValueError(f"{last_id!r} is not a Salesforce record id")
    return (f"SystemModstamp >= {stamp} AND "
            f"(SystemModstamp > {stamp} OR Id > '{last_id}')")


def changes_query(sobject: SObject, opts: SalesforceOptions,
                  cursor: dict[str, Any] | None) -> str:
    """SOQL for `sobject`'s records changed after `cursor`, oldest change first."""
    where = changed_since(cursor)
    return (f"SELECT {', '.join(sobject.fields(opts))} FROM {sobject.name}"
            + (f" WHERE {where}" if where else "") + " ORDER BY SystemModstamp, Id")


def _unique(fields: list[str | None]) -> list[str]:
    return list(dict.fromkeys(f for f in fields if f))
