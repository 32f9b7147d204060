"""Several notifications processed in one transaction, as one at a time would.

``process_batch`` calls the application's ``policy`` for each notification in
turn, with a ``ProcessingEvent`` of its own, exactly as eventsourcing's
``process_event`` does, but records the new events of all of them, and each
upstream's position past them, in one transaction (``BatchStore``). Nothing
is written until then; meanwhile the application's repository reads, for
each aggregate, its stored events followed by the events collected earlier
in the batch (``PendingEvents``), so that a policy loading an aggregate
changed earlier in the batch sees those changes: the same aggregates, at the
same versions, as one at a time. Pending events are read back through the
application's mapper from their stored form, as a later transaction would
read them from the database.

After the commit, each notification's snapshots are taken and its recordings
handed to the application's ``_notify`` in order, as ``process_event`` does.
If the store fails, nothing is recorded and the aggregates the batch changed
leave the repository's cache; the caller then processes the notifications
one at a time (``thespsys.engine.processor``). A policy's error ends the
batch before that notification, as does a policy that passes keyword
arguments for the recorder (a batch has no room for them): the caller
processes that one on its own.

eventsourcing has no unit of work over several processing events, hence
this module.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

from eventsourcing.application import ProcessingEvent
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import (
    AggregateRecorder,
    Notification,
    Recording,
    StoredEvent,
    Tracking,
)
from eventsourcing.system import Follower

from thespsys.core.capabilities import BatchStore, TrackingRange


class PendingEvents(AggregateRecorder):
    """The application's recorder as its repository sees it within a batch:
    each aggregate's stored events, then those the batch has collected."""

    def __init__(self, recorder: AggregateRecorder) -> None:
        self.recorder = recorder
        self.by_originator: dict[str, list[StoredEvent]] = {}

    def add(self, stored_events: Sequence[StoredEvent]) -> None:
        for stored in stored_events:
            self.by_originator.setdefault(str(stored.originator_id), []).append(stored)

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        # Not the batch's: what the repository's event store writes is
        # written at once, as it would be one at a time.
        return self.recorder.insert_events(stored_events, **kwargs)

    def select_events(
        self,
        originator_id: Any,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        pending = self.by_originator.get(str(originator_id))
        if not pending:
            return self.recorder.select_events(
                originator_id, gt=gt, lte=lte, desc=desc, limit=limit
            )
        events = [
            *self.recorder.select_events(originator_id, gt=gt, lte=lte),
            *(
                stored
                for stored in pending
                if (gt is None or stored.originator_version > gt)
                and (lte is None or stored.originator_version <= lte)
            ),
        ]
        if desc:
            events.reverse()
        return events if limit is None else events[:limit]


@dataclass(slots=True)
class _Processed:
    processing_event: ProcessingEvent[Any]
    stored_events: list[StoredEvent]


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    """``recorded`` notifications were recorded. If ``error`` is set, the
    policy raised it on the next one (number ``recorded``, counting from 0);
    if ``alone``, the next one must be processed on its own (its policy
    passed keyword arguments for the recorder, which a batch cannot)."""

    recorded: int
    error: Exception | None = None
    alone: bool = False


def process_batch(
    app: Follower[Any],
    store: BatchStore,
    jobs: Iterable[tuple[DomainEventProtocol[Any], Tracking]],
    until: float,
) -> BatchOutcome:
    """Process ``jobs`` (in order; each upstream's in notification order) in
    one transaction, or as many as are done by the monotonic time ``until``
    (at least one), or those before the first whose policy raises: that
    error is returned, as one at a time would meet it, and the policy is not
    called again. Raises what the store raises, having recorded nothing."""
    pending = PendingEvents(app.repository.event_store.recorder)
    done: list[_Processed] = []
    error: Exception | None = None
    alone = False
    try:
        with _reading_pending(app, pending):
            for domain_event, tracking in jobs:
                try:
                    processed = _process(app, domain_event, tracking)
                except Exception as policy_error:
                    error = policy_error
                    break
                if processed.processing_event.saved_kwargs:
                    alone = True
                    break
                _collect(app, pending, processed)
                done.append(processed)
                if time.monotonic() >= until:
                    break
        if done:
            stored_events = [stored for each in done for stored in each.stored_events]
            ids = store.insert_batch(stored_events, _ranges(done))
    except BaseException:
        _forget(app, pending)
        raise
    if error is not None or alone:
        _forget(app, pending)  # what the last policy may have cached
    if done:
        _after_commit(app, done, ids)
    return BatchOutcome(len(done), error, alone)


def _process(
    app: Follower[Any], domain_event: DomainEventProtocol[Any], tracking: Tracking
) -> _Processed:
    processing_event: ProcessingEvent[Any] = ProcessingEvent(tracking=tracking)
    app.policy(domain_event, processing_event)
    stored_events = [app.mapper.to_stored_event(e) for e in processing_event.events]
    return _Processed(processing_event, stored_events)


def _collect(app: Follower[Any], pending: PendingEvents, processed: _Processed) -> None:
    """What later notifications of the batch read."""
    pending.add(processed.stored_events)
    repository = app.repository
    if repository.cache is not None and not repository.fastforward:
        # As Application._record does: the cache is what is read next.
        aggregates = processed.processing_event.aggregates
        for aggregate_id, aggregate in aggregates.items():
            repository.cache.put(aggregate_id, aggregate)


@contextmanager
def _reading_pending(app: Follower[Any], pending: PendingEvents) -> Iterator[None]:
    event_store = app.repository.event_store
    recorder = event_store.recorder
    event_store.recorder = pending
    try:
        yield
    finally:
        event_store.recorder = recorder


def _ranges(done: Sequence[_Processed]) -> list[TrackingRange]:
    ranges: dict[str, tuple[int, int]] = {}
    for each in done:
        tracking = each.processing_event.tracking
        assert tracking is not None
        name, position = tracking.application_name, tracking.notification_id
        first, last = ranges.get(name, (position, position))
        ranges[name] = (min(first, position), max(last, position))
    return [
        TrackingRange(
            application_name=name, notification_id=last, first_notification_id=first
        )
        for name, (first, last) in ranges.items()
    ]


def _forget(app: Follower[Any], pending: PendingEvents) -> None:
    """The cache may hold the batch's aggregates as if it had been recorded."""
    cache = app.repository.cache
    if cache is None:
        return
    for stored_events in pending.by_originator.values():
        with suppress(KeyError):
            cache.get(stored_events[0].originator_id, evict=True)


def _after_commit(
    app: Follower[Any], done: Sequence[_Processed], ids: Sequence[int]
) -> None:
    """What ``process_event`` does after recording, per notification in order."""
    next_id = iter(ids)
    for each in done:
        recordings = [
            Recording(
                domain_event,
                Notification(
                    id=next(next_id),
                    originator_id=stored.originator_id,
                    originator_version=stored.originator_version,
                    topic=stored.topic,
                    state=stored.state,
                ),
            )
            for domain_event, stored in zip(
                each.processing_event.events, each.stored_events, strict=True
            )
        ]
        app._take_snapshots(each.processing_event)
        app.notify(each.processing_event.events)
        app._notify(recordings)
