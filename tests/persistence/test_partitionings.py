"""Recording a partitioning: compare-and-set, in one transaction with the
start positions, so a failure half-way changes nothing."""

from __future__ import annotations

import pytest
from eventsourcing.persistence import IntegrityError, Tracking

from thespsys.core.capabilities import PartitioningStore
from thespsys.core.partitionings import Partitioning, PartitioningChange, Watermarks
from thespsys.engine.rescaling import plan_partitioning
from thespsys.persistence import SQLFactory, SQLProcessRecorder


@pytest.fixture
def recorder(database_url: str) -> SQLProcessRecorder:
    factory = SQLFactory({"DATABASE_URL": database_url, "NAME": "Follower"})
    recorder = factory.process_recorder()
    assert isinstance(recorder, SQLProcessRecorder)
    assert isinstance(recorder, PartitioningStore)
    return recorder


def change(recorder: SQLProcessRecorder, requested: int) -> PartitioningChange | None:
    return plan_partitioning(
        "Follower",
        "Leader",
        recorder.partitioning("Leader"),
        recorder.tracking_positions(),
        requested,
        recorder.unresolved_dead_letters(),
    )


def test_a_change_is_recorded_with_its_start_positions(
    recorder: SQLProcessRecorder,
) -> None:
    first = change(recorder, 3)
    assert first is not None
    recorder.record_partitioning(first)
    for index, position in enumerate((30, 12, 21), start=1):
        recorder.insert_tracking(Tracking(f"Leader@{index}/3", position))
    second = change(recorder, 1)
    assert second is not None
    recorder.record_partitioning(second)
    assert recorder.partitioning("Leader") == second.target
    assert recorder.max_tracking_id("Leader") == 12
    assert change(recorder, 1) is None


def test_a_stale_change_is_refused(recorder: SQLProcessRecorder) -> None:
    initial = change(recorder, 2)
    assert initial is not None
    recorder.record_partitioning(initial)
    with pytest.raises(IntegrityError):
        recorder.record_partitioning(initial)  # the row exists now
    to_one, to_three = change(recorder, 1), change(recorder, 3)
    assert to_one is not None and to_three is not None
    recorder.record_partitioning(to_three)
    with pytest.raises(IntegrityError, match="changed while"):
        recorder.record_partitioning(to_one)
    assert recorder.partitioning("Leader") == to_three.target


def test_a_failure_half_way_changes_nothing(recorder: SQLProcessRecorder) -> None:
    recorder.record_partitioning(
        PartitioningChange("Follower", "Leader", None, Partitioning(2), {})
    )
    recorder.insert_tracking(Tracking("Leader", 50))
    broken = PartitioningChange(
        "Follower",
        "Leader",
        Partitioning(2),
        Partitioning(1, Watermarks().raised(2, {0: 5})),
        {"Leader": 5},  # behind the recorded 50: the tracking insert fails
    )
    with pytest.raises(IntegrityError):
        recorder.record_partitioning(broken)
    assert recorder.partitioning("Leader") == Partitioning(2)
    assert recorder.max_tracking_id("Leader") == 50
