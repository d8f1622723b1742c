"""The collector's settings inside and after a batch of work."""

from __future__ import annotations

import gc
import threading
import weakref

from quarterdeck.batch_gc import THRESHOLDS, batch_collection
from tests.cli_runner import qd


class Node:
    """An object that can sit in a reference cycle."""

    def __init__(self) -> None:
        self.other: Node | None = None


def _cycle() -> weakref.ref:
    a, b = Node(), Node()
    a.other, b.other = b, a
    return weakref.ref(a)


def test_settings_inside_and_restored_after():
    before = gc.get_threshold()
    with batch_collection():
        assert gc.get_threshold() == THRESHOLDS
    assert gc.get_threshold() == before


def test_restored_after_an_error():
    before = gc.get_threshold()
    try:
        with batch_collection():
            raise RuntimeError("the run failed")
    except RuntimeError:
        pass
    assert gc.get_threshold() == before


def test_nested_blocks_restore_once_at_the_outermost():
    before = gc.get_threshold()
    with batch_collection():
        with batch_collection():
            assert gc.get_threshold() == THRESHOLDS
        assert gc.get_threshold() == THRESHOLDS  # the outer block still runs
    assert gc.get_threshold() == before


def test_blocks_on_two_threads_restore_once_both_end():
    before = gc.get_threshold()
    inside, release = threading.Event(), threading.Event()

    def other() -> None:
        with batch_collection():
            inside.set()
            release.wait(10)

    t = threading.Thread(target=other)
    with batch_collection():
        t.start()
        assert inside.wait(10)
    assert gc.get_threshold() == THRESHOLDS  # the other thread's block is still open
    release.set()
    t.join(10)
    assert gc.get_threshold() == before


def test_cycles_made_inside_are_still_collected():
    with batch_collection():
        made_inside = _cycle()
        gc.collect()
        assert made_inside() is None


def test_a_server_s_frozen_objects_stay_frozen():
    # The web app freezes its start-up objects; a batch inside it leaves them so. (The frozen
    # count itself can fall meanwhile: a frozen object is still freed when unreferenced.)
    started = Node()
    gc.freeze()
    try:
        with batch_collection():
            pass
        assert not any(o is started for o in gc.get_objects())  # not back in a generation
    finally:
        gc.unfreeze()
    assert any(o is started for o in gc.get_objects())


def test_the_command_line_runs_its_commands_as_batches(monkeypatch, tmp_path):
    from quarterdeck.workspace import init

    seen = []
    real = init.init_workspace

    def recording(*args, **kwargs):
        seen.append(gc.get_threshold())
        return real(*args, **kwargs)

    monkeypatch.setattr(init, "init_workspace", recording)
    before = gc.get_threshold()
    qd("init", tmp_path / "ws")
    assert seen == [THRESHOLDS]
    assert gc.get_threshold() == before


def test_the_web_server_is_not_run_as_a_batch():
    from quarterdeck.cli.main import _batch

    class Context:
        def __init__(self, command: str) -> None:
            self.invoked_subcommand, self.resources = command, []

        def with_resource(self, resource) -> None:  # as click's: entered now, left at the end
            resource.__enter__()
            self.resources.append(resource)

    serving, running = Context("serve"), Context("run")
    _batch(serving)
    _batch(running)
    assert serving.resources == []
    assert len(running.resources) == 1
    assert gc.get_threshold() == THRESHOLDS
    running.resources[0].__exit__(None, None, None)


def test_a_pipeline_run_is_a_batch(monkeypatch):
    from quarterdeck import pipeline

    seen = []
    monkeypatch.setattr(pipeline, "_run_pipeline",
                        lambda ws, as_of, progress: seen.append(gc.get_threshold()))
    pipeline.run_pipeline(None, None)
    assert seen == [THRESHOLDS]


def test_a_command_s_process_skips_the_collection_at_exit():
    import subprocess
    import sys

    script = """
import atexit, gc
atexit.register(lambda: print("frozen at exit:", gc.get_freeze_count() > 0))
from quarterdeck.batch_gc import skip_collection_at_exit
before = atexit._ncallbacks()
skip_collection_at_exit()
skip_collection_at_exit()
print("handlers added:", atexit._ncallbacks() - before, "frozen now:", gc.get_freeze_count() > 0)
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert out == ["handlers added: 1 frozen now: False", "frozen at exit: True"]
