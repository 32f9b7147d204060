"""The application recorder: stored events with notification ids and slices.

Notification ids become visible in id order. On PostgreSQL every transaction
that inserts events first takes ``LOCK TABLE <events> IN EXCLUSIVE MODE``
(which does not block readers), so ids are drawn and committed one
transaction after another: a reader that has seen id N will never later find
an id below N committed. SQLite gets the same from ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    ApplicationRecorder,
    Notification,
    ProgrammingError,
    StoredEvent,
    Subscription,
)
from sqlalchemy import Connection, Select, TextClause, bindparam, func, select, text

from thespsys.partitions import slice_of
from thespsys.persistence.aggregate import SQLAggregateRecorder
from thespsys.persistence.datastore import Datastore
from thespsys.persistence.schema import events_table
from thespsys.persistence.subscription import PollingSubscription

# (start: None/"ge"/"gt", stop given, topics given, slices given) -> statement
_NotificationsKey = tuple[str | None, bool, bool, bool]
# (topics given, slices given) -> statement
_MaxIdKey = tuple[bool, bool]


def _slice_bounds(slices: range) -> tuple[int, int]:
    if slices.step != 1:
        msg = f"slices must be a contiguous range, not {slices!r}"
        raise ValueError(msg)
    return slices.start, slices.stop - 1


class SQLApplicationRecorder(SQLAggregateRecorder, ApplicationRecorder):
    """An application's events, in one sequence of notification ids."""

    make_table = staticmethod(events_table)

    def __init__(self, datastore: Datastore, *, events_table_name: str) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        table = self.events_table
        self._insert_returning = table.insert().returning(table.c.id)
        self._lock: TextClause | None = None
        if datastore.is_postgres:
            preparer = datastore.engine.dialect.identifier_preparer
            self._lock = text(
                f"LOCK TABLE {preparer.format_table(table)} IN EXCLUSIVE MODE"
            )
        self._select_notifications: dict[_NotificationsKey, Select[Any]] = {}
        self._max_id: dict[_MaxIdKey, Select[Any]] = {}
        self._subscriptions: weakref.WeakSet[PollingSubscription] = weakref.WeakSet()
        self._subscriptions_lock = threading.Lock()

    # Writing.

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """Record events atomically; return their notification ids, in order."""
        if not stored_events and not self._has_other_writes(**kwargs):
            return []
        rows = [self._row(event) for event in stored_events]
        with self.datastore.write() as connection:
            self._write_before_events(connection, **kwargs)
            ids = self._insert_rows(connection, rows) if rows else []
        if ids and self._subscriptions:
            self._notify_subscriptions()
        return ids

    def _has_other_writes(self, **kwargs: Any) -> bool:
        """Whether the transaction has work besides events (see ProcessRecorder)."""
        return False

    def _write_before_events(self, connection: Connection, **kwargs: Any) -> None:
        """Hook: writes made in the same transaction, before the events."""

    def _row(self, event: StoredEvent) -> dict[str, Any]:
        originator_id = event.originator_id
        if self._ids_are_uuids and isinstance(originator_id, str):
            slice_ = slice_of(UUID(originator_id))
        else:
            slice_ = slice_of(originator_id)
        return {
            "originator_id": str(originator_id),
            "originator_version": event.originator_version,
            "topic": event.topic,
            "state": event.state,
            "slice": slice_,
        }

    def _insert_rows(
        self, connection: Connection, rows: list[dict[str, Any]]
    ) -> list[int]:
        if self._lock is not None:
            connection.execute(self._lock)
        # One multi-row INSERT ... RETURNING id per page (insertmanyvalues).
        # RETURNING's row order is not promised, but the rows get increasing
        # ids in VALUES order (under the table lock / BEGIN IMMEDIATE), so
        # the sorted ids are the ids of the events in order.
        ids = sorted(connection.execute(self._insert_returning, rows).scalars())
        if len(ids) != len(rows):
            msg = f"expected {len(rows)} notification ids, got {len(ids)}"
            raise ProgrammingError(msg)
        return ids

    # Reading.

    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
        slices: range | None = None,
    ) -> Sequence[Notification]:
        """Notifications from ``start`` (up to ``stop``), at most ``limit``.

        ``slices`` keeps only events whose slice is in that range (see
        ``thespsys.partitions.Partition.slices``), filtered in the database.
        """
        start_kind = None if start is None else ("ge" if inclusive_of_start else "gt")
        key = (start_kind, stop is not None, bool(topics), slices is not None)
        statement = self._select_notifications.get(key)
        if statement is None:
            statement = self._build_select_notifications(key)
        params: dict[str, Any] = {"limit": limit}
        if start is not None:
            params["start"] = start
        if stop is not None:
            params["stop"] = stop
        if topics:
            params["topics"] = list(topics)
        if slices is not None:
            params["slice_first"], params["slice_last"] = _slice_bounds(slices)
        with self.datastore.read() as connection:
            rows = connection.execute(statement, params).all()
        convert = self._originator_id
        return [
            Notification(
                id=id_,
                originator_id=convert(originator_id),
                originator_version=version,
                topic=topic,
                state=bytes(state),
            )
            for id_, originator_id, version, topic, state in rows
        ]

    def max_notification_id(
        self, *, slices: range | None = None, topics: Sequence[str] = ()
    ) -> int | None:
        """The largest notification id (with the same filters), or None."""
        key = (bool(topics), slices is not None)
        statement = self._max_id.get(key)
        if statement is None:
            statement = self._build_max_id(key)
        params: dict[str, Any] = {}
        if topics:
            params["topics"] = list(topics)
        if slices is not None:
            params["slice_first"], params["slice_last"] = _slice_bounds(slices)
        with self.datastore.read() as connection:
            value = connection.execute(statement, params).scalar()
        return None if value is None else int(value)

    def subscribe(
        self, gt: int | None = None, topics: Sequence[str] = ()
    ) -> Subscription[ApplicationRecorder]:
        """Notifications after ``gt``, then new ones as they are recorded (polling)."""
        subscription = PollingSubscription(self, gt=gt, topics=topics)
        with self._subscriptions_lock:
            self._subscriptions.add(subscription)
        return subscription

    def _notify_subscriptions(self) -> None:
        with self._subscriptions_lock:
            subscriptions = list(self._subscriptions)
        for subscription in subscriptions:
            subscription.notify()

    def _filtered(self, statement: Select[Any], topics: bool, slices: bool) -> Any:
        columns = self.events_table.c
        if topics:
            statement = statement.where(
                columns.topic.in_(bindparam("topics", expanding=True))
            )
        if slices:
            statement = statement.where(
                columns.slice.between(
                    bindparam("slice_first"), bindparam("slice_last")
                )
            )
        return statement

    def _build_select_notifications(self, key: _NotificationsKey) -> Select[Any]:
        start_kind, has_stop, has_topics, has_slices = key
        columns = self.events_table.c
        statement = select(
            columns.id,
            columns.originator_id,
            columns.originator_version,
            columns.topic,
            columns.state,
        )
        if start_kind == "ge":
            statement = statement.where(columns.id >= bindparam("start"))
        elif start_kind == "gt":
            statement = statement.where(columns.id > bindparam("start"))
        if has_stop:
            statement = statement.where(columns.id <= bindparam("stop"))
        statement = self._filtered(statement, has_topics, has_slices)
        statement = statement.order_by(columns.id).limit(bindparam("limit"))
        self._select_notifications[key] = statement
        return statement

    def _build_max_id(self, key: _MaxIdKey) -> Select[Any]:
        has_topics, has_slices = key
        statement = select(func.max(self.events_table.c.id))
        statement = self._filtered(statement, has_topics, has_slices)
        self._max_id[key] = statement
        return statement
