"""The slave's work as a plain object, without any actor system."""

from __future__ import annotations

from eventsourcing.system import System

from tests.runner.apps import Notes, OtherNotes, Tallies
from thespsys.core.partitions import Partition
from thespsys.engine.processor import PartitionProcessor


def test_runs_take_turns_between_leaders(store_env: dict[str, str]) -> None:
    system = System(pipes=[[Notes, Tallies], [OtherNotes, Tallies]])
    notes, other_notes = Notes(env=store_env), OtherNotes(env=store_env)
    for i in range(20):
        notes.write(f"note {i}")
        other_notes.write(f"other {i}")
    processor = PartitionProcessor(system, "Tallies", store_env, Partition(0, 1))
    try:
        first = processor.run(budget=0.0)  # one notification, then out of time
        second = processor.run(budget=0.0)
        assert (first.processed, first.more) == (1, True)
        assert (second.processed, second.more) == (1, True)
        tracking = processor.app.recorder
        assert tracking.max_tracking_id("Notes") == 1
        assert tracking.max_tracking_id("OtherNotes") == 1
        assert first.recorded_slices and second.recorded_slices

        while processor.run(budget=1.0).more:
            pass
        assert processor.app.count("Note.Written") == 40
        assert processor.run(budget=1.0).processed == 0
    finally:
        processor.close()
        notes.close()
        other_notes.close()


def test_each_partition_processes_only_its_own_share(store_env: dict[str, str]) -> None:
    system = System(pipes=[[Notes, Tallies]])
    notes = Notes(env=store_env)
    for i in range(30):
        notes.write(f"note {i}")
    processed = []
    for index in range(3):
        processor = PartitionProcessor(
            system, "Tallies", store_env, Partition(index, 3)
        )
        processed.append(processor.run(budget=10.0).processed)
        processor.close()
    assert sum(processed) == 30
    assert all(count < 30 for count in processed)
    notes.close()
