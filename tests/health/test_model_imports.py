"""The model libraries are imported beside a run's first stages: once the thread is joined
they are loaded, and a library that cannot be imported leaves the error to the run."""

from __future__ import annotations

import subprocess
import sys
import threading

from quarterdeck.health import model_imports


def test_after_joining_the_thread_every_model_library_is_imported() -> None:
    script = (
        "import sys\n"
        "from quarterdeck.health.model_imports import MODEL_MODULES, import_in_background\n"
        "assert not any(m in sys.modules for m in MODEL_MODULES), 'imported already'\n"
        "thread = import_in_background()\n"
        "thread.join()\n"
        "print(sorted(m for m in MODEL_MODULES if m not in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_a_library_that_cannot_be_imported_does_not_fail_the_thread(monkeypatch) -> None:
    failures: list[BaseException] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: failures.append(args.exc_value))
    monkeypatch.setattr(model_imports, "MODEL_MODULES", ("quarterdeck_no_such_module", "json"))
    thread = model_imports.import_in_background()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert failures == []
