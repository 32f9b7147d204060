"""Reads and write transactions on a pooled DBAPI connection, errors translated.

The one place where recorders meet the driver: every DBAPI or SQLAlchemy
error leaving a ``with`` block becomes the matching ``eventsourcing``
exception (chained to its cause), and a connection the error shows to be dead
is dropped from the pool instead of being handed to the next caller.

Connections are in autocommit mode (see ``engines``), so a read is one
statement and a write transaction is BEGIN ... COMMIT issued here.
"""

from __future__ import annotations

import contextlib
import logging
from types import TracebackType
from typing import Any, Protocol, cast

from sqlalchemy.engine import URL, Dialect, Engine
from sqlalchemy.exc import SQLAlchemyError

from thespsys.persistence.errors import DBAPI_ERRORS, translate

logger = logging.getLogger(__name__)

_TRANSLATED: tuple[type[Exception], ...] = (SQLAlchemyError, *DBAPI_ERRORS)


class Database(Protocol):
    """What a transaction needs of its ``Datastore``."""

    @property
    def engine(self) -> Engine: ...

    @property
    def dialect(self) -> Dialect: ...

    @property
    def url(self) -> URL: ...

    @property
    def is_postgres(self) -> bool: ...


class _Checkout:
    """One pooled connection and one cursor for the length of a ``with`` block."""

    __slots__ = ("_connection", "_cursor", "_datastore", "_invalidated")

    def __init__(self, datastore: Database) -> None:
        self._datastore = datastore
        self._cursor: Any = None
        self._invalidated = False

    def _open(self) -> Any:
        try:
            # From the pool; pinged first on PostgreSQL (pool_pre_ping).
            self._connection = self._datastore.engine.raw_connection()
        except _TRANSLATED as error:
            raise translate(error) from error
        try:
            self._cursor = self._connection.cursor()
        except _TRANSLATED as error:
            self._close(error)
            raise translate(error) from error
        return self._cursor

    def _invalidate(self, error: BaseException) -> None:
        if not self._invalidated:
            self._invalidated = True
            self._connection.invalidate(error)

    def _close(self, error: BaseException | None) -> None:
        """Return the connection to the pool, or drop it if ``error`` killed it."""
        if isinstance(error, DBAPI_ERRORS) and self._datastore.dialect.is_disconnect(
            cast(Any, error), self._connection.dbapi_connection, self._cursor
        ):
            logger.warning(
                "dropping a dead connection to %r: %s", self._datastore.url, error
            )
            self._invalidate(error)
        if self._cursor is not None:
            with contextlib.suppress(*DBAPI_ERRORS):
                self._cursor.close()
        self._connection.close()


class Read(_Checkout):
    """``with Read(datastore) as cursor``: statements in autocommit mode."""

    __slots__ = ()

    def __enter__(self) -> Any:
        return self._open()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._close(exc)
        if isinstance(exc, _TRANSLATED):
            raise translate(exc) from exc


class Write(_Checkout):
    """``with Write(datastore) as cursor``: one transaction, committed on success.

    SQLite: ``BEGIN IMMEDIATE`` up front, so writers queue for the database's
    write lock (up to the busy timeout) rather than fail when upgrading.
    PostgreSQL: ``BEGIN`` travels with the first statement, saving a round trip.
    """

    __slots__ = ("_transaction",)

    def __enter__(self) -> Any:
        cursor = self._open()
        if self._datastore.is_postgres:
            self._transaction: Any = BeginWithFirstStatement(cursor)
            return self._transaction
        try:
            cursor.execute("BEGIN IMMEDIATE")
        except _TRANSLATED as error:
            self._close(error)
            raise translate(error) from error
        self._transaction = cursor
        return cursor

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        transaction = self._transaction
        begun = transaction is self._cursor or transaction.begun
        error = exc
        if begun:
            if error is None:
                try:
                    self._cursor.execute("COMMIT")
                except BaseException as commit_error:
                    error = commit_error
            if error is not None:
                self._rollback()
        self._close(error)
        if isinstance(error, _TRANSLATED):
            raise translate(error) from error
        if error is not None and error is not exc:
            raise error  # not a database error, e.g. KeyboardInterrupt in COMMIT

    def _rollback(self) -> None:
        try:
            self._cursor.execute("ROLLBACK")
        except DBAPI_ERRORS as error:
            # The transaction may still be open: never pool this connection.
            logger.debug("rollback failed, dropping the connection: %s", error)
            self._invalidate(error)


class BeginWithFirstStatement:
    """A psycopg2 cursor that sends ``BEGIN;`` in front of its first statement.

    The connection is in autocommit mode, so the statements of one ``execute``
    after an explicit BEGIN belong to that transaction; if one fails, the
    transaction is left aborted, and ``Write`` rolls it back.
    """

    __slots__ = ("_cursor", "begun")

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor
        self.begun = False

    def execute(self, sql: str | bytes, params: Any = None) -> None:
        if not self.begun:
            self.begun = True
            sql = (b"BEGIN; " + sql) if isinstance(sql, bytes) else ("BEGIN; " + sql)
        self._cursor.execute(sql, params)

    def executemany(self, sql: str, params: Any) -> None:
        if not self.begun:
            self.begun = True
            self._cursor.execute("BEGIN")
        self._cursor.executemany(sql, params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)
