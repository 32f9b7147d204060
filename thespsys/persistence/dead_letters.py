"""Dead letters: notifications a process application set aside, in order.

When a notification keeps failing under the ``park`` error policy, it is
written here *and* the follower's tracking position moves past it, in one
transaction, so processing goes on. Every later notification of the same
originator from the same upstream is parked behind it, so that aggregate's
order is never broken; other originators go on.

A parked notification is later either retried (its new events recorded and
the letter marked ``retried`` in one transaction, guarded so it happens once)
or skipped (marked ``skipped``, never processed). The guard is an UPDATE that
only matches a letter still ``parked``: of two resolvers, one wins and the
other gets ``IntegrityError``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from eventsourcing.persistence import IntegrityError, Notification, Tracking
from sqlalchemy import (
    Table,
    bindparam,
    func,
    insert,
    literal_column,
    select,
    update,
)
from sqlalchemy.sql import ColumnElement

from thespsys.core.partitions import parse_tracking_name
from thespsys.persistence.datastore import Datastore
from thespsys.persistence.schema import dead_letters_table

PARKED = "parked"
_IS_PARKED_SQL: ColumnElement[str] = literal_column("'parked'")
RETRIED = "retried"
SKIPPED = "skipped"


@dataclass(frozen=True)
class DeadLetterTracking(Tracking):
    """Tracking for retrying a dead letter: resolves the letter instead of moving
    the tracking position (which is past it already)."""

    dead_letter_id: int = 0


@dataclass(frozen=True, slots=True)
class DeadLetter:
    id: int
    tracking_name: str
    notification_id: int
    originator_id: str
    originator_version: int
    topic: str
    error: str
    traceback: str
    attempts: int
    parked_at: datetime
    status: str
    resolved_at: datetime | None

    @property
    def leader_name(self) -> str:
        return parse_tracking_name(self.tracking_name)[0]


def _when(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


@dataclass(frozen=True, slots=True)
class _Statements:
    """The dead-letter statements, compiled once per recorder."""

    insert: str
    resolve: str
    attempt: str
    select_all: str
    select_status: str
    parked_originators: str
    is_parked: str
    status: str
    counts: str


def _compile_statements(datastore: Datastore, table: Table) -> _Statements:
    c = table.c
    insert_sql = datastore.compile(
        insert(table).values(
            {
                column: bindparam(column)
                for column in (
                    "tracking_name",
                    "notification_id",
                    "originator_id",
                    "originator_version",
                    "topic",
                    "error",
                    "traceback",
                    "attempts",
                    "parked_at",
                    "status",
                )
            }
        )
    )
    resolve_sql = datastore.compile(
        update(table)
        .where(c.id == bindparam("letter_id"), c.status == _IS_PARKED_SQL)
        .values(status=bindparam("new_status"), resolved_at=bindparam("now"))
    )
    attempt_sql = datastore.compile(
        update(table)
        .where(c.id == bindparam("letter_id"), c.status == _IS_PARKED_SQL)
        .values(
            attempts=c.attempts + literal_column("1"),
            error=bindparam("new_error"),
            traceback=bindparam("new_traceback"),
        )
    )
    columns = [
        c.id,
        c.tracking_name,
        c.notification_id,
        c.originator_id,
        c.originator_version,
        c.topic,
        c.error,
        c.traceback,
        c.attempts,
        c.parked_at,
        c.status,
        c.resolved_at,
    ]
    select_all_sql = datastore.compile(select(*columns).order_by(c.id))
    select_status_sql = datastore.compile(
        select(*columns).where(c.status == bindparam("wanted")).order_by(c.id)
    )
    parked_originators_sql = datastore.compile(
        select(c.originator_id)
        .where(c.status == _IS_PARKED_SQL, c.tracking_name == bindparam("name"))
        .distinct()
    )
    is_parked_sql = datastore.compile(
        select(func.count())
        .select_from(table)
        .where(
            c.status == _IS_PARKED_SQL,
            c.tracking_name == bindparam("name"),
            c.originator_id == bindparam("originator"),
        )
    )
    status_sql = datastore.compile(
        select(c.status).where(c.id == bindparam("letter_id"))
    )
    counts_sql = datastore.compile(
        select(c.tracking_name, func.count())
        .where(c.status == _IS_PARKED_SQL)
        .group_by(c.tracking_name)
    )
    return _Statements(
        insert=insert_sql,
        resolve=resolve_sql,
        attempt=attempt_sql,
        select_all=select_all_sql,
        select_status=select_status_sql,
        parked_originators=parked_originators_sql,
        is_parked=is_parked_sql,
        status=status_sql,
        counts=counts_sql,
    )


class SQLDeadLetterRecorder:
    """The dead letters of one process application."""

    def __init__(self, datastore: Datastore, table_name: str) -> None:
        self.datastore = datastore
        self.table = dead_letters_table(table_name)
        self._sql = _compile_statements(datastore, self.table)

    def park(
        self,
        cursor: Any,
        tracking: Tracking,
        notification: Notification,
        error: str,
        traceback: str,
        attempts: int,
    ) -> None:
        """Write one letter (the caller moves the tracking position in the
        same transaction)."""
        cursor.execute(
            self._sql.insert,
            {
                "tracking_name": tracking.application_name,
                "notification_id": notification.id,
                "originator_id": str(notification.originator_id),
                "originator_version": notification.originator_version,
                "topic": notification.topic,
                "error": error,
                "traceback": traceback,
                "attempts": attempts,
                "parked_at": time.time(),
                "status": PARKED,
            },
        )

    def resolve(self, cursor: Any, letter_id: int, status: str) -> None:
        cursor.execute(
            self._sql.resolve,
            {"letter_id": letter_id, "new_status": status, "now": time.time()},
        )
        if cursor.rowcount != 1:
            msg = f"dead letter {letter_id} is not parked (resolved already?)"
            raise IntegrityError(msg)

    def skip(self, letter_id: int) -> None:
        with self.datastore.write() as cursor:
            self.resolve(cursor, letter_id, SKIPPED)

    def record_attempt(self, letter_id: int, error: str, traceback: str) -> None:
        with self.datastore.write() as cursor:
            cursor.execute(
                self._sql.attempt,
                {
                    "letter_id": letter_id,
                    "new_error": error,
                    "new_traceback": traceback,
                },
            )

    def select(self, status: str | None = None) -> list[DeadLetter]:
        with self.datastore.read() as cursor:
            if status is None:
                cursor.execute(self._sql.select_all, {})
            else:
                cursor.execute(self._sql.select_status, {"wanted": status})
            rows: Sequence[Any] = cursor.fetchall()
        return [
            DeadLetter(
                id=int(row[0]),
                tracking_name=row[1],
                notification_id=int(row[2]),
                originator_id=row[3],
                originator_version=int(row[4]),
                topic=row[5],
                error=row[6],
                traceback=row[7],
                attempts=int(row[8]),
                parked_at=_when(row[9]),  # type: ignore[arg-type]
                status=row[10],
                resolved_at=_when(row[11]),
            )
            for row in rows
        ]

    def parked_originators(self, tracking_name: str) -> set[str]:
        with self.datastore.read() as cursor:
            cursor.execute(self._sql.parked_originators, {"name": tracking_name})
            return {row[0] for row in cursor.fetchall()}

    def is_parked(self, tracking_name: str, originator_id: str) -> bool:
        with self.datastore.read() as cursor:
            cursor.execute(
                self._sql.is_parked,
                {"name": tracking_name, "originator": originator_id},
            )
            row = cursor.fetchone()
        return bool(row and row[0])

    def status(self, letter_id: int) -> str | None:
        with self.datastore.read() as cursor:
            cursor.execute(self._sql.status, {"letter_id": letter_id})
            row = cursor.fetchone()
        return None if row is None else str(row[0])

    def parked_counts(self) -> dict[str, int]:
        with self.datastore.read() as cursor:
            cursor.execute(self._sql.counts, {})
            return {row[0]: int(row[1]) for row in cursor.fetchall()}
