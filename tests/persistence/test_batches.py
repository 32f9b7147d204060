"""A batch: the events of several notifications and each upstream's position
past them, in one transaction, refused whole if any was processed already."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent, Tracking

from thespsys.core.capabilities import BatchStore, TrackingRange
from thespsys.persistence import Datastore, SQLProcessRecorder


@pytest.fixture
def recorder(database_url: str) -> Iterator[SQLProcessRecorder]:
    datastore = Datastore(database_url)
    recorder = SQLProcessRecorder(
        datastore, events_table_name="batch_events", tracking_table_name="batch_pos"
    )
    recorder.create_table()
    yield recorder
    datastore.close()


def _events(count: int, version: int = 1) -> list[StoredEvent]:
    return [StoredEvent(uuid.uuid4(), version, "topic", b"{}") for _ in range(count)]


def _range(name: str, first: int, last: int) -> TrackingRange:
    return TrackingRange(
        application_name=name, notification_id=last, first_notification_id=first
    )


def test_a_batch_records_events_and_positions_together(
    recorder: SQLProcessRecorder,
) -> None:
    assert isinstance(recorder, BatchStore)
    ids = recorder.insert_batch(_events(5), [_range("A", 1, 9), _range("B", 3, 4)])
    assert list(ids) == sorted(ids) and len(ids) == 5
    assert [n.id for n in recorder.select_notifications(None, 10)] == list(ids)
    assert recorder.max_tracking_id("A") == 9
    assert recorder.max_tracking_id("B") == 4
    recorder.insert_batch([], [_range("A", 10, 12)])  # positions only
    assert recorder.max_tracking_id("A") == 12


@pytest.mark.parametrize("first", [3, 5, 7])
def test_a_batch_overlapping_a_recorded_position_records_nothing(
    recorder: SQLProcessRecorder, first: int
) -> None:
    recorder.insert_events([], tracking=Tracking("A", 7))
    recorder.insert_events([], tracking=Tracking("B", 1))
    with pytest.raises(IntegrityError, match="beyond notification"):
        recorder.insert_batch(
            _events(3), [_range("B", 2, 3), _range("A", first, first + 5)]
        )
    assert recorder.select_notifications(None, 10) == []
    assert recorder.max_tracking_id("A") == 7
    assert recorder.max_tracking_id("B") == 1  # rolled back with the rest


def test_a_write_conflict_records_nothing(recorder: SQLProcessRecorder) -> None:
    taken = _events(1)
    recorder.insert_events(taken)
    with pytest.raises(IntegrityError):
        recorder.insert_batch([*_events(2), *taken], [_range("A", 1, 3)])
    assert len(recorder.select_notifications(None, 10)) == 1
    assert recorder.max_tracking_id("A") is None


def test_a_range_must_not_end_before_it_starts(recorder: SQLProcessRecorder) -> None:
    with pytest.raises(ValueError, match="ends before it starts"):
        recorder.insert_batch([], [_range("A", 5, 4)])
