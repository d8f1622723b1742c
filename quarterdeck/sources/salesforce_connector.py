"""Salesforce through simple-salesforce: Account, Contact and Opportunity, read incrementally.

Each object is read with one SOQL query over the REST API's `queryAll` resource, oldest
change first::

    SELECT Id, SystemModstamp, IsDeleted, Name, … FROM Account
    WHERE SystemModstamp >= 2024-05-01T08:00:00.000Z
      AND (SystemModstamp > 2024-05-01T08:00:00.000Z OR Id > '001Hs00001AcmeQAAR')
    ORDER BY SystemModstamp, Id

and its batches followed through `nextRecordsUrl` (`query_more`), asking for
`Sforce-Query-Options: batchSize=N`. Every batch is a page whose cursor is its last record's
(SystemModstamp, Id), so a sync that stops between two records changed in the same
millisecond resumes with the second. `queryAll` also returns deleted and merged records
(while they are in the recycle bin); they load with `is_deleted: true`. When a query's
batches expire before they are all read (Salesforce keeps them 15 minutes), the query is asked
again from the last page's cursor.

Credentials (environment `QUARTERDECK_<SOURCE>_<KEY>` or `secrets.yml`): `access_token` (an
OAuth access or session token) with `instance_url` (or the source's `base_url`), or
`username`, `password` and `security_token` for a username/password login.

Salesforce answers a spent API quota with 403 REQUEST_LIMIT_EXCEEDED rather than 429; it is
retried like a 429.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

import requests
from pydantic import ValidationError
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceError, SalesforceExpiredSession

from quarterdeck.errors import QuarterdeckError
from quarterdeck.sources.config import Source
from quarterdeck.sources.connector import Connector, Cursor, Page
from quarterdeck.sources.credentials import Credentials, MissingCredential, env_name
from quarterdeck.sources.retry import Classification, RetryPolicy, call_with_retries
from quarterdeck.sources.salesforce_mapping import (
    SOBJECTS,
    SalesforceOptions,
    SObject,
    changes_query,
    cursor_after,
    parse_datetime,
)

T = TypeVar("T")
# Salesforce's batchSize bounds; its default is the maximum.
MIN_BATCH, MAX_BATCH = 200, 2000
REQUEST_TIMEOUT_SECONDS = 120
RATE_LIMITED = "REQUEST_LIMIT_EXCEEDED"


def error_code(exc: SalesforceError) -> str | None:
    """The `errorCode` of a REST error answer (`[{"message": …, "errorCode": …}]`)."""
    content = exc.content
    if isinstance(content, list) and content and isinstance(content[0], dict):
        return content[0].get("errorCode")
    if isinstance(content, dict):
        return content.get("errorCode")
    return None


def salesforce_status(exc: BaseException) -> Classification:
    """HTTP status of a simple-salesforce error; REQUEST_LIMIT_EXCEEDED (a 403) counts as 429.

    simple-salesforce's exceptions keep no response headers, so no Retry-After: Salesforce
    sends none on its limit answers anyway."""
    if isinstance(exc, SalesforceError):
        if exc.status == 403 and error_code(exc) == RATE_LIMITED:
            return 429, None
        return exc.status, None
    return None, None


class SalesforceConnector(Connector):
    kind = "salesforce"
    objects = tuple(SOBJECTS)
    secrets = ("access_token", "instance_url", "username", "password", "security_token")
    object_entities = {name: o.entity for name, o in SOBJECTS.items()}

    def __init__(self, name: str, source: Source, credentials: Credentials) -> None:
        super().__init__(name, source, credentials)
        try:
            self.options = SalesforceOptions.model_validate(source.options)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'options'}: {e['msg']}"
                for e in exc.errors())
            raise QuarterdeckError(f"source {name!r}: options: {problems}") from None
        if source.base_url and not source.base_url.startswith("https://"):
            raise QuarterdeckError(f"source {name!r}: base_url must be an https:// address "
                                   "(simple-salesforce only speaks HTTPS)")

    @property
    def batch_size(self) -> int:
        """Records asked for per batch: `page_size` within Salesforce's 200–2,000, else its
        default of 2,000."""
        if "page_size" not in self.source.model_fields_set:
            return MAX_BATCH
        return min(MAX_BATCH, max(MIN_BATCH, self.source.page_size))

    def _call(self, call: Callable[[], T], what: str) -> T:
        return call_with_retries(call, classify=salesforce_status,
                                 policy=RetryPolicy.of(self.source), what=what)

    def client(self) -> Salesforce:
        """A simple-salesforce client: by access token, else by username/password login."""
        common: dict[str, Any] = {"version": self.options.api_version,
                                  "session": requests.Session(), "parse_float": Decimal}
        token = self.credentials.get("access_token")
        if token is not None and token.get_secret_value():
            instance = self.source.base_url or self.credentials.require("instance_url")
            return Salesforce(instance_url=instance, session_id=token.get_secret_value(),
                              **common)
        username = self.credentials.get("username")
        if username is not None and username.get_secret_value():
            security_token = self.credentials.get("security_token")
            login = partial(Salesforce, username=username.get_secret_value(),
                            password=self.credentials.require("password"),
                            security_token=security_token.get_secret_value()
                            if security_token else "",
                            domain=self.options.domain, **common)
            return self._call(login, "salesforce login")
        raise MissingCredential(
            f"source {self.name!r} needs an access token or a username and password: set "
            f"{env_name(self.name, 'access_token')} and {env_name(self.name, 'instance_url')}, "
            f"or {env_name(self.name, 'username')}, {env_name(self.name, 'password')} and "
            f"{env_name(self.name, 'security_token')} (or put them in secrets.yml)")

    def pages(self, obj: str, cursor: Cursor) -> Iterator[Page]:
        sobject = SOBJECTS[obj]
        sf = self.client()
        options = {"headers": {"Sforce-Query-Options": f"batchSize={self.batch_size}"},
                   "timeout": REQUEST_TIMEOUT_SECONDS}

        def changes(after: Cursor) -> dict[str, Any]:
            soql = changes_query(sobject, self.options, after)
            return self._call(partial(sf.query, soql, include_deleted=True, **options),
                              f"salesforce {obj}")

        requeried_from: Cursor = None
        try:
            result = changes(cursor)
            while True:
                if result.get("records"):
                    page = self.page(sobject, result["records"])
                    cursor = page.cursor
                    yield page
                if result.get("done", True):
                    return
                more = partial(sf.query_more, result["nextRecordsUrl"], identifier_is_url=True,
                               **options)
                try:
                    result = self._call(more, f"salesforce {obj}")
                except SalesforceError as exc:
                    if error_code(exc) != "INVALID_QUERY_LOCATOR" or cursor == requeried_from:
                        raise
                    # the query's batches expired: ask again from the last page read
                    requeried_from = cursor
                    result = changes(cursor)
        except SalesforceExpiredSession as exc:
            raise QuarterdeckError(
                f"source {self.name!r}: Salesforce refused the session ({error_code(exc)}): "
                "the access token expired or was revoked, or the user has no API access"
            ) from None
        finally:
            sf.session.close()

    def page(self, sobject: SObject, records: list[dict[str, Any]]) -> Page:
        """One batch of records as a page; its cursor resumes after the last record."""
        rows = [row for r in records if (row := sobject.row(r, self.options, self.id))]
        last = records[-1]
        return Page({sobject.entity: rows}, cursor_after(last),
                    newest=parse_datetime(last["SystemModstamp"]), records=len(records))
