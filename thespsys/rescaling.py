"""Changing the number of pipelines without processing anything twice or skipping.

A follower keeps one tracking position per partition (``Orders@2/3``). With
another pipeline count the partitions cover other slice ranges and have other
names, so their positions say nothing about what was done before. What makes
a change exact is that events carry their slice, as Akka Projections keeps
offsets per slice:

* On every change, the positions of the partitioning that ends are folded
  into per-slice *watermarks*: every notification of slice ``s`` with an id up
  to ``watermarks[s]`` has been processed (under this or an earlier
  partitioning). Prefix sets of ids, so folding is a per-slice ``max``.
* Each new partition starts at the lowest watermark of its slices (everything
  up to it is processed in all of them), and skips each notification at or
  below its own slice's watermark.

The watermarks, the count in force and the new start positions are written in
one transaction before any actor runs (``record_partitioning``), so a crash in
the middle of a change changes nothing. This module plans; the store records.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from uuid import UUID

from thespsys.capabilities import PartitioningStore, require_partitionings
from thespsys.errors import RescaleRefusedError
from thespsys.partitions import (
    SLICE_COUNT,
    Partition,
    parse_tracking_name,
    slice_of,
    tracking_name,
)


@dataclass(frozen=True, slots=True)
class Watermarks:
    """Per slice, the notification id through which it has been processed
    under earlier partitionings (0: nothing)."""

    by_slice: tuple[int, ...] = (0,) * SLICE_COUNT

    def __post_init__(self) -> None:
        if len(self.by_slice) != SLICE_COUNT:
            msg = f"watermarks need {SLICE_COUNT} slices, not {len(self.by_slice)}"
            raise ValueError(msg)

    def of(self, slice_number: int) -> int:
        return self.by_slice[slice_number]

    def lowest(self, slices: range) -> int:
        return min(self.by_slice[slices.start : slices.stop])

    def highest(self, slices: range) -> int:
        return max(self.by_slice[slices.start : slices.stop])

    def raised(self, count: int, positions: Mapping[int, int]) -> Watermarks:
        """Folded with the positions (by partition index) of ``count`` partitions."""
        by_slice = list(self.by_slice)
        for index, position in positions.items():
            for slice_number in Partition(index, count).slices:
                by_slice[slice_number] = max(by_slice[slice_number], position)
        return Watermarks(tuple(by_slice))

    def to_json(self) -> str:
        """Runs of equal watermarks: ``[[first slice, stop slice, id], ...]``."""
        runs: list[list[int]] = []
        for slice_number, position in enumerate(self.by_slice):
            if runs and runs[-1][2] == position:
                runs[-1][1] = slice_number + 1
            else:
                runs.append([slice_number, slice_number + 1, position])
        return json.dumps(runs, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Watermarks:
        by_slice = [0] * SLICE_COUNT
        for first, stop, position in json.loads(text):
            by_slice[first:stop] = [position] * (stop - first)
        return cls(tuple(by_slice))


@dataclass(frozen=True, slots=True)
class Partitioning:
    """How one follower reads one leader: the partition count in force, and
    what earlier partitionings processed."""

    count: int
    watermarks: Watermarks = Watermarks()

    def skips(self, partition: Partition) -> SkipRule | None:
        """What ``partition`` must skip, or None if nothing."""
        through = self.watermarks.highest(partition.slices)
        return SkipRule(self.watermarks, through) if through else None

    def is_catching_up(self, partition: Partition, position: int | None) -> bool:
        """Has ``partition`` at ``position`` still to pass notifications that
        an earlier partitioning processed?"""
        rule = self.skips(partition)
        return rule is not None and (position or 0) < rule.through


@dataclass(frozen=True, slots=True)
class SkipRule:
    """Notifications a partition skips: processed under an earlier partitioning."""

    watermarks: Watermarks
    through: int  # no notification after this one is skipped

    def done_before(self, notification_id: int, originator_id: UUID | str) -> bool:
        return notification_id <= self.through and notification_id <= (
            self.watermarks.of(slice_of(originator_id))
        )


@dataclass(frozen=True, slots=True)
class PartitioningChange:
    """What to record, in one transaction, before the actors start."""

    follower_name: str
    leader_name: str
    recorded: Partitioning | None  # what the table holds now (None: no row)
    target: Partitioning
    starts: Mapping[str, int]  # tracking name -> position to record

    @property
    def is_rescale(self) -> bool:
        return self.recorded is not None and self.recorded.count != self.target.count

    def __str__(self) -> str:
        before = self.recorded.count if self.recorded else "no"
        return (
            f"{self.follower_name} reads {self.leader_name} in "
            f"{self.target.count} partition(s) (recorded: {before}); start "
            f"positions {dict(self.starts) or 'unchanged'}"
        )


def plan_partitioning(
    follower_name: str,
    leader_name: str,
    recorded: Partitioning | None,
    positions: Mapping[str, int],
    requested: int,
    parked: Mapping[str, int],
) -> PartitioningChange | None:
    """What to record so that ``follower_name`` reads ``leader_name`` in
    ``requested`` partitions, exactly once; None if nothing.

    ``positions``: every tracking position of the follower; ``parked``: its
    unresolved dead letters per tracking name. Raises ``RescaleRefusedError``
    when the recorded state does not allow a safe change.
    """
    mine = {
        parse_tracking_name(name)[1]: position
        for name, position in positions.items()
        if parse_tracking_name(name)[0] == leader_name
    }
    stored = recorded
    if recorded is None:
        recorded = _inferred(follower_name, leader_name, mine)
        if recorded is None:
            return PartitioningChange(
                follower_name, leader_name, None, Partitioning(requested), {}
            )
    if recorded.count == requested:
        if stored is None:
            return PartitioningChange(follower_name, leader_name, None, recorded, {})
        return None
    held = {
        name: count
        for name, count in parked.items()
        if parse_tracking_name(name)[0] == leader_name and count
    }
    if held:
        raise RescaleRefusedError(
            follower_name,
            f"recorded for {recorded.count} pipeline(s), asked for {requested}, "
            f"but {sum(held.values())} notification(s) of {leader_name} are "
            f"parked as dead letters ({_listed(held)}); retry or skip them with "
            f"runner.dead_letters() on {recorded.count} pipeline(s) first",
        )
    watermarks = recorded.watermarks.raised(
        recorded.count,
        {
            partition.index: position
            for partition, position in mine.items()
            if partition.count == recorded.count
        },
    )
    starts: dict[str, int] = {}
    for index in range(requested):
        partition = Partition(index, requested)
        name = tracking_name(leader_name, partition)
        start = watermarks.lowest(partition.slices)
        existing = mine.get(partition, 0)
        if existing > start:
            raise RescaleRefusedError(
                follower_name,
                f"recorded for {recorded.count} pipeline(s), asked for "
                f"{requested}, but {name} is at notification {existing}, beyond "
                f"what was processed in all its slices ({start}): the positions "
                "were changed outside thespsys; restore them or start with "
                f"{recorded.count} pipeline(s)",
            )
        if start > existing:
            starts[name] = start
    return PartitioningChange(
        follower_name, leader_name, stored, Partitioning(requested, watermarks), starts
    )


def _inferred(
    follower_name: str, leader_name: str, positions: Mapping[Partition, int]
) -> Partitioning | None:
    """The partitioning that positions recorded without a partitioning record
    (by an earlier thespsys, or eventsourcing's own runners) were made in."""
    counts = sorted({partition.count for partition in positions})
    if not counts:
        return None
    if len(counts) > 1:
        raise RescaleRefusedError(
            follower_name,
            f"positions of {leader_name} are recorded under {_counts(counts)} "
            "pipelines and nothing records which is in force, so processing "
            "could repeat or skip notifications; this store was probably "
            "processed with another pipeline count before thespsys recorded "
            "partitionings. Restore the database from before that change, or "
            "delete the tracking rows of the partitionings not in use",
        )
    return Partitioning(counts[0])


def _counts(counts: Iterable[int]) -> str:
    return " and ".join(str(count) for count in counts)


def _listed(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{count} under {name}" for name, count in sorted(counts.items()))


def prepare_partitionings(
    followers: Mapping[str, object],
    follows: Mapping[str, Iterable[str]],
    count: int,
) -> list[PartitioningChange]:
    """Record, for every follower and leader it follows, that it is read in
    ``count`` partitions; rescale exactly where the count changes. Call it
    while no actor processes (before the actor system starts).

    ``followers``: application name -> the follower's process recorder.
    Returns what was recorded, rescales first."""
    changes: list[PartitioningChange] = []
    for name, any_recorder in followers.items():
        if count == 1 and not isinstance(any_recorder, PartitioningStore):
            continue  # eventsourcing's own stores: one pipeline, as its runners
        recorder = require_partitionings(any_recorder, f"{name} on {count} pipelines")
        positions = recorder.tracking_positions()
        parked = recorder.unresolved_dead_letters()
        for leader_name in follows[name]:
            change = plan_partitioning(
                name,
                leader_name,
                recorder.partitioning(leader_name),
                positions,
                count,
                parked,
            )
            if change is not None:
                recorder.record_partitioning(change)
                changes.append(change)
    return sorted(changes, key=lambda change: not change.is_rescale)
