"""The work of a ProcessSlave, as a plain object: pull and process, exactly once.

One ``PartitionProcessor`` runs one follower application for one pipeline. For
each upstream leader it reads the notifications of the pipeline's partition
after its own tracking position, and hands each to the application's
``process_event``, which records the new events and the tracking position in
one transaction. A tracking conflict (``IntegrityError`` with the position
already recorded) means the notification was processed already; any other
``IntegrityError`` is a write conflict with another pipeline and is retried.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import (
    ApplicationRecorder,
    IntegrityError,
    Mapper,
    Notification,
    PersistenceError,
    Tracking,
)
from eventsourcing.system import (
    Follower,
    Leader,
    RecordingEvent,
    RecordingEventReceiver,
    System,
)

from thespsys.errors import ConfigurationError, ThespsysError
from thespsys.partitions import Partition, tracking_name

log = logging.getLogger(__name__)

MAX_CONFLICT_RETRIES = 50


class WriteConflictError(ThespsysError):
    """A notification kept conflicting with other writers; it was not skipped."""


class NotificationError(ThespsysError):
    """Processing one notification raised; the cause is attached."""

    def __init__(self, tracking_name: str, notification_id: int, error: Exception) -> None:
        super().__init__(
            f"{type(error).__name__}: {error} "
            f"(notification {notification_id} of {tracking_name})"
        )
        self.tracking_name = tracking_name
        self.notification_id = notification_id


def is_database_error(error: BaseException) -> bool:
    """The database could not be used, as opposed to a bug or a bad event."""
    return isinstance(error, PersistenceError) and not isinstance(error, IntegrityError)


@dataclass(frozen=True, slots=True)
class RunOutcome:
    processed: int
    recorded: bool
    more: bool


@dataclass(slots=True)
class Upstream:
    """A leader as one pipeline of one follower reads it."""

    leader_name: str
    tracking_name: str
    recorder: ApplicationRecorder
    mapper: Mapper[Any]
    slices: range | None

    def select(
        self, after: int | None, limit: int, topics: Sequence[str]
    ) -> Sequence[Notification]:
        extra: dict[str, Any] = {} if self.slices is None else {"slices": self.slices}
        return self.recorder.select_notifications(
            after, limit, topics=topics, inclusive_of_start=False, **extra
        )


class _RecordedFlag(RecordingEventReceiver[Any]):
    def __init__(self) -> None:
        self.is_set = False

    def receive_recording_event(self, new_recording_event: RecordingEvent[Any]) -> None:
        self.is_set = True


def supports_slices(recorder: ApplicationRecorder) -> bool:
    return "slices" in inspect.signature(recorder.select_notifications).parameters


class PartitionProcessor:
    """Processes one follower application's share of its leaders' events."""

    def __init__(
        self,
        system: System,
        name: str,
        env: Mapping[str, str],
        partition: Partition,
        batch_size: int = 100,
    ) -> None:
        self.name = name
        self.partition = partition
        self.batch_size = batch_size
        self.app: Follower[Any] = system.follower_cls(name)(env=dict(env))
        self._recorded = _RecordedFlag()
        if isinstance(self.app, Leader):
            self.app.lead(self._recorded)
        self.upstreams = [
            self._upstream(leader_name, env) for leader_name in system.follows[name]
        ]

    def _upstream(self, leader_name: str, env: Mapping[str, str]) -> Upstream:
        app = self.app
        factory = app.construct_factory(app.construct_env(leader_name, dict(env)))
        recorder = factory.application_recorder()
        slices = None if self.partition.is_whole else self.partition.slices
        if slices is not None and not supports_slices(recorder):
            raise ConfigurationError(
                "PERSISTENCE_MODULE",
                f"{type(recorder).__qualname__} cannot select notifications by "
                "partition; more than one pipeline needs thespsys.persistence",
            )
        mapper = factory.mapper(app.construct_transcoder(), mapper_class=type(app.mapper))
        return Upstream(
            leader_name=leader_name,
            tracking_name=tracking_name(leader_name, self.partition),
            recorder=recorder,
            mapper=mapper,
            slices=slices,
        )

    def run(self, budget: float) -> RunOutcome:
        """Process what is new, for at most about ``budget`` seconds."""
        deadline = time.monotonic() + budget
        self._recorded.is_set = False
        processed = 0
        more = False
        for upstream in self.upstreams:
            position = self.app.recorder.max_tracking_id(upstream.tracking_name)
            while not more:
                notifications = upstream.select(
                    position, self.batch_size, self.app.topics
                )
                for notification in notifications:
                    self._process(upstream, notification)
                    position = notification.id
                    processed += 1
                    if time.monotonic() >= deadline:
                        more = True
                        break
                if len(notifications) < self.batch_size:
                    break
        return RunOutcome(processed, self._recorded.is_set, more)

    def _process(self, upstream: Upstream, notification: Notification) -> None:
        try:
            self._process_with_retries(upstream, notification)
        except Exception as error:
            if is_database_error(error):
                raise
            raise NotificationError(upstream.tracking_name, notification.id, error) from error

    def _process_with_retries(self, upstream: Upstream, notification: Notification) -> None:
        domain_event = upstream.mapper.to_domain_event(notification)
        tracking = Tracking(upstream.tracking_name, notification.id)
        for attempt in range(1, MAX_CONFLICT_RETRIES + 1):
            try:
                self.app.process_event(domain_event, tracking)
            except IntegrityError as error:
                recorder = self.app.recorder
                if recorder.has_tracking_id(tracking.application_name, notification.id):
                    return  # Processed already, by an earlier run of this slave.
                log.debug("write conflict on %s, attempt %d: %s", tracking, attempt, error)
                time.sleep(min(0.001 * 2**attempt, 0.2))  # backoff before retrying
            else:
                return
        msg = (
            f"{self.name}: notification {notification.id} of "
            f"{upstream.leader_name} conflicted {MAX_CONFLICT_RETRIES} times"
        )
        raise WriteConflictError(msg)

    def close(self) -> None:
        self.app.close()
