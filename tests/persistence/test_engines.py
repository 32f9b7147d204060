"""Engines are shared per (URL, options, process) and disposed with their last user."""

from __future__ import annotations

import os
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
