"""The application recorder: stored events with notification ids and slices.

Notification ids become visible in id order. On PostgreSQL every transaction
that inserts events first takes ``LOCK TABLE <events> IN EXCLUSIVE MODE``
(which does not block readers), so ids are drawn and committed one
transaction after another: a reader that has seen id N will never later find
an id below N committed. SQLite gets the same from ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

import json
import threading
import weakref
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    ApplicationRecorder,
    Notification,
    StoredEvent,
    Subscription,
)
from sqlalchemy import (
    ColumnElement,
    Select,
    any_,
    bindparam,
    func,
    literal_column,
    select,
)

from thespsys.core.partitions import SLICE_COUNT, slice_of
from thespsys.persistence.aggregate import EVENT_COLUMNS, SQLAggregateRecorder
from thespsys.persistence.datastore import Datastore, with_limit
from thespsys.persistence.inserts import RowInserter
from thespsys.persistence.schema import events_table
from thespsys.persistence.subscription import PollingSubscription

# (start: None/"ge"/"gt", stop given, topics given, slices given) -> SQL
_NotificationsKey = tuple[str | None, bool, bool, bool]
# (topics given, slices given) -> SQL
_MaxIdKey = tuple[bool, bool]


class SQLApplicationRecorder(SQLAggregateRecorder, ApplicationRecorder):
    """An application's events, in one sequence of notification ids."""

    make_table = staticmethod(events_table)
    slice_count = SLICE_COUNT  # events carry thespsys.core.partitions.slice_of()

    def __init__(self, datastore: Datastore, *, events_table_name: str) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self._inserter = RowInserter(
            datastore, self.events_table, (*EVENT_COLUMNS, "slice")
        )
        self._lock = ""
        if datastore.is_postgres:
            table = datastore.quote_table(self.events_table.name)
            self._lock = f"LOCK TABLE {table} IN EXCLUSIVE MODE; "
        self._select_notifications: dict[_NotificationsKey, str] = {}
        self._max_id: dict[_MaxIdKey, str] = {}
        self._subscriptions: weakref.WeakSet[PollingSubscription] = weakref.WeakSet()
        self._subscriptions_lock = threading.Lock()

    # Writing.

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """Record events atomically; return their notification ids, in order."""
        if not stored_events and not self._has_other_writes(**kwargs):
            return []
        rows = self._rows(stored_events)
        with self.datastore.write() as cursor:
            self._write_before_events(cursor, **kwargs)
            ids = (
                self._inserter.insert_returning_ids(cursor, rows, prefix=self._lock)
                if rows
                else []
            )
        if ids and self._subscriptions:
            self._notify_subscriptions()
        return ids

    def _has_other_writes(self, **kwargs: Any) -> bool:
        """Whether the transaction has work besides events (see ProcessRecorder)."""
        return False

    def _write_before_events(self, cursor: Any, **kwargs: Any) -> None:
        """Hook: writes made in the same transaction, before the events."""

    def _rows(self, stored_events: Sequence[StoredEvent]) -> list[tuple[Any, ...]]:
        # Events of one aggregate usually come together: key them once.
        keys: dict[UUID | str, tuple[str, int]] = {}
        rows = []
        for event in stored_events:
            originator_id = event.originator_id
            key = keys.get(originator_id)
            if key is None:
                key = keys[originator_id] = self._stored_key(originator_id)
            rows.append(
                (key[0], event.originator_version, event.topic, event.state, key[1])
            )
        return rows

    def _stored_key(self, originator_id: UUID | str) -> tuple[str, int]:
        """The stored text and the slice of an originator id."""
        if self._ids_are_uuids and not isinstance(originator_id, UUID):
            originator_id = UUID(originator_id)
        return str(originator_id), slice_of(originator_id)

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
        ``thespsys.core.partitions.Partition.slices``), filtered in the database.
        """
        start_kind = None if start is None else ("ge" if inclusive_of_start else "gt")
        key = (start_kind, stop is not None, bool(topics), slices is not None)
        sql = self._select_notifications.get(key)
        if sql is None:
            sql = self._select_notifications[key] = self._compile_notifications(key)
        params = self._filter_params(topics, slices)
        params["start"] = start
        params["stop"] = stop
        params["limit"] = limit
        with self.datastore.read() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if not self._ids_are_uuids:
            return [
                Notification(
                    id=id_,
                    originator_id=originator_id,
                    originator_version=version,
                    topic=topic,
                    state=bytes(state),
                )
                for id_, originator_id, version, topic, state in rows
            ]
        # Events of one aggregate tend to sit together: parse each id once.
        uuids: dict[str, UUID] = {}
        notifications = []
        for id_, originator_id, version, topic, state in rows:
            uuid = uuids.get(originator_id)
            if uuid is None:
                uuid = uuids[originator_id] = UUID(originator_id)
            notifications.append(
                Notification(
                    id=id_,
                    originator_id=uuid,
                    originator_version=version,
                    topic=topic,
                    state=bytes(state),
                )
            )
        return notifications

    def max_notification_id(
        self, *, slices: range | None = None, topics: Sequence[str] = ()
    ) -> int | None:
        """The largest notification id (with the same filters), or None."""
        key = (bool(topics), slices is not None)
        sql = self._max_id.get(key)
        if sql is None:
            sql = self._max_id[key] = self._compile_max_id(key)
        with self.datastore.read() as cursor:
            cursor.execute(sql, self._filter_params(topics, slices))
            value = cursor.fetchone()[0]
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

    # Statements.

    def _filter_params(
        self, topics: Sequence[str], slices: range | None
    ) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if topics:
            topic_list = list(topics)
            # PostgreSQL takes an array; SQLite a JSON list (see _filtered).
            params["topics"] = (
                topic_list if self.datastore.is_postgres else json.dumps(topic_list)
            )
        if slices is not None:
            if slices.step != 1:
                msg = f"slices must be a contiguous range, not {slices!r}"
                raise ValueError(msg)
            params["slice_first"] = slices.start
            params["slice_last"] = slices.stop - 1
        return params

    def _topic_filter(self) -> ColumnElement[bool]:
        topic = self.events_table.c.topic
        if self.datastore.is_postgres:
            return topic == any_(bindparam("topics"))
        values: Select[Any] = select(literal_column("value")).select_from(
            func.json_each(bindparam("topics"))
        )
        return topic.in_(values.scalar_subquery())

    def _filtered(self, statement: Select[Any], topics: bool, slices: bool) -> Any:
        if topics:
            statement = statement.where(self._topic_filter())
        if slices:
            statement = statement.where(
                self.events_table.c.slice.between(
                    bindparam("slice_first"), bindparam("slice_last")
                )
            )
        return statement

    def _compile_notifications(self, key: _NotificationsKey) -> str:
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
        statement = with_limit(statement.order_by(columns.id))
        return self.datastore.compile(statement)

    def _compile_max_id(self, key: _MaxIdKey) -> str:
        statement = select(func.max(self.events_table.c.id))
        return self.datastore.compile(self._filtered(statement, *key))
