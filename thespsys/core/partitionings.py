"""How a follower reads a leader in partitions, as recorded: the count in
force and per-slice watermarks of earlier counts (see ``engine.rescaling``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from uuid import UUID

from thespsys.core.partitions import SLICE_COUNT, Partition, slice_of


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
