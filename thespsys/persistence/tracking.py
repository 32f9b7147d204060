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

from typing import Any

from eventsourcing.persistence import (
    IntegrityError,
    ProcessRecorder,
    Tracking,
    TrackingRecorder,
)
from sqlalchemy import Connection, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite

from thespsys.persistence.application import SQLApplicationRecorder
from thespsys.persistence.aggregate import SQLRecorder
from thespsys.persistence.datastore import Datastore
from thespsys.persistence.schema import tracking_table


class _Tracking:
    """Tracking statements on one table; shared by both recorders below."""

    def __init__(self, datastore: Datastore, table_name: str) -> None:
        self.table = table = tracking_table(table_name)
        dialect_insert = postgresql.insert if datastore.is_postgres else sqlite.insert
        upsert = dialect_insert(table)
        self.upsert = upsert.on_conflict_do_update(
            index_elements=[table.c.application_name],
            set_={"notification_id": upsert.excluded.notification_id},
            where=table.c.notification_id < upsert.excluded.notification_id,
        ).returning(table.c.notification_id)
        self.select_max = select(table.c.notification_id).where(
            table.c.application_name == bindparam("application_name")
        )

    def insert(self, connection: Connection, tracking: Tracking) -> None:
        row = connection.execute(
            self.upsert,
            {
                "application_name": tracking.application_name,
                "notification_id": tracking.notification_id,
            },
        ).first()
        if row is None:
            msg = (
                f"tracking of {tracking.application_name!r} is already at or "
                f"beyond notification {tracking.notification_id}"
            )
            raise IntegrityError(msg)

    def max_id(self, datastore: Datastore, application_name: str) -> int | None:
        with datastore.read() as connection:
            value = connection.execute(
                self.select_max, {"application_name": application_name}
            ).scalar()
        return None if value is None else int(value)


class SQLTrackingRecorder(SQLRecorder, TrackingRecorder):
    """Positions in upstream notification logs, without events."""

    def __init__(self, datastore: Datastore, *, tracking_table_name: str) -> None:
        super().__init__(datastore)
        self._tracking = _Tracking(datastore, tracking_table_name)
        self.tracking_table = self._tracking.table
        self.tables = (self.tracking_table,)

    def insert_tracking(self, tracking: Tracking) -> None:
        with self.datastore.write() as connection:
            self._tracking.insert(connection, tracking)

    def max_tracking_id(self, application_name: str) -> int | None:
        return self._tracking.max_id(self.datastore, application_name)


class SQLProcessRecorder(SQLApplicationRecorder, ProcessRecorder):
    """Events and the tracking position they result from, in one transaction."""

    def __init__(
        self,
        datastore: Datastore,
        *,
        events_table_name: str,
        tracking_table_name: str,
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self._tracking = _Tracking(datastore, tracking_table_name)
        self.tracking_table = self._tracking.table
        self.tables = (self.events_table, self.tracking_table)

    def _has_other_writes(self, **kwargs: Any) -> bool:
        return kwargs.get("tracking") is not None

    def _write_before_events(self, connection: Connection, **kwargs: Any) -> None:
        tracking: Tracking | None = kwargs.get("tracking")
        if tracking is not None:
            self._tracking.insert(connection, tracking)

    def insert_tracking(self, tracking: Tracking) -> None:
        with self.datastore.write() as connection:
            self._tracking.insert(connection, tracking)

    def max_tracking_id(self, application_name: str) -> int | None:
        return self._tracking.max_id(self.datastore, application_name)
