"""The app database's tables: users and their API tokens, published snapshots, health scores and
churn risk, the data-quality report, runs, audit log.

The pipeline publishes one row per account per `as_of` date into `account_snapshots` (and its
monthly ARR into `account_arr_series`); the web app reads only these tables. Money is
`Numeric(18, 2)` in the workspace base currency. Timestamps are stored and returned in UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

#: The roles a user can have, from most to least powerful.
ROLES: tuple[str, ...] = ("admin", "manager", "ops", "csm", "viewer")

# Named constraints keep migrations portable: SQLite batch mode and PostgreSQL both need names
# to alter or drop a constraint later.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and always returned timezone-aware.

    SQLite has no time zones, so without this a value would come back naive there and aware on
    PostgreSQL; pages and the API must see the same thing on both.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"timestamp {value.isoformat()} has no time zone; pass UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


Money = Numeric(18, 2)


class Base(DeclarativeBase):
    """Declarative base of every app database table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class User(Base):
    """A person who can sign in: a CSM, a manager, CS Ops, an admin or a read-only viewer."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'manager', 'ops', 'csm', 'viewer')", name="role_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    tokens: Mapped[list[ApiToken]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    def __repr__(self) -> str:
        return f"User(email={self.email!r}, role={self.role!r}, active={self.active!r})"


class ApiToken(Base):
    """A bearer token for the REST API. Only a hash of the token is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    scope: Mapped[str] = mapped_column(String(10), default="read")  # "read" or "write"
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    user: Mapped[User] = relationship(back_populates="tokens")


class PipelineRun(Base):
    """One attempt to publish the results for an `as_of` date, successful or not."""

    __tablename__ = "pipeline_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    as_of: Mapped[date] = mapped_column(Date, index=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(20))  # "succeeded" or "failed"
    account_count: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str | None] = mapped_column(Text)


class AccountSnapshot(Base):
    """An account as it stood on `as_of`: who it is, what it pays, how it uses the product.

    `mrr` and `arr` are in `currency`, the workspace base currency; ARR = 12 × MRR.
    """

    __tablename__ = "account_snapshots"
    __table_args__ = (
        Index(None, "as_of", "owner_email"),
        Index(None, "as_of", "segment"),
        # An account's children on the account page; an account's latest row by its id.
        Index(None, "as_of", "parent_account_id"),
        Index(None, "account_id", "as_of"),
    )

    as_of: Mapped[date] = mapped_column(Date, primary_key=True)
    account_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str] = mapped_column(String(500))
    domain: Mapped[str | None] = mapped_column(String(500))
    segment: Mapped[str | None] = mapped_column(String(100))
    tier: Mapped[str | None] = mapped_column(String(100))
    region: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str | None] = mapped_column(String(100))
    industry: Mapped[str | None] = mapped_column(String(200))
    owner_email: Mapped[str | None] = mapped_column(String(320))
    owner_name: Mapped[str | None] = mapped_column(String(200))  # from the team file
    parent_account_id: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str | None] = mapped_column(String(50))
    mrr: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    arr: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    currency: Mapped[str] = mapped_column(String(3))
    customer_since: Mapped[date | None] = mapped_column(Date)
    renewal_date: Mapped[date | None] = mapped_column(Date)
    events_30d: Mapped[int] = mapped_column(Integer, default=0)
    active_users_30d: Mapped[int] = mapped_column(Integer, default=0)
    open_tickets: Mapped[int] = mapped_column(Integer, default=0)
    tickets_30d: Mapped[int] = mapped_column(Integer, default=0)
    last_activity_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class AccountArrSeries(Base):
    """An account's ARR at the end of each month (and on the day), as known on `as_of`, for
    the trend chart: one row per account and day, the months packed as JSON text
    (`quarterdeck.appdb.arr_series`)."""

    # No foreign key to account_snapshots: `publish_snapshot` checks every history row names a
    # published account before inserting, and a per-row database check would double the time
    # of a large publish.
    __tablename__ = "account_arr_series"

    as_of: Mapped[date] = mapped_column(Date, primary_key=True)
    account_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    months: Mapped[str] = mapped_column(Text)


class AuditLogEntry(Base):
    """Who did what to what, and when. Never holds a secret."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(100))
    target: Mapped[str | None] = mapped_column(String(500))
    detail: Mapped[Any] = mapped_column(JSON, nullable=True)


class HealthScore(Base):
    """An account's health on `as_of` by its health model: score 0–100 (NULL when too little
    data), band, change vs 7 and 30 days earlier, the top reasons (JSON list of sentences) and
    each component (JSON object: feature → {"value", "points"}), and the stale inputs it
    read (`data_warnings`)."""

    __tablename__ = "health_scores"
    # The second: one account's scores over the published days (the account page's chart).
    __table_args__ = (Index(None, "as_of", "band"), Index(None, "account_id", "as_of"))

    as_of: Mapped[date] = mapped_column(Date, primary_key=True)
    account_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    model: Mapped[str | None] = mapped_column(String(100))
    score: Mapped[float | None] = mapped_column(Float)
    band: Mapped[str | None] = mapped_column(String(10))
    change_7d: Mapped[float | None] = mapped_column(Float)
    change_30d: Mapped[float | None] = mapped_column(Float)
    reasons: Mapped[Any] = mapped_column(JSON(none_as_null=True), nullable=True)
    components: Mapped[Any] = mapped_column(JSON(none_as_null=True), nullable=True)
    # Stale inputs feeding the model's components, one sentence per line (see docs/quality.md).
    data_warnings: Mapped[str | None] = mapped_column(Text)


class ChurnRisk(Base):
    """An account's probability, as of `as_of`, of churning at its decision on `horizon` and
    within the next `window_days` (`churn_probability_window`), with the top reasons (JSON
    list of sentences: why the risk is high, or low when `reasons_direction` is `lowers`) and
    the model (name and version) that said so."""

    __tablename__ = "churn_risk"

    as_of: Mapped[date] = mapped_column(Date, primary_key=True)
    account_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    churn_probability: Mapped[float] = mapped_column(Float)
    horizon: Mapped[date | None] = mapped_column(Date)
    churn_probability_window: Mapped[float | None] = mapped_column(Float)
    window_days: Mapped[int | None] = mapped_column(Integer)
    reasons_direction: Mapped[str | None] = mapped_column(String(10))
    reasons: Mapped[Any] = mapped_column(JSON(none_as_null=True), nullable=True)
    model: Mapped[str] = mapped_column(String(100))
    model_version: Mapped[str] = mapped_column(String(50))


class DataQualityCheck(Base):
    """One line of the data-quality report of `as_of` (see docs/quality.md): a check of one
    source's rows of one entity, how many rows passed and failed it, and its status (ok,
    warning, error). `field` is empty for a check of whole rows; `examples` is a JSON list of
    failing ids; `newest_at` is the newest row's time for freshness checks."""

    __tablename__ = "data_quality"
    __table_args__ = (Index(None, "as_of", "status"),)

    as_of: Mapped[date] = mapped_column(Date, primary_key=True)
    source: Mapped[str] = mapped_column(String(100), primary_key=True)
    entity: Mapped[str] = mapped_column(String(50), primary_key=True)
    check: Mapped[str] = mapped_column(String(30), primary_key=True)
    rule: Mapped[str] = mapped_column(String(100), primary_key=True)
    field: Mapped[str] = mapped_column(String(200), primary_key=True)
    status: Mapped[str] = mapped_column(String(10))
    severity: Mapped[str] = mapped_column(String(10))
    passed: Mapped[int | None] = mapped_column(Integer)
    failed: Mapped[int | None] = mapped_column(Integer)
    share: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float | None] = mapped_column(Float)
    detail: Mapped[str] = mapped_column(Text)
    examples: Mapped[Any] = mapped_column(JSON(none_as_null=True), nullable=True)
    newest_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


# Tables defined in modules of their own register on the same metadata.
from quarterdeck.appdb import account_detail_models as _account_detail_models  # noqa: E402, F401
from quarterdeck.appdb import data_age as _data_age  # noqa: E402, F401
from quarterdeck.appdb import data_versions as _data_versions  # noqa: E402, F401
from quarterdeck.appdb import forecast_models as _forecast_models  # noqa: E402, F401
from quarterdeck.appdb import metric_series_models as _metric_series_models  # noqa: E402, F401
from quarterdeck.appdb import operations_models as _operations_models  # noqa: E402, F401
from quarterdeck.appdb import report_models as _report_models  # noqa: E402, F401
from quarterdeck.appdb import security as _security  # noqa: E402, F401
