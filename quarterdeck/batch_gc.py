"""Python's cyclic garbage collector, tuned for a batch of work such as a day's run.

Python frees most objects the moment their last reference goes; its cyclic collector only
finds groups of objects that refer to each other. Its full collection visits every object the
process holds (the modules of Ibis, DuckDB, SQLAlchemy, scikit-learn and pandas, each compiled
query's nodes) and runs whenever enough objects have survived the younger collections. A day's
run allocates fast (compiling queries, building the rows it publishes), so it paid for about
fifteen full collections; on a shared machine they took from 4 to 22 s of a 40 to 90 s run.

`batch_collection()` keeps the collector on but runs a young collection after 50,000 net
allocations instead of Python's 700, and each older one after 20 and 100 of the younger
instead of 10 and 10: objects that die young are still collected, a cycle that lives long
waits for the end of the batch, and the whole heap is walked rarely (not once in a day's run
at 20,000 accounts). On leaving, Python's thresholds are restored, so a long-lived process (the
web app, which freezes its start-up objects out of the collector's sight instead) behaves as
before.

A process that ends after its batch (a command) also skips the collector's passes at exit:
Python, finalising its modules, walks every object the process still holds more than once,
which took 3 to 4 s after a day's run at 20,000 accounts. `skip_collection_at_exit()`
freezes them (`gc.freeze`) once the command is done; the process's memory goes back to the
system at exit whether collected or not, and every file and database is closed as before.

Example:
    with batch_collection():
        run_pipeline(ws, as_of)
"""

from __future__ import annotations

import atexit
import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

#: Net allocations between young collections, and young (then middle) collections between
#: collections of the next generation.
THRESHOLDS = (50_000, 20, 100)

_lock = threading.Lock()
_depth = 0
_saved: tuple[int, int, int] | None = None


@contextmanager
def batch_collection() -> Iterator[None]:
    """Collect garbage with the batch thresholds inside the block (see the module); nests and
    is thread-safe: the outermost block sets the thresholds and restores those it found."""
    global _depth, _saved
    with _lock:
        if _depth == 0:
            _saved = gc.get_threshold()
            gc.set_threshold(*THRESHOLDS)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                gc.set_threshold(*_saved)
                _saved = None


_at_exit = False


def skip_collection_at_exit() -> None:
    """Freeze every object left when the interpreter exits (see the module); registered once,
    it runs after the handlers registered later and before those registered earlier."""
    global _at_exit
    with _lock:
        if not _at_exit:
            atexit.register(gc.freeze)
            _at_exit = True
