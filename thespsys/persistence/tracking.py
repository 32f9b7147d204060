"""Tracking (exactly-once positions) and the process recorder.

The tracking table holds one row per upstream application. A position is
recorded by an upsert whose guard runs in the database::

    INSERT ... ON CONFLICT (application_name) DO UPDATE
        SET notification_id = excluded.notification_id
        WHERE <table>.notification_id < excluded.notification_id
    RETURNING notification_id

No row back means the position was already reached: ``IntegrityError``. Two
writers racing for the same position cannot both win. On PostgreSQL the
second blocks on the first's row (or unique-index entry) and, once the first
commits, re-checks the guard against the committed row and fails; on SQLite
writers are serialised by ``BEGIN IMMEDIATE``. The process recorder writes
the tracking row first, so a losing writer fails before it waits for the
events table lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import (
    IntegrityError,
    Notification,
    ProcessRecorder,
    StoredEvent,
    Tracking,
    TrackingRecorder,
)
from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql, sqlite

from thespsys.core.capabilities import TrackingRange
from thespsys.core.partitionings import Partitioning, PartitioningChange
from thespsys.persistence.aggregate import SQLRecorder
from thespsys.persistence.application import SQLApplicationRecorder
from thespsys.persistence.datastore import Datastore
from thespsys.persistence.dead_letters import (
    RETRIED,
    DeadLetterTracking,
    SQLDeadLetterRecorder,
)
from thespsys.persistence.naming import safe_identifier
from thespsys.persistence.partitionings import SQLPartitioningRecorder
from thespsys.persistence.schema import tracking_table


class _Tracking:
    """Tracking statements on one table; shared by both recorders below."""

    def __init__(self, datastore: Datastore, table_name: str) -> None:
        self.table = table = tracking_table(table_name)
        dialect_insert = postgresql.insert if datastore.is_postgres else sqlite.insert
        upsert = dialect_insert(table).values(
            application_name=bindparam("application_name"),
            notification_id=bindparam("notification_id"),
        )
        self.upsert = datastore.compile(
            upsert.on_conflict_do_update(
                index_elements=[table.c.application_name],
                set_={"notification_id": upsert.excluded.notification_id},
                where=table.c.notification_id < upsert.excluded.notification_id,
            ).returning(table.c.notification_id)
        )
        self.upsert_range = datastore.compile(
            upsert.on_conflict_do_update(
                index_elements=[table.c.application_name],
                set_={"notification_id": upsert.excluded.notification_id},
                where=table.c.notification_id < bindparam("first_notification_id"),
            ).returning(table.c.notification_id)
        )
        self.select_max = datastore.compile(
            select(table.c.notification_id).where(
                table.c.application_name == bindparam("application_name")
            )
        )
        self.select_all = datastore.compile(
            select(table.c.application_name, table.c.notification_id)
        )

    def insert(self, cursor: Any, tracking: Tracking) -> None:
        if isinstance(tracking, TrackingRange):
            if tracking.first_notification_id > tracking.notification_id:
                msg = f"{tracking} ends before it starts"
                raise ValueError(msg)
            cursor.execute(
                self.upsert_range,
                {
                    "application_name": tracking.application_name,
                    "notification_id": tracking.notification_id,
                    "first_notification_id": tracking.first_notification_id,
                },
            )
            first = tracking.first_notification_id
        else:
            cursor.execute(
                self.upsert,
                {
                    "application_name": tracking.application_name,
                    "notification_id": tracking.notification_id,
                },
            )
            first = tracking.notification_id
        if cursor.fetchone() is None:
            msg = (
                f"tracking of {tracking.application_name!r} is already at or "
                f"beyond notification {first}"
            )
            raise IntegrityError(msg)

    def max_id(self, datastore: Datastore, application_name: str) -> int | None:
        with datastore.read() as cursor:
            cursor.execute(self.select_max, {"application_name": application_name})
            row = cursor.fetchone()
        return None if row is None else int(row[0])

    def all(self, datastore: Datastore) -> dict[str, int]:
        with datastore.read() as cursor:
            cursor.execute(self.select_all, {})
            return {str(row[0]): int(row[1]) for row in cursor.fetchall()}


class _Positions:
    """``insert_tracking`` and ``max_tracking_id``, for both recorders below."""

    datastore: Datastore
    _tracking: _Tracking

    def insert_tracking(self, tracking: Tracking) -> None:
        with self.datastore.write() as cursor:
            self._tracking.insert(cursor, tracking)

    def max_tracking_id(self, application_name: str) -> int | None:
        return self._tracking.max_id(self.datastore, application_name)


class SQLTrackingRecorder(_Positions, SQLRecorder, TrackingRecorder):
    """Positions in upstream notification logs, without events."""

    def __init__(self, datastore: Datastore, *, tracking_table_name: str) -> None:
        super().__init__(datastore)
        self._tracking = _Tracking(datastore, tracking_table_name)
        self.tracking_table = self._tracking.table
        self.tables = (self.tracking_table,)


class SQLProcessRecorder(_Positions, SQLApplicationRecorder, ProcessRecorder):
    """Events and the tracking position they result from, in one transaction."""

    def __init__(
        self,
        datastore: Datastore,
        *,
        events_table_name: str,
        tracking_table_name: str,
        dead_letters_table_name: str | None = None,
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self._tracking = _Tracking(datastore, tracking_table_name)
        self.tracking_table = self._tracking.table
        prefix = events_table_name.removesuffix("_events")
        self.dead_letters = SQLDeadLetterRecorder(
            datastore,
            dead_letters_table_name or safe_identifier(prefix, "_dead_letters"),
        )
        self.partitionings = SQLPartitioningRecorder(
            datastore, safe_identifier(prefix, "_partitionings")
        )
        self.tables = (
            self.events_table,
            self.tracking_table,
            self.dead_letters.table,
            self.partitionings.table,
        )

    def insert_batch(
        self, stored_events: Sequence[StoredEvent], trackings: Sequence[TrackingRange]
    ) -> Sequence[int]:
        """The new events of several notifications and each upstream's
        position past them, in one transaction; ``IntegrityError`` if any of
        those notifications was recorded as processed (or on a write conflict).
        """
        ids = self.insert_events(stored_events, trackings=trackings)
        assert ids is not None
        return ids

    def _has_other_writes(self, **kwargs: Any) -> bool:
        return kwargs.get("tracking") is not None or bool(kwargs.get("trackings"))

    def _write_before_events(self, cursor: Any, **kwargs: Any) -> None:
        # In name order, so that two writers never wait for each other's rows.
        trackings: Sequence[TrackingRange] = kwargs.get("trackings") or ()
        for each in sorted(trackings, key=lambda t: t.application_name):
            self._tracking.insert(cursor, each)
        tracking: Tracking | None = kwargs.get("tracking")
        if isinstance(tracking, DeadLetterTracking):
            # A retried dead letter: the position is past it already.
            self.dead_letters.resolve(cursor, tracking.dead_letter_id, RETRIED)
        elif tracking is not None:
            self._tracking.insert(cursor, tracking)

    def park(
        self,
        tracking: Tracking,
        notification: Notification,
        error: str,
        traceback: str,
        attempts: int,
    ) -> None:
        """Set ``notification`` aside as a dead letter and move the position
        past it, in one transaction."""
        with self.datastore.write() as cursor:
            self._tracking.insert(cursor, tracking)
            self.dead_letters.park(
                cursor, tracking, notification, error, traceback, attempts
            )

    def tracking_positions(self) -> dict[str, int]:
        """Every recorded position, by tracking name."""
        return self._tracking.all(self.datastore)

    def partitioning(self, leader_name: str) -> Partitioning | None:
        return self.partitionings.get(leader_name)

    def unresolved_dead_letters(self) -> dict[str, int]:
        return self.dead_letters.parked_counts()

    def record_partitioning(self, change: PartitioningChange) -> None:
        """The partitioning and its start positions, in one transaction."""
        with self.datastore.write() as cursor:
            self.partitionings.record(cursor, change)
            for name, position in sorted(change.starts.items()):
                self._tracking.insert(cursor, Tracking(name, position))
