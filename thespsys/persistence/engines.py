"""SQLAlchemy engines, one per (URL, options, process), shared and reference counted.

Many applications in one process share an engine (and so a connection pool)
per database. The cache is keyed by ``os.getpid()`` too: a forked child never
touches the connections it inherited, it opens its own. The parent's engines
stay referenced (unused) in the child so that garbage collection there never
closes the parent's sockets.

SQLite: pysqlite's own transaction handling is switched off; transactions are
begun explicitly, ``BEGIN IMMEDIATE`` for writers (so writers queue on the
database's write lock, for up to the busy timeout, instead of failing when a
read transaction tries to upgrade) and plain ``BEGIN`` for readers. WAL
journal, so readers never block the writer.

PostgreSQL: psycopg2, ``pool_pre_ping`` so a pool recovers by itself after the
server restarted or its connections were killed, and a connect timeout.
Readers run in autocommit (one statement, no BEGIN/ROLLBACK round trips).
"""

from __future__ import annotations

import logging
import math
import os
import threading
from dataclasses import dataclass
from typing import Any

import sqlalchemy
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.pool import QueuePool

from thespsys.persistence.settings import EngineOptions

logger = logging.getLogger(__name__)

WRITE_OPTION = "thespsys_write"

_EngineKey = tuple[str, EngineOptions, int]


@dataclass
class _Entry:
    engine: Engine
    users: int


_lock = threading.Lock()
_engines: dict[_EngineKey, _Entry] = {}


def _create_sqlite_engine(url: URL, options: EngineOptions) -> Engine:
    engine = sqlalchemy.create_engine(
        url,
        poolclass=QueuePool,
        pool_size=options.pool_size,
        max_overflow=options.max_overflow,
        pool_timeout=options.pool_timeout,
        connect_args={
            "check_same_thread": False,
            "timeout": options.busy_timeout,
        },
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let us issue BEGIN ourselves (see _on_begin), not pysqlite.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(options.busy_timeout * 1000)}")
            cursor.execute("PRAGMA journal_mode = WAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        if connection.get_execution_options().get(WRITE_OPTION):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")

    return engine


def _create_postgres_engine(url: URL, options: EngineOptions) -> Engine:
    return sqlalchemy.create_engine(
        url,
        pool_size=options.pool_size,
        max_overflow=options.max_overflow,
        pool_timeout=options.pool_timeout,
        pool_pre_ping=True,
        connect_args={
            # libpq takes whole seconds.
            "connect_timeout": max(1, math.ceil(options.connect_timeout)),
            "application_name": "thespsys",
        },
    )


def _key(url: URL, options: EngineOptions) -> _EngineKey:
    return (url.render_as_string(hide_password=False), options, os.getpid())


def acquire_engine(url: URL, options: EngineOptions) -> Engine:
    """The shared engine for this URL and options in this process (count a user)."""
    key = _key(url, options)
    with _lock:
        entry = _engines.get(key)
        if entry is None:
            if url.get_backend_name() == "sqlite":
                engine = _create_sqlite_engine(url, options)
            else:
                engine = _create_postgres_engine(url, options)
            entry = _engines[key] = _Entry(engine, 0)
            logger.debug("created engine for %r", url)
        entry.users += 1
        return entry.engine


def release_engine(engine: Engine) -> None:
    """Forget one user of ``engine``; dispose of it when it was the last."""
    pid = os.getpid()
    with _lock:
        for key, entry in list(_engines.items()):
            if entry.engine is engine and key[2] == pid:
                entry.users -= 1
                if entry.users <= 0:
                    del _engines[key]
                    engine.dispose()
                    logger.debug("disposed engine for %r", engine.url)
                return


def dispose_engines() -> None:
    """Dispose of every engine this process created (e.g. before dropping a DB)."""
    pid = os.getpid()
    with _lock:
        for key, entry in list(_engines.items()):
            if key[2] == pid:
                del _engines[key]
                entry.engine.dispose()
