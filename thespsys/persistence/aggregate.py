"""The recorder base class, and the aggregate recorder (snapshots and the like)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import AggregateRecorder, StoredEvent
from sqlalchemy import Table, bindparam, select

from thespsys.persistence.datastore import Datastore, with_limit
from thespsys.persistence.inserts import RowInserter
from thespsys.persistence.schema import create_tables, snapshots_table

EVENT_COLUMNS = ("originator_id", "originator_version", "topic", "state")

# (gt given, lte given, descending, limit given) -> SQL
_EventsQueryKey = tuple[bool, bool, bool, bool]


class SQLRecorder:
    """What every recorder has: a datastore, its tables, and how ids are stored."""

    tables: tuple[Table, ...] = ()

    def __init__(self, datastore: Datastore) -> None:
        self.datastore = datastore
        self._ids_are_uuids = datastore.originator_id_type == "uuid"

    def create_table(self) -> None:
        """Create this recorder's tables if missing (idempotent, race-safe)."""
        create_tables(self.datastore, self.tables)

    def _stored_id(self, originator_id: UUID | str) -> str:
        """Originator ids are stored as text; UUIDs in their canonical form."""
        if self._ids_are_uuids and not isinstance(originator_id, UUID):
            return str(UUID(originator_id))
        return str(originator_id)


class SQLAggregateRecorder(SQLRecorder, AggregateRecorder):
    """Events of aggregates, without notification ids (used for snapshots)."""

    make_table = staticmethod(snapshots_table)

    def __init__(self, datastore: Datastore, *, events_table_name: str) -> None:
        super().__init__(datastore)
        self.events_table = self.make_table(events_table_name)
        self.tables = (self.events_table,)
        self._inserter = RowInserter(datastore, self.events_table, EVENT_COLUMNS)
        self._select_events: dict[_EventsQueryKey, str] = {}

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if stored_events:
            rows = [
                (
                    self._stored_id(e.originator_id),
                    e.originator_version,
                    e.topic,
                    e.state,
                )
                for e in stored_events
            ]
            with self.datastore.write() as cursor:
                self._inserter.insert(cursor, rows)
        return None

    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        key = (gt is not None, lte is not None, desc, limit is not None)
        sql = self._select_events.get(key)
        if sql is None:
            sql = self._select_events[key] = self._compile_select_events(key)
        # Unused parameters are ignored by both drivers.
        params = {
            "originator_id": self._stored_id(originator_id),
            "gt": gt,
            "lte": lte,
            "limit": limit,
        }
        with self.datastore.read() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if not rows:
            return []
        # All rows share the id: convert it once.
        if isinstance(originator_id, UUID) or not self._ids_are_uuids:
            same_id: UUID | str = originator_id
        else:
            same_id = UUID(originator_id)
        return [
            StoredEvent(
                originator_id=same_id,
                originator_version=version,
                topic=topic,
                state=bytes(state),
            )
            for version, topic, state in rows
        ]

    def _compile_select_events(self, key: _EventsQueryKey) -> str:
        has_gt, has_lte, desc, has_limit = key
        columns = self.events_table.c
        version = columns.originator_version
        statement = select(version, columns.topic, columns.state).where(
            columns.originator_id == bindparam("originator_id")
        )
        if has_gt:
            statement = statement.where(version > bindparam("gt"))
        if has_lte:
            statement = statement.where(version <= bindparam("lte"))
        statement = statement.order_by(version.desc() if desc else version.asc())
        if has_limit:
            statement = with_limit(statement)
        return self.datastore.compile(statement)
