"""How many times each kind of data in the app database has changed, and results kept in memory
until the data they were computed from changes.

Every write of published data counts itself in `data_versions`, in the same transaction as the
write (`bump`): `publish_snapshot` counts `snapshot`, `publish_health` counts `health`, the
data-quality report `quality`, the data-age warnings `stale_data`, the account page's detail
`account_detail`, the book (`publish_operations` and every change people make through
`book_actions`) `book`, the renewal forecast and the calls on renewals (`publish_forecast`,
`set_category`) `forecast`, and the revenue series (`publish_metric_series`) `metrics`. A
result computed from that data is kept under the numbers it was computed at (`cached`) and
recomputed as soon as one of them moves, so a page never shows a day that has been published
again, in this process or any other (another web worker, the pipeline, the CLI). A new writer
of these tables must bump its name.

Example: cached(engine, ("filter_options", day), (SNAPSHOT, HEALTH), lambda: compute(day)).
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Integer, String, insert, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from quarterdeck.appdb.models import Base, UtcDateTime, utcnow

SNAPSHOT, HEALTH, QUALITY, STALE_DATA = "snapshot", "health", "quality", "stale_data"
ACCOUNT_DETAIL, BOOK = "account_detail", "book"
FORECAST, METRICS = "forecast", "metrics"
#: Every name counted (a name never counted reads 0).
NAMES = (SNAPSHOT, HEALTH, QUALITY, STALE_DATA, ACCOUNT_DETAIL, BOOK, FORECAST, METRICS)
#: Results kept per database; the least recently used go first.
MAX_RESULTS = 256

T = TypeVar("T")


class DataVersion(Base):
    """How many times one kind of data has changed, and when it last did."""

    __tablename__ = "data_versions"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


def bump(db: Connection | Session, *names: str) -> None:
    """Count a change of each of `names`, within the caller's transaction (call it last in the
    transaction: the row stays locked until it commits)."""
    now = utcnow()
    for name in names:
        changed = db.execute(update(DataVersion).where(DataVersion.name == name)
                             .values(version=DataVersion.version + 1, changed_at=now))
        if not changed.rowcount:
            db.execute(insert(DataVersion).values(name=name, version=1, changed_at=now))


def data_versions(engine: Engine) -> dict[str, int]:
    """The current count of every name (0 for a name never counted); inside `one_reading`,
    the count read first in the block."""
    pinned = _pinned.get()
    if pinned is not None and id(engine) in pinned:
        return pinned[id(engine)]
    with engine.connect() as connection:
        found = dict(connection.execute(select(DataVersion.name, DataVersion.version)).all())
    versions = {name: found.get(name, 0) for name in {*NAMES, *found}}
    if pinned is not None:
        pinned[id(engine)] = versions
    return versions


_pinned: ContextVar[dict[int, dict[str, int]] | None] = ContextVar("data_versions",
                                                                   default=None)


@contextmanager
def one_reading() -> Iterator[None]:
    """Within the block, kept results are looked up at the counts read once per database, on
    first use: a page reads one state of the data, and the counts once, however many results
    it uses. Threads started from the block (a web app's worker threads) share the reading.

    >>> with one_reading():  # doctest: +SKIP
    ...     page = list_accounts(engine, filters); menus = filter_options(engine, day)
    """
    token = _pinned.set({})
    try:
        yield
    finally:
        _pinned.reset(token)


class _Results:
    """One database's kept results, least recently used first, safe across threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        # key → (the versions it was computed at, the result): one result per key.
        self.items: OrderedDict[Hashable, tuple[tuple[int, ...], Any]] = OrderedDict()
        # (key, versions) being computed → set when done: one computation, the others wait.
        self.computing: dict[tuple[Hashable, tuple[int, ...]], threading.Event] = {}


_kept: weakref.WeakKeyDictionary[Engine, _Results] = weakref.WeakKeyDictionary()
_kept_lock = threading.Lock()


def _results(engine: Engine) -> _Results:
    with _kept_lock:
        found = _kept.get(engine)
        if found is None:
            found = _kept[engine] = _Results()
        return found


def cached(engine: Engine, key: Hashable, depends_on: tuple[str, ...],
           compute: Callable[[], T]) -> T:
    """`compute()`, or the result it gave for the same `key` while none of the data named in
    `depends_on` has changed since. When several threads need the same missing result (the
    first page views after a publish), one computes it and the others wait for it. Results
    are shared: never change one in place."""
    versions = data_versions(engine)
    wanted = tuple(versions[name] for name in depends_on)
    kept = _results(engine)
    while True:
        with kept.lock:
            found = kept.items.get(key)
            if found is not None and found[0] == wanted:
                kept.items.move_to_end(key)
                return found[1]
            running = kept.computing.get((key, wanted))
            if running is None:
                done = kept.computing[(key, wanted)] = threading.Event()
                break
        running.wait()  # then look again: kept, or failed and ours to compute
    try:
        result = compute()
        with kept.lock:
            # A result is only used at the versions it was kept under, so an older one
            # replacing a newer one costs a recomputation, never a wrong page.
            kept.items[key] = (wanted, result)
            kept.items.move_to_end(key)
            while len(kept.items) > MAX_RESULTS:
                kept.items.popitem(last=False)
        return result
    finally:
        with kept.lock:
            del kept.computing[(key, wanted)]
        done.set()
