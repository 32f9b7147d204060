"""The work of a ProcessSlave, as a plain object: pull and process, exactly once.

One ``PartitionProcessor`` runs one follower application for one pipeline. For
each upstream leader it reads the notifications of the pipeline's partition
after its own tracking position and processes them in batches: the new events
of a batch and the tracking position past it in one transaction
(``thespsys.engine.batches``). A batch that fails in any way is processed
again one notification at a time, each handed to the application's
``process_event``, which records the new events and the tracking position in
one transaction, so that errors are handled per notification. There, a
tracking conflict (``IntegrityError`` with the position already recorded)
means the notification was processed already; any other ``IntegrityError``
is a write conflict with another pipeline and is retried.

Under the ``park`` error policy, notifications of an originator that has a
parked notification are parked too (see ``thespsys.persistence.dead_letters``).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from eventsourcing.application import Application
from eventsourcing.domain import DomainEventProtocol
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
    BatchStore,
    DeadLetterStore,
    PartitioningStore,
    require_dead_letters,
)
from thespsys.core.partitionings import SkipRule
from thespsys.core.partitions import Partition, slices_of
from thespsys.engine.batches import process_batch
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
class BatchSettings:
    """How many notifications a slave reads per query (``read_size``, at
    least ``size``) and processes per transaction (``size``), and how long a
    batch may take before it is committed (``max_delay`` seconds)."""

    size: int = 100
    max_delay: float = 0.1
    read_size: int = 100


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


def _raise_for(
    upstream: Upstream, notification: Notification, error: Exception
) -> NoReturn:
    """A database error as it is (the master retries); any other error as
    the ``NotificationError`` of this notification (the error policy)."""
    if is_database_error(error):
        raise error
    raise NotificationError(upstream.tracking_name, notification.id, error) from error


def _batch_store(app: Follower[Any], size: int) -> BatchStore | None:
    """The store for batches, or None to process one at a time: batches of
    one, a store without batches, or an application that processes or records
    events in a way of its own."""
    recorder = app.recorder
    if size < 2 or not isinstance(recorder, BatchStore):
        return None
    cls = type(app)
    if cls.process_event is not Follower.process_event or (
        cls._record is not Application._record
    ):
        log.info("%s processes or records events its own way: no batches", app.name)
        return None
    return recorder


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
        batch: BatchSettings | None = None,
    ) -> None:
        self.name = name
        self.batch = batch or BatchSettings()
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
        self.batch_store = _batch_store(self.app, self.batch.size)
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
            count, more = self._run_upstream(upstream, deadline)
            processed += count
            if more:
                break
        return RunOutcome(processed, slices_of(self._recorded.ids), more)

    def _run_upstream(self, upstream: Upstream, deadline: float) -> tuple[int, bool]:
        """Process ``upstream``'s new notifications in batches; (how many,
        whether the deadline came first)."""
        position = self.app.recorder.max_tracking_id(upstream.tracking_name)
        skip = self.skips.get(upstream.tracking_name)
        read_size = max(self.batch.read_size, self.batch.size)
        processed = 0
        while True:
            notifications = upstream.select(position, read_size, self.app.topics)
            batch: list[Notification] = []
            skipped: Notification | None = None
            for notification in notifications:
                if skip and skip.done_before(
                    notification.id, notification.originator_id
                ):
                    skipped = notification
                    continue
                skipped = None
                if self._is_parked(upstream, notification):
                    # Park it after the batch: the batch comes first.
                    done = self._process_batch(upstream, batch, deadline)
                    processed += done
                    if done < len(batch):
                        return processed, True
                    batch = []
                    self._park_behind(upstream, notification)
                    processed += 1
                else:
                    batch.append(notification)
                    if len(batch) < self.batch.size:
                        continue
                    done = self._process_batch(upstream, batch, deadline)
                    processed += done
                    if done < len(batch):
                        return processed, True
                    batch = []
                if time.monotonic() >= deadline:
                    return processed, True
            done = self._process_batch(upstream, batch, deadline)
            processed += done
            if done < len(batch):
                return processed, True
            if skipped is not None:
                self._record_skipped(upstream, skipped)
            if time.monotonic() >= deadline:
                return processed, True
            if len(notifications) < read_size:
                return processed, False
            position = notifications[-1].id

    def _process_batch(
        self, upstream: Upstream, batch: Sequence[Notification], deadline: float
    ) -> int:
        """Process ``batch`` in transactions of up to ``batch.size``
        notifications, each at most ``batch.max_delay`` long, until done or
        ``deadline`` (at least one); how many were processed. On any failure,
        the rest of the batch goes one at a time, so the failing notification
        and the error are those of one at a time."""
        done = 0
        while done < len(batch):
            if done and time.monotonic() >= deadline:
                break
            rest = batch[done:]
            if self.batch_store is None or len(rest) == 1:
                self._process(upstream, rest[0])
                done += 1
                continue
            until = min(deadline, time.monotonic() + self.batch.max_delay)
            try:
                outcome = process_batch(
                    self.app,
                    self.batch_store,
                    (self._job(upstream, notification) for notification in rest),
                    until,
                )
            except Exception as error:
                log.debug(
                    "%s: a batch of %d from %s failed, one at a time instead: %r",
                    self.name,
                    len(rest),
                    upstream.tracking_name,
                    error,
                )
                return done + self._process_one_at_a_time(upstream, rest, deadline)
            done += outcome.recorded
            if outcome.error is not None:
                # Where one at a time fails too, with the state it would have.
                _raise_for(upstream, rest[outcome.recorded], outcome.error)
            if outcome.alone:
                self._process(upstream, rest[outcome.recorded])
                done += 1
        return done

    def _process_one_at_a_time(
        self, upstream: Upstream, notifications: Sequence[Notification], deadline: float
    ) -> int:
        done = 0
        for notification in notifications:
            if done and time.monotonic() >= deadline:
                break
            self._process(upstream, notification)
            done += 1
        return done

    @staticmethod
    def _job(
        upstream: Upstream, notification: Notification
    ) -> tuple[DomainEventProtocol[Any], Tracking]:
        return (
            upstream.domain_event(notification),
            Tracking(upstream.tracking_name, notification.id),
        )

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

    def _park_behind(self, upstream: Upstream, notification: Notification) -> None:
        self._park(
            upstream,
            notification,
            "parked behind an earlier parked notification of originator "
            f"{notification.originator_id}",
        )

    def _process(self, upstream: Upstream, notification: Notification) -> None:
        try:
            process_once(
                self.app,
                upstream.domain_event(notification),
                Tracking(upstream.tracking_name, notification.id),
                f"notification {notification.id} of {upstream.tracking_name}",
            )
        except Exception as error:
            _raise_for(upstream, notification, error)

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
