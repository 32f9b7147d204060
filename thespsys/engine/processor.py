"""The work of a ProcessSlave, as a plain object: pull and process, exactly once.

One ``PartitionProcessor`` runs one follower application for one pipeline. For
each upstream leader it reads the notifications of the pipeline's partition
after its own tracking position, and hands each to the application's
``process_event``, which records the new events and the tracking position in
one transaction. A tracking conflict (``IntegrityError`` with the position
already recorded) means the notification was processed already; any other
``IntegrityError`` is a write conflict with another pipeline and is retried.

Under the ``park`` error policy, notifications of an originator that has a
parked notification are parked too (see ``thespsys.persistence.dead_letters``).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import (
    IntegrityError,
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

from thespsys.core.capabilities import (
    DeadLetterStore,
    PartitioningStore,
    require_dead_letters,
)
from thespsys.core.partitionings import SkipRule
from thespsys.core.partitions import Partition, slices_of
from thespsys.engine.failures import ParkOrder
from thespsys.engine.upstreams import Upstream, connect_upstream
from thespsys.errors import (
    ConfigurationError,
    NotificationError,
    WriteConflictError,
)

log = logging.getLogger(__name__)

MAX_CONFLICT_RETRIES = 50


def is_database_error(error: BaseException) -> bool:
    """The database could not be used, as opposed to a bug or a bad event."""
    return isinstance(error, PersistenceError) and not isinstance(error, IntegrityError)


@dataclass(frozen=True, slots=True)
class RunOutcome:
    processed: int
    recorded_slices: tuple[int, ...]
    more: bool


class _RecordedOriginators(RecordingEventReceiver[Any]):
    """Which originators got new events: their slices say whom to prompt."""

    def __init__(self) -> None:
        self.ids: set[Any] = set()

    def receive_recording_event(self, new_recording_event: RecordingEvent[Any]) -> None:
        self.ids.update(
            recording.notification.originator_id
            for recording in new_recording_event.recordings
        )


def process_once(
    app: Follower[Any],
    event: Any,
    tracking: Tracking,
    what: str,
    is_done: Callable[[], bool] | None = None,
) -> None:
    """``app.process_event``, retrying write conflicts. An ``IntegrityError``
    after which ``is_done()`` holds (by default: the tracking position is
    recorded already) means it was processed before, and ends it quietly."""
    if is_done is None:

        def is_done() -> bool:
            return app.recorder.has_tracking_id(
                tracking.application_name, tracking.notification_id
            )

    for attempt in range(1, MAX_CONFLICT_RETRIES + 1):
        try:
            app.process_event(event, tracking)
        except IntegrityError as error:
            if is_done():
                return  # Processed already (by an earlier run, say).
            log.debug("write conflict on %s, attempt %d: %s", what, attempt, error)
            time.sleep(min(0.001 * 2**attempt, 0.2))  # backoff before retrying
        else:
            return
    msg = f"{what} conflicted with other writers {MAX_CONFLICT_RETRIES} times"
    raise WriteConflictError(msg)


def _skip_rules(
    app: Follower[Any], upstreams: Mapping[str, Upstream], partition: Partition
) -> dict[str, SkipRule]:
    """What each upstream's partition skips after a change of the pipeline
    count; the recorded count must be this partition's."""
    recorder = app.recorder
    if not isinstance(recorder, PartitioningStore):
        return {}
    rules = {}
    for name, upstream in upstreams.items():
        partitioning = recorder.partitioning(upstream.leader_name)
        if partitioning is None:
            continue
        if partitioning.count != partition.count:
            raise ConfigurationError(
                "pipeline_ids",
                f"{app.name} reads {upstream.leader_name} in "
                f"{partitioning.count} partition(s) as recorded, not "
                f"{partition.count}: start the system with "
                f"{partitioning.count} pipeline(s), or through a runner, "
                "which records a change of the count",
            )
        rule = partitioning.skips(partition)
        if rule is not None:
            rules[name] = rule
    return rules


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
        self.batch_size = batch_size
        self.app: Follower[Any] = system.follower_cls(name)(env=dict(env))
        self._recorded = _RecordedOriginators()
        if isinstance(self.app, Leader):
            self.app.lead(self._recorded)
        self.upstreams = {
            upstream.tracking_name: upstream
            for upstream in (
                connect_upstream(self.app, leader_name, env, partition)
                for leader_name in system.follows[name]
            )
        }
        self.skips = _skip_rules(self.app, self.upstreams, partition)
        recorder = self.app.recorder
        self.dead_letters = (
            recorder.dead_letters if isinstance(recorder, DeadLetterStore) else None
        )
        self._parked: dict[str, set[str]] = {}
        self._runs = 0

    def run(self, budget: float) -> RunOutcome:
        """Process what is new, for at most about ``budget`` seconds."""
        deadline = time.monotonic() + budget
        self._recorded.ids.clear()
        self._load_parked()
        processed = 0
        more = False
        # Each run starts with the next upstream, so that a long backlog of one
        # leader does not starve the others.
        upstreams = list(self.upstreams.values())
        first = self._runs % len(upstreams)
        self._runs += 1
        for upstream in upstreams[first:] + upstreams[:first]:
            position = self.app.recorder.max_tracking_id(upstream.tracking_name)
            skip = self.skips.get(upstream.tracking_name)
            while not more:
                notifications = upstream.select(
                    position, self.batch_size, self.app.topics
                )
                skipped: Notification | None = None
                for notification in notifications:
                    if skip and skip.done_before(
                        notification.id, notification.originator_id
                    ):
                        skipped = notification
                    else:
                        self._process(upstream, notification)
                        skipped = None
                        processed += 1
                    position = notification.id
                    if time.monotonic() >= deadline:
                        more = True
                        break
                if skipped is not None:
                    self._record_skipped(upstream, skipped)
                if len(notifications) < self.batch_size:
                    break
        return RunOutcome(processed, slices_of(self._recorded.ids), more)

    def _record_skipped(self, upstream: Upstream, notification: Notification) -> None:
        """Move the position past notifications an earlier partitioning
        processed (a later processed one would have moved it too)."""
        with contextlib.suppress(IntegrityError):  # recorded by an earlier run
            self.app.recorder.insert_tracking(
                Tracking(upstream.tracking_name, notification.id)
            )

    def _load_parked(self) -> None:
        if self.dead_letters is not None:
            self._parked = {
                name: self.dead_letters.parked_originators(name)
                for name in self.upstreams
            }

    def _process(self, upstream: Upstream, notification: Notification) -> None:
        try:
            if self._is_parked(upstream, notification):
                self._park(
                    upstream,
                    notification,
                    "parked behind an earlier parked notification of originator "
                    f"{notification.originator_id}",
                )
                return
            process_once(
                self.app,
                upstream.domain_event(notification),
                Tracking(upstream.tracking_name, notification.id),
                f"notification {notification.id} of {upstream.tracking_name}",
            )
        except Exception as error:
            if is_database_error(error):
                raise
            raise NotificationError(
                upstream.tracking_name, notification.id, error
            ) from error

    def _is_parked(self, upstream: Upstream, notification: Notification) -> bool:
        originator = str(notification.originator_id)
        if originator not in self._parked.get(upstream.tracking_name, ()):
            return False
        # Resolved meanwhile (retried or skipped)? Then it goes on as usual.
        assert self.dead_letters is not None
        return bool(self.dead_letters.is_parked(upstream.tracking_name, originator))

    def park(self, order: ParkOrder) -> None:
        """Park the notification the master gave up on (it kept failing)."""
        upstream = self.upstreams[order.tracking_name]
        notification = upstream.notification(order.notification_id)
        self._park(upstream, notification, order.error, order.traceback, order.attempts)

    def _park(
        self,
        upstream: Upstream,
        notification: Notification,
        error: str,
        traceback: str = "",
        attempts: int = 0,
    ) -> None:
        store = require_dead_letters(self.app.recorder, f"{self.name} (park)")
        try:
            store.park(
                Tracking(upstream.tracking_name, notification.id),
                notification,
                error,
                traceback,
                attempts,
            )
        except IntegrityError:
            return  # the position is past it: processed or parked already
        self._parked.setdefault(upstream.tracking_name, set()).add(
            str(notification.originator_id)
        )
        log.warning(
            "%s parked notification %d of %s: %s",
            self.name,
            notification.id,
            upstream.tracking_name,
            error,
        )

    def close(self) -> None:
        self.app.close()
