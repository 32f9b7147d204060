"""Planning a change of the pipeline count, without a database."""

from __future__ import annotations

import random
from uuid import uuid4

import pytest

from thespsys.core.partitionings import Partitioning, Watermarks
from thespsys.core.partitions import SLICE_COUNT, Partition, slice_of, tracking_name
from thespsys.engine.rescaling import RescaleRefusedError, plan_partitioning


def names(leader: str, count: int) -> list[str]:
    return [tracking_name(leader, Partition(i, count)) for i in range(count)]


def test_watermarks_round_trip_as_runs() -> None:
    marks = Watermarks().raised(3, {0: 7, 2: 40}).raised(4, {1: 9})
    assert Watermarks.from_json(marks.to_json()) == marks
    assert len(marks.to_json()) < 100  # runs, not 1024 numbers
    assert marks.of(0) == 7
    assert marks.of(SLICE_COUNT - 1) == 40
    assert marks.lowest(range(SLICE_COUNT)) == 0  # partition 2/3 processed nothing


def test_folding_keeps_the_highest_mark_of_each_slice() -> None:
    marks = Watermarks().raised(2, {0: 10, 1: 5}).raised(1, {0: 8})
    assert marks.of(0) == 10
    assert marks.of(SLICE_COUNT - 1) == 8


def test_nothing_recorded_records_the_requested_count() -> None:
    change = plan_partitioning("F", "L", None, {}, 3, {})
    assert change is not None
    assert change.recorded is None
    assert change.target == Partitioning(3)
    assert not change.is_rescale


def test_unchanged_count_changes_nothing() -> None:
    positions = dict.fromkeys(names("L", 2), 5)
    assert plan_partitioning("F", "L", Partitioning(2), positions, 2, {}) is None


def test_positions_without_a_record_are_adopted() -> None:
    positions = {"L": 12, "Other@1/2": 3}
    change = plan_partitioning("F", "L", None, positions, 1, {})
    assert change is not None
    assert change.target == Partitioning(1)
    assert change.starts == {}


def test_scaling_in_starts_at_the_lowest_old_position() -> None:
    positions = dict(zip(names("L", 3), (30, 12, 21), strict=True))
    change = plan_partitioning("F", "L", Partitioning(3), positions, 1, {})
    assert change is not None and change.is_rescale
    assert change.starts == {"L": 12}
    rule = change.target.skips(Partition(0, 1))
    assert rule is not None and rule.through == 30
    for _ in range(200):
        originator = uuid4()
        owner = next(
            i for i in range(3) if slice_of(originator) in Partition(i, 3).slices
        )
        old = (30, 12, 21)[owner]
        assert rule.done_before(old, originator)
        assert not rule.done_before(old + 1, originator)


def test_scaling_out_starts_every_partition_where_the_old_one_was() -> None:
    change = plan_partitioning("F", "L", Partitioning(1), {"L": 40}, 4, {})
    assert change is not None
    assert change.starts == dict.fromkeys(names("L", 4), 40)
    assert change.target.skips(Partition(2, 4)) is not None


def test_a_mixture_of_recorded_counts_without_a_record_is_refused() -> None:
    positions = {"L": 100, **dict.fromkeys(names("L", 3), 60)}
    with pytest.raises(RescaleRefusedError, match=r"1 and 3 pipelines") as caught:
        plan_partitioning("F", "L", None, positions, 1, {})
    assert caught.value.setting == "pipeline_ids"


@pytest.mark.parametrize(("before", "after"), [(3, 1), (1, 3)])
def test_parked_dead_letters_block_a_change(before: int, after: int) -> None:
    positions = dict.fromkeys(names("L", before), 9)
    parked = {names("L", before)[0]: 2, "Other": 1}
    with pytest.raises(RescaleRefusedError) as caught:
        plan_partitioning("F", "L", Partitioning(before), positions, after, parked)
    message = str(caught.value)
    assert f"recorded for {before} pipeline(s), asked for {after}" in message
    assert "2 notification(s) of L are parked" in message
    assert "retry or skip" in message


def test_a_position_beyond_its_slices_watermarks_is_refused() -> None:
    positions = {"L": 10, "L@1/2": 50}  # 1/2 moved by something else
    with pytest.raises(RescaleRefusedError, match="beyond"):
        plan_partitioning("F", "L", Partitioning(1), positions, 2, {})


def test_a_chain_of_changes_loses_nothing_a_partition_did() -> None:
    """Random positions through random counts: each slice's watermark is at
    least every position any partition owning it ever reached."""
    rng = random.Random(7)
    recorded = Partitioning(1)
    positions: dict[str, int] = {}
    reached = [0] * SLICE_COUNT
    for _ in range(30):
        for partition in (Partition(i, recorded.count) for i in range(recorded.count)):
            name = tracking_name("L", partition)
            position = positions.get(name, 0) + rng.randrange(0, 50)
            positions[name] = position
            for slice_number in partition.slices:
                reached[slice_number] = max(reached[slice_number], position)
        count = rng.randint(1, 5)
        change = plan_partitioning("F", "L", recorded, positions, count, {})
        if change is None:
            continue
        positions.update(change.starts)
        recorded = change.target
        assert list(recorded.watermarks.by_slice) == reached
        for index in range(count):
            partition = Partition(index, count)
            start = positions.get(tracking_name("L", partition), 0)
            assert start == min(reached[s] for s in partition.slices)
