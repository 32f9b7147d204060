"""How far each follower has got: tracking positions against leaders' heads.

A follower in pipeline k has caught up with a leader when its tracking position
for that leader has reached the leader's newest notification in partition k
(among the follower's topics, if it filters by topic). ``wait_until_caught_up``
accepts a pass only if no leader recorded anything while it was being made, so
a cycle cannot look caught up half-way through a round trip.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import ApplicationRecorder, ProcessRecorder
from eventsourcing.system import Follower, System

from thespsys.core.capabilities import PartitioningStore, require_partitioned
from thespsys.core.partitions import Partition, tracking_name
from thespsys.errors import CatchUpTimeoutError


@dataclass(frozen=True, slots=True)
class Lag:
    follower: str
    leader: str
    pipeline_id: int
    partition: Partition
    position: int | None
    head: int | None

    @property
    def behind(self) -> int:
        return (self.head or 0) - (self.position or 0)

    def __str__(self) -> str:
        return (
            f"{self.follower} (pipeline {self.pipeline_id}, partition "
            f"{self.partition}) is {self.behind} notification ids behind "
            f"{self.leader}: at {self.position}, {self.leader} at {self.head}"
        )


def _head(
    recorder: ApplicationRecorder, partition: Partition, topics: Sequence[str]
) -> int | None:
    if partition.is_whole and not topics:
        return recorder.max_notification_id()
    return require_partitioned(recorder, "partitions or topics").max_notification_id(
        slices=None if partition.is_whole else partition.slices, topics=tuple(topics)
    )


def measure_lags(
    system: System,
    apps: Mapping[str, Application[Any]],
    pipeline_ids: Sequence[int],
) -> list[Lag]:
    lags = []
    heads: dict[tuple[str, Partition, tuple[str, ...]], int | None] = {}
    for follower_name in system.followers:
        follower = apps[follower_name]
        assert isinstance(follower, Follower)
        recorder = follower.recorder
        assert isinstance(recorder, ProcessRecorder)
        position_of = _positions(recorder)
        for index, pipeline_id in enumerate(pipeline_ids):
            partition = Partition(index, len(pipeline_ids))
            for leader_name in system.follows[follower_name]:
                key = (leader_name, partition, tuple(follower.topics))
                if key not in heads:  # followers of one leader share its heads
                    heads[key] = _head(apps[leader_name].recorder, partition, key[2])
                lags.append(
                    Lag(
                        follower=follower_name,
                        leader=leader_name,
                        pipeline_id=pipeline_id,
                        partition=partition,
                        position=position_of(tracking_name(leader_name, partition)),
                        head=heads[key],
                    )
                )
    return lags


def _positions(recorder: ProcessRecorder) -> Callable[[str], int | None]:
    """Tracking positions by name: all in one query, where the store can."""
    if isinstance(recorder, PartitioningStore):
        return recorder.tracking_positions().get
    return recorder.max_tracking_id


def _heads(system: System, apps: Mapping[str, Application[Any]]) -> dict[str, Any]:
    return {name: apps[name].recorder.max_notification_id() for name in system.leaders}


def wait_until_caught_up(
    system: System,
    apps: Mapping[str, Application[Any]],
    pipeline_ids: Sequence[int],
    timeout: float,
    interval: float = 0.01,
    check: Callable[[], None] | None = None,
    check_interval: float = 1.0,
) -> None:
    """Poll until caught up; ``check()`` (which may raise, say because an
    application failed and will never catch up) runs every ``check_interval``."""
    deadline = time.monotonic() + timeout
    next_check = time.monotonic() + check_interval
    while True:
        heads_before = _heads(system, apps)
        behind = [
            lag for lag in measure_lags(system, apps, pipeline_ids) if lag.behind > 0
        ]
        if not behind and _heads(system, apps) == heads_before:
            return
        if time.monotonic() >= deadline:
            raise CatchUpTimeoutError(timeout, behind)
        if check is not None and time.monotonic() >= next_check:
            check()
            next_check = time.monotonic() + check_interval
        time.sleep(interval)
