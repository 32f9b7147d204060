"""Inserting many rows in one statement, per dialect, optionally getting their ids.

PostgreSQL: one multi-row ``INSERT ... VALUES (...), (...)`` built by
psycopg2's ``execute_values``: one round trip for the whole batch. SQLite:
multi-row VALUES too (in pages of ``SQLITE_ROWS_PER_STATEMENT``), which is
markedly faster than stepping a one-row statement per row.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table

from thespsys.persistence.datastore import Datastore

try:
    from psycopg2.extras import execute_values
except ImportError:  # pragma: no cover - PostgreSQL support is optional
    execute_values = None

Row = tuple[Any, ...]

# SQLite allows 32,766 parameters per statement; stay well below.
SQLITE_ROWS_PER_STATEMENT = 1000


@functools.lru_cache(maxsize=256)
def _sqlite_values_sql(head: str, width: int, count: int) -> str:
    row = "(" + ",".join(["?"] * width) + ")"
    return head + ",".join([row] * count)


class RowInserter:
    """Inserts rows of ``columns`` (tuples, in that order) into ``table``."""

    def __init__(
        self, datastore: Datastore, table: Table, columns: Sequence[str]
    ) -> None:
        self.is_postgres = datastore.is_postgres
        self.width = len(columns)
        quote = datastore.dialect.identifier_preparer.quote
        self.head = (
            f"INSERT INTO {quote(table.name)} "
            f"({', '.join(quote(column) for column in columns)}) VALUES "
        )
        self.postgres_many = self.head + "%s"  # execute_values fills in the rows
        self.postgres_single = self.head + "(" + ", ".join(["%s"] * self.width) + ")"
        self.sqlite_single = _sqlite_values_sql(self.head, self.width, 1)

    def insert(self, cursor: Any, rows: Sequence[Row], prefix: str = "") -> None:
        """Insert ``rows``; ``prefix``: statements to send first (PostgreSQL only)."""
        if not self.is_postgres:
            self._insert_sqlite(cursor, rows)
        elif len(rows) == 1:
            cursor.execute(prefix + self.postgres_single, rows[0])
        else:
            execute_values(
                cursor, prefix + self.postgres_many, rows, page_size=len(rows)
            )

    def insert_returning_ids(
        self, cursor: Any, rows: Sequence[Row], prefix: str = ""
    ) -> list[int]:
        """Insert ``rows`` and return their ids in row order.

        Callers hold the table's write lock (PostgreSQL: ``LOCK TABLE``; SQLite:
        ``BEGIN IMMEDIATE``), so the rows get consecutive increasing ids in
        row order. PostgreSQL's RETURNING order is not promised, so its ids
        are sorted; SQLite's are counted back from the last one.
        """
        if not self.is_postgres:
            self._insert_sqlite(cursor, rows)
            if len(rows) == 1:
                return [cursor.lastrowid]
            cursor.execute("SELECT last_insert_rowid()")
            last = int(cursor.fetchone()[0])
            return list(range(last - len(rows) + 1, last + 1))
        if len(rows) == 1:
            cursor.execute(prefix + self.postgres_single + " RETURNING id", rows[0])
            return [cursor.fetchone()[0]]
        result = execute_values(
            cursor,
            prefix + self.postgres_many + " RETURNING id",
            rows,
            page_size=len(rows),  # one statement, one round trip
            fetch=True,
        )
        return sorted(row[0] for row in result)

    def _insert_sqlite(self, cursor: Any, rows: Sequence[Row]) -> None:
        if len(rows) == 1:
            cursor.execute(self.sqlite_single, rows[0])
            return
        for start in range(0, len(rows), SQLITE_ROWS_PER_STATEMENT):
            page = rows[start : start + SQLITE_ROWS_PER_STATEMENT]
            sql = _sqlite_values_sql(self.head, self.width, len(page))
            cursor.execute(sql, [value for row in page for value in row])
