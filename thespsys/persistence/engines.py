"""SQLAlchemy engines, one per (URL, options, process), shared and reference counted.

Many applications in one process share an engine (and so a connection pool)
per database. The cache is keyed by ``os.getpid()`` too: a forked child never
touches the connections it inherited, it opens its own. The parent's engines
stay referenced (unused) in the child so that garbage collection there never
closes the parent's sockets.

Connections are in autocommit mode at the driver level: a read is one
statement, needing no BEGIN/ROLLBACK, and ``Datastore.write()`` issues BEGIN
(SQLite: ``BEGIN IMMEDIATE``) and COMMIT itself.

SQLite: pysqlite's own transaction handling is off (``isolation_level =
None``), WAL journal (readers never block the writer, nor it them), a busy
timeout for writers queueing on the write lock, ``check_same_thread=False``
(a pooled connection is used by one thread at a time, but not always the same).

PostgreSQL: psycopg2, ``pool_pre_ping`` so a pool recovers by itself after the
server restarted or its connections were killed, and a connect timeout. With
``notify`` off, sessions start with ``thespsys.notify=off``: their inserts
NOTIFY no listener (see ``schema``).
"""

from __future__ import annotations

import logging
import math
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine
from sqlalchemy.pool import QueuePool

from thespsys.persistence.naming import NOTIFY_SETTING
from thespsys.persistence.settings import EngineOptions

logger = logging.getLogger(__name__)

_EngineKey = tuple[str, EngineOptions, int]


@dataclass
class _Entry:
    engine: Engine
    users: int


# Re-entrant: creating an engine allocates, the collector may then finalise an
# application nobody closed, and its close() releases its engine, in this same
# thread, while acquire_engine() holds the lock (a plain Lock deadlocked).
_lock = threading.RLock()
_engines: dict[_EngineKey, _Entry] = {}


def _new_lock_in_child() -> None:
    # Another thread of the parent may have held the lock's copy at the fork.
    global _lock
    _lock = threading.RLock()


os.register_at_fork(after_in_child=_new_lock_in_child)


def _create_sqlite_engine(url: URL, options: EngineOptions) -> Engine:
    engine = sqlalchemy.create_engine(
        url,
        poolclass=QueuePool,
        pool_size=options.pool_size,
        max_overflow=options.max_overflow,
        pool_timeout=options.pool_timeout,
        pool_reset_on_return=None,  # transactions always end in COMMIT/ROLLBACK
        connect_args={
            "check_same_thread": False,
            "timeout": options.busy_timeout,
        },
    )

    @event.listens_for(engine, "do_connect")
    def _check_directory(*_: Any) -> None:
        """SQLite creates a missing file, not its directory, and then says only
        "unable to open database file": say which, and why."""
        database = url.database or ""
        if database.startswith("file:") or url.query.get("uri"):
            return  # a URI filename: SQLite's to interpret
        directory = Path(database).absolute().parent
        if not directory.is_dir():
            msg = (
                f"unable to open database file {database}: its directory "
                f"{directory} does not exist"
            )
            raise sqlite3.OperationalError(msg)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(options.busy_timeout * 1000)}")
            _switch_to_wal(cursor, options.busy_timeout)
        finally:
            cursor.close()

    return engine


def _switch_to_wal(cursor: Any, timeout: float) -> None:
    """``PRAGMA journal_mode = WAL``, retried while another connection holds the
    lock: SQLite answers "database is locked" at once here, without waiting
    for the busy timeout, when several processes open a new file together."""
    deadline = time.monotonic() + timeout
    pause = 0.005
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.1)


def _create_postgres_engine(url: URL, options: EngineOptions) -> Engine:
    quiet = {} if options.notify else {"options": f"-c {NOTIFY_SETTING}=off"}
    return sqlalchemy.create_engine(
        url,
        pool_size=options.pool_size,
        max_overflow=options.max_overflow,
        pool_timeout=options.pool_timeout,
        pool_pre_ping=True,
        pool_reset_on_return=None,  # autocommit; transactions end explicitly
        isolation_level="AUTOCOMMIT",
        connect_args={
            # libpq takes whole seconds.
            "connect_timeout": max(1, math.ceil(options.connect_timeout)),
            "application_name": "thespsys",
            **quiet,
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
