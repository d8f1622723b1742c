"""The data contract as data: every entity, its columns and the rules a row must meet.

This one registry drives file validation, the canonical warehouse tables, the docs
(`docs/data-contract.md` is checked against it) and the demo company.
"""

from __future__ import annotations

from dataclasses import dataclass

# Logical column types and their warehouse types (DuckDB spelling; Ibis maps them elsewhere).
SQL_TYPES = {
    "string": "VARCHAR",
    "date": "DATE",
    "timestamp": "TIMESTAMP",  # UTC, no zone: offsets are applied on load
    "decimal": "DECIMAL(18,6)",
    "rate": "DECIMAL(24,12)",
    "integer": "BIGINT",
    "number": "DOUBLE",
    "boolean": "BOOLEAN",
    "json": "VARCHAR",
    "currency": "VARCHAR",
    "email": "VARCHAR",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str = "string"
    required: bool = False
    description: str = ""
    allowed: tuple[str, ...] = ()
    minimum: float | None = None
    minimum_exclusive: bool = False  # the value must be strictly above `minimum`
    maximum: float | None = None
    default: str | None = None  # SQL literal used when the value is missing
    references: str | None = None  # "entity.column" that must hold this value

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.type]


@dataclass(frozen=True)
class DateOrder:
    """`earlier` must not come after `later` (strictly before when `strict`)."""

    earlier: str
    later: str
    strict: bool = False


@dataclass(frozen=True)
class RangeByKind:
    """A score column whose allowed range depends on another column's value."""

    column: str
    kind_column: str
    ranges: dict[str, tuple[float, float]]


@dataclass(frozen=True)
class Entity:
    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    date_orders: tuple[DateOrder, ...] = ()
    ranges_by_kind: tuple[RangeByKind, ...] = ()
    one_of_required: tuple[tuple[str, ...], ...] = ()  # at least one column of each group
    point_in_time: str | None = None  # the column that dates a row's existence
    order: int = 100  # loading order: referenced entities first
    # "warehouse": copied into a warehouse table; "landing": a view over the landed versions
    # (for the heaviest, append-mostly entities, so loading never copies them twice)
    storage: str = "warehouse"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


C = Column
ACCOUNT_REF = "accounts.account_id"

ENTITIES: dict[str, Entity] = {}


def _register(entity: Entity) -> Entity:
    ENTITIES[entity.name] = entity
    return entity


_register(Entity(
    "team", "The customer-success team: CSMs, managers, ops, admins.",
    (
        C("email", "email", True, "Work email; the id of a team member."),
        C("name", required=True, description="Full name."),
        C("role", required=True, allowed=("csm", "manager", "ops", "admin", "viewer"),
          description="What the person does in the team."),
        C("manager_email", "email", description="Email of this person's manager."),
        C("capacity_accounts", "integer", minimum=0, description="Target number of accounts."),
        C("capacity_arr", "decimal", minimum=0, description="Target ARR in the base currency."),
    ),
    key=("email",), order=10,
))

_register(Entity(
    "accounts", "Customer companies; a child account rolls up to its parent when asked.",
    (
        C("account_id", required=True, description="Id of the customer account."),
        C("name", required=True, description="Company name."),
        C("domain", description="Web domain, e.g. acme.com."),
        C("parent_account_id", references=ACCOUNT_REF, description="Parent account's id."),
        C("segment", description="Commercial segment, e.g. SMB, Mid-Market, Enterprise."),
        C("industry", description="Industry."),
        C("region", description="Sales region, e.g. EMEA."),
        C("country", description="ISO 3166 country code or name."),
        C("owner_email", "email", description="The account's CSM (a team email)."),
        C("created_at", "timestamp", description="When the account was created."),
        C("external_ids", "json", description="The same company's ids in other systems, as a "
          "JSON object of source name to that source's own id, e.g. "
          '{"stripe": "cus_N1"}; identity resolution matches on them.'),
    ),
    key=("account_id",), point_in_time="created_at", order=20,
))

_register(Entity(
    "users", "Product users, mapping a tracked user_id to its account.",
    (
        C("user_id", required=True, description="Id the product tracks the user under."),
        C("account_id", required=True, references=ACCOUNT_REF, description="The user's account."),
        C("email", "email", description="The user's email."),
        C("name", description="The user's name."),
        C("created_at", "timestamp", description="When the user was first seen."),
    ),
    key=("user_id",), point_in_time="created_at", order=30,
))

_register(Entity(
    "contacts", "People at customer accounts.",
    (
        C("contact_id", required=True, description="Id of the contact."),
        C("account_id", required=True, references=ACCOUNT_REF, description="Contact's account."),
        C("email", "email", description="Email."),
        C("name", description="Full name."),
        C("title", description="Job title."),
        C("persona", allowed=("champion", "decision_maker", "admin", "user"),
          description="Role in the buying and using of the product."),
        C("created_at", "timestamp", description="When the contact was added."),
        C("left_at", "timestamp", description="When the contact left the company."),
    ),
    key=("contact_id",), date_orders=(DateOrder("created_at", "left_at"),),
    point_in_time="created_at", order=30,
))

_register(Entity(
    "subscriptions", "Subscription line items: what each account pays for, and when.",
    (
        C("subscription_id", required=True, description="Id of the line item."),
        C("account_id", required=True, references=ACCOUNT_REF, description="Paying account."),
        C("plan", required=True, description="Plan or product name."),
        C("quantity", "decimal", True, "Seats or units.", minimum=0),
        C("unit_price", "decimal", True, "Price per unit per billing interval.", minimum=0),
        C("discount", "decimal", description="Discount as a fraction (0.2 = 20%).",
          minimum=0, maximum=1, default="0"),
        C("currency", "currency", True, "ISO 4217 code of the prices."),
        C("interval_months", "integer", True, "Billing interval: 1 monthly, 12 annual, 36 …",
          minimum=1),
        C("start_date", "date", True, "First day of service (inclusive)."),
        C("end_date", "date", description="Day service stops (exclusive); empty = ongoing."),
        C("canceled_at", "timestamp", description="When the end became known."),
        C("contract_id", description="Contract the line item belongs to."),
        C("auto_renew", "boolean", description="Whether the contract renews by itself."),
        C("trial", "boolean", description="A trial carries no MRR.", default="false"),
    ),
    key=("subscription_id",), date_orders=(DateOrder("start_date", "end_date", strict=True),),
    point_in_time="start_date", order=40,
))

_register(Entity(
    "fx_rates", "Exchange rates to the base currency, each in effect from its date.",
    (
        C("date", "date", True, "First day the rate is in effect."),
        C("currency", "currency", True, "ISO 4217 code."),
        C("rate_to_base", "rate", True, "Base-currency units per unit of the currency.",
          minimum=0, minimum_exclusive=True),
    ),
    key=("date", "currency"), point_in_time="date", order=15,
))

_register(Entity(
    "events", "Product usage events.",
    (
        C("event_id", required=True, description="Id of the event (de-duplicates resends)."),
        C("timestamp", "timestamp", True, "When it happened."),
        C("event", required=True, description="Event name, e.g. report_created."),
        C("account_id", references=ACCOUNT_REF, description="The account it belongs to."),
        C("user_id", description="The user who did it (mapped to an account through users)."),
        C("value", "number", description="A quantity carried by the event.", default="1"),
        C("properties", "json", description="Further properties, a JSON object."),
    ),
    key=("event_id",), one_of_required=(("account_id", "user_id"),),
    point_in_time="timestamp", order=60, storage="landing",
))

_register(Entity(
    "usage_daily", "Usage already aggregated per account, day and metric.",
    (
        C("date", "date", True, "Day of the usage."),
        C("account_id", required=True, references=ACCOUNT_REF, description="Account."),
        C("metric", required=True, description="Name of the usage metric."),
        C("value", "number", True, "The day's value."),
    ),
    key=("date", "account_id", "metric"), point_in_time="date", order=60,
))

_register(Entity(
    "tickets", "Support tickets.",
    (
        C("ticket_id", required=True, description="Id of the ticket."),
        C("account_id", required=True, references=ACCOUNT_REF, description="Account."),
        C("created_at", "timestamp", True, "When it was opened."),
        C("solved_at", "timestamp", description="When it was solved; empty while open."),
        C("priority", allowed=("low", "normal", "high", "urgent"), description="Priority."),
        C("status", description="Status in the help desk."),
        C("csat", "integer", description="Satisfaction rating, 1–5.", minimum=1, maximum=5),
    ),
    key=("ticket_id",), date_orders=(DateOrder("created_at", "solved_at"),),
    point_in_time="created_at", order=50,
))

_register(Entity(
    "surveys", "NPS and CSAT survey responses.",
    (
        C("response_id", required=True, description="Id of the response."),
        C("account_id", required=True, references=ACCOUNT_REF, description="Account."),
        C("contact_id", description="The contact who answered."),
        C("kind", required=True, allowed=("nps", "csat"), description="Survey kind."),
        C("score", "integer", True, "NPS 0–10, CSAT 1–5."),
        C("comment", description="Free-text comment."),
        C("responded_at", "timestamp", True, "When the response came in."),
    ),
    key=("response_id",),
    ranges_by_kind=(RangeByKind("score", "kind", {"nps": (0, 10), "csat": (1, 5)}),),
    point_in_time="responded_at", order=50,
))

_register(Entity(
    "activities", "Meetings, QBRs, calls, emails, notes and milestones with accounts.",
    (
        C("activity_id", required=True, description="Id of the activity."),
        C("account_id", required=True, references=ACCOUNT_REF, description="Account."),
        C("kind", required=True,
          allowed=("meeting", "qbr", "call", "email", "note", "milestone"),
          description="Kind of activity."),
        C("occurred_at", "timestamp", True, "When it happened."),
        C("owner_email", "email", description="Team member who owned it."),
        C("subject", description="Subject line."),
    ),
    key=("activity_id",), point_in_time="occurred_at", order=50,
))

_register(Entity(
    "opportunities", "Renewal, expansion and new-business opportunities.",
    (
        C("opportunity_id", required=True, description="Id of the opportunity."),
        C("account_id", required=True, references=ACCOUNT_REF, description="Account."),
        C("kind", required=True, allowed=("renewal", "expansion", "new"), description="Kind."),
        C("amount_arr", "decimal", description="ARR at stake, in `currency`.", minimum=0),
        C("currency", "currency", description="ISO 4217 code of the amount."),
        C("stage", description="Pipeline stage in the CRM."),
        C("close_date", "date", description="Expected or actual close date."),
        C("outcome", allowed=("won", "lost", "open"), description="Result."),
    ),
    key=("opportunity_id",), order=50,
))

_register(Entity(
    "invoices", "Invoices and their payment.",
    (
        C("invoice_id", required=True, description="Id of the invoice."),
        C("account_id", required=True, references=ACCOUNT_REF, description="Account."),
        C("issued_at", "timestamp", True, "When it was issued."),
        C("due_at", "timestamp", description="When payment is due."),
        C("paid_at", "timestamp", description="When it was paid; empty while unpaid."),
        C("amount", "decimal", True, "Amount in `currency`.", minimum=0),
        C("currency", "currency", True, "ISO 4217 code."),
        C("status", description="Status in the billing system."),
    ),
    key=("invoice_id",), date_orders=(DateOrder("issued_at", "due_at"),),
    point_in_time="issued_at", order=50,
))


def entity(name: str) -> Entity:
    """The entity called `name` (also accepts the singular, e.g. `account`)."""
    if name in ENTITIES:
        return ENTITIES[name]
    for candidate in (name + "s", name + "es", name.removesuffix("y") + "ies"):
        if candidate in ENTITIES:
            return ENTITIES[candidate]
    raise KeyError(name)


def loading_order(names: list[str]) -> list[str]:
    """Entities sorted so that referenced ones load first."""
    return sorted(names, key=lambda n: (ENTITIES[n].order, n))
