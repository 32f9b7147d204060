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
    BigInteger,
    Column,
    Float,
    Identity,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    func,
    insert,
    literal_column,
    select,
    update,
)
from sqlalchemy.sql import ColumnElement

from thespsys.partitions import parse_tracking_name
from thespsys.persistence.datastore import Datastore
from thespsys.persistence.naming import safe_identifier

PARKED = "parked"
_IS_PARKED_SQL: ColumnElement[str] = literal_column("'parked'")
RETRIED = "retried"
SKIPPED = "skipped"


def dead_letters_table(name: str) -> Table:
    return Table(
        name,
        MetaData(),
        Column(
            "id",
            BigInteger().with_variant(Integer(), "sqlite"),
            Identity(),
            primary_key=True,
        ),
        Column("tracking_name", Text, nullable=False),
        Column("notification_id", BigInteger, nullable=False),
        Column("originator_id", Text, nullable=False),
        Column("originator_version", BigInteger, nullable=False),
        Column("topic", Text, nullable=False),
        Column("error", Text, nullable=False),
        Column("traceback", Text, nullable=False),
        Column("attempts", Integer, nullable=False),
        Column("parked_at", Float, nullable=False),
        Column("status", Text, nullable=False),
        Column("resolved_at", Float, nullable=True),
        PrimaryKeyConstraint("id", name=safe_identifier(name, "_pkey")),
        UniqueConstraint(
            "tracking_name",
            "notification_id",
            name=safe_identifier(name, "_position_key"),
        ),
        Index(
            safe_identifier(name, "_status_idx"),
            "status",
            "tracking_name",
            "originator_id",
        ),
        sqlite_autoincrement=True,
    )


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


class SQLDeadLetterRecorder:
    """The dead letters of one process application."""

    def __init__(self, datastore: Datastore, table_name: str) -> None:
        self.datastore = datastore
        self.table = table = dead_letters_table(table_name)
        c = table.c
        self._insert = datastore.compile(
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
        self._resolve = datastore.compile(
            update(table)
            .where(c.id == bindparam("letter_id"), c.status == _IS_PARKED_SQL)
            .values(status=bindparam("new_status"), resolved_at=bindparam("now"))
        )
        self._attempt = datastore.compile(
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
        self._select_all = datastore.compile(select(*columns).order_by(c.id))
        self._select_status = datastore.compile(
            select(*columns).where(c.status == bindparam("wanted")).order_by(c.id)
        )
        self._parked_originators = datastore.compile(
            select(c.originator_id)
            .where(c.status == _IS_PARKED_SQL, c.tracking_name == bindparam("name"))
            .distinct()
        )
        self._is_parked = datastore.compile(
            select(func.count())
            .select_from(table)
            .where(
                c.status == _IS_PARKED_SQL,
                c.tracking_name == bindparam("name"),
                c.originator_id == bindparam("originator"),
            )
        )
        self._status = datastore.compile(
            select(c.status).where(c.id == bindparam("letter_id"))
        )
        self._counts = datastore.compile(
            select(c.tracking_name, func.count())
            .where(c.status == _IS_PARKED_SQL)
            .group_by(c.tracking_name)
        )

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
            self._insert,
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
            self._resolve,
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
                self._attempt,
                {
                    "letter_id": letter_id,
                    "new_error": error,
                    "new_traceback": traceback,
                },
            )

    def select(self, status: str | None = None) -> list[DeadLetter]:
        with self.datastore.read() as cursor:
            if status is None:
                cursor.execute(self._select_all, {})
            else:
                cursor.execute(self._select_status, {"wanted": status})
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
            cursor.execute(self._parked_originators, {"name": tracking_name})
            return {row[0] for row in cursor.fetchall()}

    def is_parked(self, tracking_name: str, originator_id: str) -> bool:
        with self.datastore.read() as cursor:
            cursor.execute(
                self._is_parked, {"name": tracking_name, "originator": originator_id}
            )
            row = cursor.fetchone()
        return bool(row and row[0])

    def status(self, letter_id: int) -> str | None:
        with self.datastore.read() as cursor:
            cursor.execute(self._status, {"letter_id": letter_id})
            row = cursor.fetchone()
        return None if row is None else str(row[0])

    def parked_counts(self) -> dict[str, int]:
        with self.datastore.read() as cursor:
            cursor.execute(self._counts, {})
            return {row[0]: int(row[1]) for row in cursor.fetchall()}
