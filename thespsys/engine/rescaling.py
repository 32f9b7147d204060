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

from collections.abc import Iterable, Mapping

from thespsys.core.capabilities import PartitioningStore, require_partitionings
from thespsys.core.partitionings import Partitioning, PartitioningChange
from thespsys.core.partitions import (
    Partition,
    parse_tracking_name,
    tracking_name,
)
from thespsys.errors import RescaleRefusedError


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
    parsed = {
        parse_tracking_name(name): position for name, position in positions.items()
    }
    mine = {
        partition: position
        for (leader, partition), position in parsed.items()
        if leader == leader_name
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
