"""eventsourcing applications on thespsys.persistence, end to end."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from thespsys.persistence import (
    SQLAggregateRecorder,
    SQLApplicationRecorder,
    SQLFactory,
)


class Counter(Aggregate):
    @event("Created")
    def __init__(self, name: str) -> None:
        self.name = name
        self.count = 0

    @event("Incremented")
    def increment(self, by: int = 1) -> None:
        self.count += by


class Counters(Application[UUID]):
    def create(self, name: str) -> UUID:
        counter = Counter(name)
        self.save(counter)
        return counter.id

    def increment(self, counter_id: UUID, by: int = 1) -> None:
        counter: Counter = self.repository.get(counter_id)
        counter.increment(by)
        self.save(counter)

    def count(self, counter_id: UUID) -> int:
        counter: Counter = self.repository.get(counter_id)
        return counter.count


class SnapshottingCounters(Counters):
    snapshotting_intervals = {Counter: 5}  # noqa: RUF012 - eventsourcing's API


def _env(database_url: str, **more: str) -> dict[str, str]:
    return {
        "PERSISTENCE_MODULE": "thespsys.persistence",
        "DATABASE_URL": database_url,
        **more,
    }


def test_application_saves_and_reads_aggregates(database_url: str) -> None:
    app = Counters(env=_env(database_url))
    try:
        assert isinstance(app.factory, SQLFactory)
        assert isinstance(app.recorder, SQLApplicationRecorder)
        first, second = app.create("first"), app.create("second")
        for by in (1, 2, 3):
            app.increment(first, by)
        app.increment(second)
        assert app.count(first) == 6
        assert app.count(second) == 1

        notifications = app.notification_log.select(start=1, limit=10)
        assert [n.id for n in notifications] == [1, 2, 3, 4, 5, 6]
        assert notifications[0].originator_id == first
    finally:
        app.close()

    # Another instance (say, another process) reads the same state.
    again = Counters(env=_env(database_url))
    try:
        assert again.count(first) == 6
        assert again.recorder.max_notification_id() == 6
    finally:
        again.close()


def test_snapshotting_application(database_url: str) -> None:
    app = SnapshottingCounters(env=_env(database_url, IS_SNAPSHOTTING_ENABLED="yes"))
    try:
        assert app.snapshots is not None
        assert isinstance(app.snapshots.recorder, SQLAggregateRecorder)
        counter_id = app.create("snapped")
        for _ in range(6):
            app.increment(counter_id)  # version 5 is snapshotted automatically
        snapshots = list(app.snapshots.get(counter_id))
        assert [s.originator_version for s in snapshots] == [5]
        app.take_snapshot(counter_id)
        assert [s.originator_version for s in app.snapshots.get(counter_id)] == [5, 7]
    finally:
        app.close()

    again = SnapshottingCounters(env=_env(database_url, IS_SNAPSHOTTING_ENABLED="yes"))
    try:
        assert again.count(counter_id) == 6
        counter: Counter = again.repository.get(counter_id, version=6)
        assert counter.count == 5
    finally:
        again.close()


def test_many_applications_share_one_engine(database_url: str) -> None:
    first = Counters(env=_env(database_url))
    second = SnapshottingCounters(env=_env(database_url))
    try:
        assert isinstance(first.factory, SQLFactory)
        assert isinstance(second.factory, SQLFactory)
        assert first.factory.datastore.engine is second.factory.datastore.engine
    finally:
        first.close()
        second.close()
