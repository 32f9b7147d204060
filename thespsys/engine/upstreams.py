"""A leader's notification log as one follower, in one pipeline, reads it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import ApplicationRecorder, Mapper, Notification
from eventsourcing.system import Follower

from thespsys.core.capabilities import require_partitioned
from thespsys.core.partitions import Partition, tracking_name


@dataclass(slots=True)
class Upstream:
    leader_name: str
    tracking_name: str
    recorder: ApplicationRecorder
    mapper: Mapper[Any]
    slices: range | None

    def select(
        self, after: int | None, limit: int, topics: Sequence[str]
    ) -> Sequence[Notification]:
        """Notifications of this pipeline's partition after ``after``."""
        if self.slices is None:
            return self.recorder.select_notifications(
                after, limit, topics=topics, inclusive_of_start=False
            )
        return require_partitioned(
            self.recorder, self.leader_name
        ).select_notifications(
            after, limit, topics=topics, inclusive_of_start=False, slices=self.slices
        )

    def notification(self, notification_id: int) -> Notification:
        found = self.recorder.select_notifications(
            notification_id, 1, stop=notification_id
        )
        if not found or found[0].id != notification_id:
            msg = f"{self.leader_name} has no notification {notification_id}"
            raise LookupError(msg)
        return found[0]

    def domain_event(self, notification: Notification) -> DomainEventProtocol[Any]:
        return self.mapper.to_domain_event(notification)


def connect_upstream(
    follower: Follower[Any],
    leader_name: str,
    env: Mapping[str, str],
    partition: Partition,
) -> Upstream:
    """Open the leader's recorder with the leader's settings, and a mapper as
    eventsourcing's ``Follower.follow()`` makes it."""
    factory = follower.construct_factory(follower.construct_env(leader_name, dict(env)))
    recorder = factory.application_recorder()
    slices = None if partition.is_whole else partition.slices
    if slices is not None:
        require_partitioned(recorder, f"{leader_name} on more than one pipeline")
    mapper = factory.mapper(
        follower.construct_transcoder(), mapper_class=type(follower.mapper)
    )
    return Upstream(
        leader_name=leader_name,
        tracking_name=tracking_name(leader_name, partition),
        recorder=recorder,
        mapper=mapper,
        slices=slices,
    )
