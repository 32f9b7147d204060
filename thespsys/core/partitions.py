"""Slices and partitions of an application's notification log.

Every stored event falls into one of ``SLICE_COUNT`` slices by a stable hash of
its originator id (CRC-32: the same in every process and on every machine,
unlike Python's salted ``hash``). Pipeline ``k`` of ``N`` owns the contiguous
slice range ``Partition(k, N).slices``, so all events of one aggregate are
processed by one pipeline, in order, and N pipelines never overlap.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

SLICE_COUNT = 1024


def slice_of(originator_id: UUID | str) -> int:
    """The slice (0..SLICE_COUNT-1) that events of this originator fall into."""
    key = (
        originator_id.bytes
        if isinstance(originator_id, UUID)
        else (str(originator_id).encode("utf-8"))
    )
    return zlib.crc32(key) % SLICE_COUNT


@dataclass(frozen=True, slots=True)
class Partition:
    """Partition ``index`` of ``count`` equal shares of the slices."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if not 1 <= self.count <= SLICE_COUNT:
            msg = f"partition count must be 1..{SLICE_COUNT}, not {self.count}"
            raise ValueError(msg)
        if not 0 <= self.index < self.count:
            msg = f"partition index must be 0..{self.count - 1}, not {self.index}"
            raise ValueError(msg)

    @property
    def slices(self) -> range:
        first = self.index * SLICE_COUNT // self.count
        stop = (self.index + 1) * SLICE_COUNT // self.count
        return range(first, stop)

    @property
    def is_whole(self) -> bool:
        return self.count == 1

    def __str__(self) -> str:
        return f"{self.index + 1}/{self.count}"


def slices_of(originator_ids: Iterable[UUID | str]) -> tuple[int, ...]:
    """The distinct slices of some originators, sorted."""
    return tuple(sorted({slice_of(originator_id) for originator_id in originator_ids}))


def tracking_name(leader_name: str, partition: Partition) -> str:
    """The tracking record name of ``leader_name`` as followed by one pipeline.

    With a single pipeline it is the leader's own name, as eventsourcing's own
    runners write it, so a system can move between runners.
    """
    return leader_name if partition.is_whole else f"{leader_name}@{partition}"


def parse_tracking_name(name: str) -> tuple[str, Partition]:
    """The leader's name and the partition in a ``tracking_name()``."""
    leader_name, _, partition = name.partition("@")
    if not partition:
        return leader_name, Partition(0, 1)
    index, _, count = partition.partition("/")
    return leader_name, Partition(int(index) - 1, int(count))
