"""A database as the recorders see it: a write transaction, a read, and the dialect."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

from sqlalchemy.engine import URL, Connection, Engine

from thespsys.persistence.engines import (
    WRITE_OPTION,
    acquire_engine,
    release_engine,
)
from thespsys.persistence.errors import translate_errors
from thespsys.persistence.settings import EngineOptions, parse_database_url


class Datastore:
    """Transactions on one shared engine, with errors translated.

    ``write()`` is one transaction on one pooled connection (SQLite: ``BEGIN
    IMMEDIATE``); ``read()`` is one connection for reading (PostgreSQL:
    autocommit; SQLite: a deferred ``BEGIN``). Both raise only
    ``eventsourcing.persistence`` errors.
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
        self._writer = self.engine.execution_options(**{WRITE_OPTION: True})
        if self.is_postgres:
            self._reader = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        else:
            self._reader = self.engine
        self._closed = False

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction: committed on success, rolled back on error."""
        with translate_errors(), self._writer.begin() as connection:
            yield connection

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reading; nothing it does is committed."""
        with translate_errors(), self._reader.connect() as connection:
            yield connection

    def close(self) -> None:
        """Release the shared engine (disposed when its last user closes)."""
        if not self._closed:
            self._closed = True
            release_engine(self.engine)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"
