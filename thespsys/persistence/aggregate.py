"""The recorder base class, and the aggregate recorder (snapshots and the like)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import AggregateRecorder, StoredEvent
from sqlalchemy import Select, Table, bindparam, select

from thespsys.persistence.datastore import Datastore
from thespsys.persistence.schema import create_tables, snapshots_table

# (gt given, lte given, descending, limit given) -> statement
_EventsQueryKey = tuple[bool, bool, bool, bool]


class SQLRecorder:
    """What every recorder has: a datastore, its tables, and id conversion."""

    tables: tuple[Table, ...] = ()

    def __init__(self, datastore: Datastore) -> None:
        self.datastore = datastore
        self._ids_are_uuids = datastore.originator_id_type == "uuid"

    def create_table(self) -> None:
        """Create this recorder's tables if missing (idempotent, race-safe)."""
        create_tables(self.datastore, self.tables)

    def _originator_id(self, stored: str) -> UUID | str:
        return UUID(stored) if self._ids_are_uuids else stored


class SQLAggregateRecorder(SQLRecorder, AggregateRecorder):
    """Events of aggregates, without notification ids (used for snapshots)."""

    make_table = staticmethod(snapshots_table)

    def __init__(self, datastore: Datastore, *, events_table_name: str) -> None:
        super().__init__(datastore)
        self.events_table = self.make_table(events_table_name)
        self.tables = (self.events_table,)
        self._insert = self.events_table.insert()
        self._select_events: dict[_EventsQueryKey, Select[Any]] = {}

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if stored_events:
            with self.datastore.write() as connection:
                connection.execute(
                    self._insert,
                    [
                        {
                            "originator_id": str(event.originator_id),
                            "originator_version": event.originator_version,
                            "topic": event.topic,
                            "state": event.state,
                        }
                        for event in stored_events
                    ],
                )
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
        statement = self._select_events.get(key)
        if statement is None:
            statement = self._build_select_events(key)
        params: dict[str, Any] = {"originator_id": str(originator_id)}
        if gt is not None:
            params["gt"] = gt
        if lte is not None:
            params["lte"] = lte
        if limit is not None:
            params["limit"] = limit
        with self.datastore.read() as connection:
            rows = connection.execute(statement, params).all()
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

    def _build_select_events(self, key: _EventsQueryKey) -> Select[Any]:
        has_gt, has_lte, desc, has_limit = key
        columns = self.events_table.c
        statement = select(
            columns.originator_version, columns.topic, columns.state
        ).where(columns.originator_id == bindparam("originator_id"))
        if has_gt:
            statement = statement.where(columns.originator_version > bindparam("gt"))
        if has_lte:
            statement = statement.where(columns.originator_version <= bindparam("lte"))
        version = columns.originator_version
        statement = statement.order_by(version.desc() if desc else version.asc())
        if has_limit:
            statement = statement.limit(bindparam("limit"))
        self._select_events[key] = statement
        return statement
