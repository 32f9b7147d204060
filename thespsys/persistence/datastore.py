"""A database as the recorders see it: write transactions, reads, compiled SQL.

SQLAlchemy provides the engine (pool, pre-ping, connect options), the dialect,
the schema and every statement, which each recorder compiles once, for its
dialect, when it is constructed. The statements then run on the pooled DBAPI
connection. Why not through ``Connection.execute``: its per-statement
machinery (events, result objects) costs about as much as a SQLite commit
(~100 µs per transaction), and the store has to be at least as fast as
eventsourcing's own.

``write()`` and ``read()`` are the only way recorders touch the database; see
``transactions`` for how errors are translated and dead connections dropped.
"""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import Select, bindparam, literal_column
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import URL, Dialect, Engine
from sqlalchemy.sql import ClauseElement

from thespsys.persistence.engines import acquire_engine, release_engine
from thespsys.persistence.settings import EngineOptions, parse_database_url
from thespsys.persistence.transactions import Read, Write

# Named parameters for both dialects, so every statement takes a dict.
_SQLITE_COMPILE_DIALECT = sqlite.dialect(paramstyle="named")


class Datastore:
    """Transactions and reads on one shared engine, with errors translated.

    ``write()`` gives a DBAPI cursor inside one transaction on one pooled
    connection, committed on success and rolled back on any error; ``read()``
    a cursor in autocommit mode, each statement reading a consistent snapshot.
    Both raise only ``eventsourcing.persistence`` errors.
    """

    def __init__(
        self,
        url: URL | str,
        *,
        options: EngineOptions | None = None,
        originator_id_type: Literal["uuid", "text"] = "uuid",
    ) -> None:
        if isinstance(url, str):
            url = parse_database_url(url, "url")
        self.url = url
        self.options = options or EngineOptions()
        self.originator_id_type = originator_id_type
        self.is_postgres = url.get_backend_name() == "postgresql"
        self.engine: Engine = acquire_engine(url, self.options)
        self.dialect: Dialect = self.engine.dialect
        self._compile_dialect = (
            self.dialect if self.is_postgres else _SQLITE_COMPILE_DIALECT
        )
        self._closed = False

    def compile(self, statement: ClauseElement) -> str:
        """SQL for ``statement`` in this dialect, taking named parameters.

        Every parameter must be a ``bindparam`` the caller supplies: values
        SQLAlchemy would bind by itself are not passed on, so they are refused.
        """
        compiled = statement.compile(dialect=self._compile_dialect)
        binds = getattr(compiled, "binds", {})  # DDL has none
        implicit = [name for name, bind in binds.items() if not bind.required]
        if implicit:
            msg = f"statement binds values of its own ({implicit}): {compiled}"
            raise ValueError(msg)
        return str(compiled)

    def quote_table(self, name: str) -> str:
        return self.dialect.identifier_preparer.quote(name)

    def write(self) -> Write:
        """``with datastore.write() as cursor``: one transaction (see ``Write``)."""
        return Write(self)

    def read(self) -> Read:
        """``with datastore.read() as cursor``: autocommit reads (see ``Read``)."""
        return Read(self)

    def close(self) -> None:
        """Release the shared engine (disposed when its last user closes)."""
        if not self._closed:
            self._closed = True
            release_engine(self.engine)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"


def with_limit(statement: Select[Any]) -> Select[Any]:
    """``statement LIMIT :limit``, with an explicit ``OFFSET 0``.

    SQLite's compiler adds ``OFFSET`` with a value of its own when there is
    none, which ``Datastore.compile`` refuses.
    """
    return statement.limit(bindparam("limit")).offset(literal_column("0"))
