"""Change feeds: which events tables got new rows, cheaply, whoever wrote them.

One feed per database, each on one connection of its own (not pooled):

* PostgreSQL: ``LISTEN thespsys_events``; the events tables' trigger (see
  ``schema``) sends ``<table>:<slices>`` on every commit that inserted events.
  ``poll()`` reads what has arrived without blocking (one ``recv``), and
  checks the connection with ``SELECT 1`` every ``ping_interval`` seconds,
  so that a connection dropped without a word is noticed too.
* SQLite: ``PRAGMA data_version`` changes when another connection committed;
  only then are the watched tables' newest ids read (and, when asked for,
  the slices of the new rows). In WAL mode this reads shared memory: some
  microseconds.

Neither is in SQLAlchemy (LISTEN needs the driver's own connection), hence
this module. A broken connection raises eventsourcing's ``OperationalError``;
the caller opens a new feed, and should assume that anything may have changed
meanwhile.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterable
from typing import Any, Protocol

from eventsourcing.persistence import OperationalError
from sqlalchemy.engine import URL

from thespsys.persistence.naming import CHANGES_CHANNEL

APPLICATION_NAME = "thespsys-listener"

# table name -> slices of the new rows (empty: not known, any slice)
Changes = dict[str, set[int]]


class ChangeFeed(Protocol):
    def poll(self) -> Changes: ...

    def fileno(self) -> int | None:
        """A socket that becomes readable when there are changes, if any."""

    def close(self) -> None: ...


def open_change_feed(
    url: URL,
    tables: Iterable[str],
    *,
    with_slices: bool = True,
    connect_timeout: float = 5.0,
) -> ChangeFeed:
    """A feed of new rows in ``tables`` of the database at ``url``."""
    if url.get_backend_name() == "postgresql":
        return PostgresChangeFeed(url, tables, connect_timeout=connect_timeout)
    assert url.database is not None
    return SQLiteChangeFeed(url.database, tables, with_slices=with_slices)


class PostgresChangeFeed:
    def __init__(
        self,
        url: URL,
        tables: Iterable[str],
        *,
        connect_timeout: float = 5.0,
        ping_interval: float = 2.0,
    ) -> None:
        import psycopg2

        self._errors: tuple[type[BaseException], ...] = (psycopg2.Error, OSError)
        self._tables = set(tables)
        self._ping_interval = ping_interval
        arguments: dict[str, Any] = {
            **url.translate_connect_args(username="user", database="dbname"),
            **dict(url.query),
            "connect_timeout": max(1, round(connect_timeout)),
            "application_name": APPLICATION_NAME,
        }
        try:
            self._connection = psycopg2.connect(**arguments)
            self._connection.autocommit = True
            with self._connection.cursor() as cursor:
                cursor.execute(f"LISTEN {CHANGES_CHANNEL}")
        except self._errors as error:
            raise OperationalError(f"cannot listen on {url!r}: {error}") from error
        self._pinged = time.monotonic()

    def fileno(self) -> int | None:
        return int(self._connection.fileno())

    def poll(self) -> Changes:
        try:
            now = time.monotonic()
            if now - self._pinged > self._ping_interval:
                self._pinged = now
                with self._connection.cursor() as cursor:
                    cursor.execute("SELECT 1")
            self._connection.poll()
        except self._errors as error:
            raise OperationalError(f"lost the listening connection: {error}") from error
        changes: Changes = {}
        notifies = self._connection.notifies
        for notify in notifies:
            table, _, slices = notify.payload.partition(":")
            if table in self._tables:
                found = changes.setdefault(table, set())
                found.update(int(s) for s in slices.split(",") if s)
        notifies.clear()
        return changes

    def close(self) -> None:
        with contextlib.suppress(*self._errors):
            self._connection.close()


class SQLiteChangeFeed:
    def __init__(
        self, path: str, tables: Iterable[str], *, with_slices: bool = True
    ) -> None:
        self._with_slices = with_slices
        try:
            self._connection = sqlite3.connect(
                path, isolation_level=None, check_same_thread=False
            )
            self._version = self._data_version()
            self._heads = {table: self._head(table) for table in tables}
        except sqlite3.Error as error:
            raise OperationalError(f"cannot watch {path}: {error}") from error

    def fileno(self) -> int | None:
        return None  # look again after a while

    def _data_version(self) -> int:
        return int(self._connection.execute("PRAGMA data_version").fetchone()[0])

    def _head(self, table: str) -> int:
        row = self._connection.execute(f'SELECT max(id) FROM "{table}"').fetchone()
        return int(row[0] or 0)

    def poll(self) -> Changes:
        try:
            version = self._data_version()
            if version == self._version:
                return {}
            self._version = version
            changes: Changes = {}
            for table, last in self._heads.items():
                head = self._head(table)
                if head <= last:
                    continue
                self._heads[table] = head
                changes[table] = (
                    {
                        int(row[0])
                        for row in self._connection.execute(
                            f'SELECT DISTINCT slice FROM "{table}" '
                            "WHERE id > ? AND id <= ?",
                            (last, head),
                        )
                    }
                    if self._with_slices
                    else set()
                )
        except sqlite3.Error as error:
            raise OperationalError(f"cannot read the database: {error}") from error
        return changes

    def close(self) -> None:
        self._connection.close()
