"""Engines are shared per (URL, options, process) and disposed with their last user."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import threading
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from thespsys.persistence import engines
from thespsys.persistence.settings import EngineOptions


def test_engine_shared_per_url_and_process(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, options = make_url(sqlite_url), EngineOptions()
    first = engines.acquire_engine(url, options)
    assert engines.acquire_engine(url, options) is first
    assert engines.acquire_engine(url, EngineOptions(pool_size=1)) is not first

    # A forked child (another pid) gets an engine of its own.
    parent_pid = os.getpid()
    monkeypatch.setattr(os, "getpid", lambda: parent_pid + 1)
    child = engines.acquire_engine(url, options)
    assert child is not first
    engines.dispose_engines()  # the "child's" engines


def test_engine_disposed_with_its_last_user(sqlite_url: str) -> None:
    url, options = make_url(sqlite_url), EngineOptions()
    engine = engines.acquire_engine(url, options)
    assert engines.acquire_engine(url, options) is engine
    engines.release_engine(engine)
    assert engines.acquire_engine(url, options) is engine  # one user left
    engines.release_engine(engine)
    engines.release_engine(engine)
    assert engines.acquire_engine(url, options) is not engine


def test_sqlite_connections_are_configured(sqlite_url: str) -> None:
    engine = engines.acquire_engine(make_url(sqlite_url), EngineOptions(busy_timeout=7))
    connection = engine.raw_connection()
    try:
        cursor: Any = connection.cursor()
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] == 7000
        assert getattr(connection.dbapi_connection, "isolation_level", "") is None
    finally:
        connection.close()


def test_a_finaliser_may_release_an_engine_while_another_is_created(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An application nobody closed is finalised by the collector, in the
    thread that is creating an engine; its release must not wait for that."""
    options = EngineOptions()
    first = engines.acquire_engine(make_url(f"sqlite:///{tmp_path}/a.db"), options)

    class Unclosed:
        def __init__(self) -> None:
            self.cycle = self

        def __del__(self) -> None:
            engines.release_engine(first)

    create = engines._create_sqlite_engine

    def create_while_collecting(*args: Any) -> Any:
        Unclosed()
        gc.collect()  # finalises it here, with the registry's lock held
        return create(*args)

    monkeypatch.setattr(engines, "_create_sqlite_engine", create_while_collecting)
    second: list[Any] = []
    creating = threading.Thread(
        target=lambda: second.append(
            engines.acquire_engine(make_url(f"sqlite:///{tmp_path}/b.db"), options)
        ),
        daemon=True,
    )
    creating.start()
    creating.join(timeout=10)
    assert not creating.is_alive(), "acquire_engine() deadlocked"
    engines.release_engine(second[0])


# Another thread holds the registry's lock at the fork; the child must still
# get an engine, as an actor process does.
FORK_WHILE_LOCKED = """
import os, signal, sys, threading
from sqlalchemy.engine import make_url
from thespsys.persistence import engines
from thespsys.persistence.settings import EngineOptions

held, release = threading.Event(), threading.Event()

def hold():
    with engines._lock:
        held.set()
        release.wait()

threading.Thread(target=hold, daemon=True).start()
held.wait()
pid = os.fork()
if pid == 0:
    signal.alarm(10)  # a hang ends, and fails
    url = make_url(f"sqlite:///{sys.argv[1]}/child.db")
    engines.release_engine(engines.acquire_engine(url, EngineOptions()))
    os._exit(0)
release.set()
sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
"""


def test_a_process_forked_while_another_thread_held_the_registry_gets_an_engine(
    tmp_path: Any,
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", FORK_WHILE_LOCKED, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
