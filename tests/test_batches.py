"""Batches in a slave's processor, without actors: one transaction for many
notifications, the same aggregates as one at a time, and failures met as one
at a time meets them."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.application import AggregateNotFoundError, ProcessingEvent
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import StoredEvent
from eventsourcing.system import System

from examples.world_counters import Counter, Counters, WorldsApplication
from examples.world_counters import system as worlds_system
from tests.runner.apps import Notes, Tallies, Tally
from tests.supervision.apps import Faulty
from thespsys.core.capabilities import BatchStore, TrackingRange
from thespsys.core.partitions import Partition
from thespsys.engine.processor import BatchSettings, PartitionProcessor
from thespsys.errors import NotificationError

CACHES = [None, "0", "2"]  # AGGREGATE_CACHE_MAXSIZE: none, unbounded, tiny


class CountingStore:
    """The processor's batch store, counting its transactions."""

    def __init__(self, store: BatchStore) -> None:
        self.store = store
        self.sizes: list[int] = []

    def insert_batch(
        self, stored_events: Sequence[StoredEvent], trackings: Sequence[TrackingRange]
    ) -> Sequence[int]:
        ids = self.store.insert_batch(stored_events, trackings)
        self.sizes.append(
            sum(t.notification_id - t.first_notification_id + 1 for t in trackings)
        )
        return ids


@pytest.fixture
def processors() -> Iterator[list[PartitionProcessor]]:
    made: list[PartitionProcessor] = []
    yield made
    for processor in made:
        processor.close()


def start(
    made: list[PartitionProcessor],
    system: System,
    name: str,
    env: dict[str, str],
    size: int,
) -> tuple[PartitionProcessor, CountingStore]:
    processor = PartitionProcessor(
        system, name, env, Partition(0, 1), BatchSettings(size=size, max_delay=60)
    )
    made.append(processor)
    assert processor.batch_store is not None
    counting = CountingStore(processor.batch_store)
    processor.batch_store = counting
    return processor, counting


def versions(app: Any, aggregate_id: Any) -> list[int]:
    return [e.originator_version for e in app.repository.event_store.get(aggregate_id)]


def with_cache(env: dict[str, str], cache: str | None) -> dict[str, str]:
    return env if cache is None else {**env, "AGGREGATE_CACHE_MAXSIZE": cache}


@pytest.mark.parametrize("cache", CACHES)
def test_a_batch_sees_what_it_changed_earlier(
    store_env: dict[str, str],
    processors: list[PartitionProcessor],
    caplog: pytest.LogCaptureFixture,
    cache: str | None,
) -> None:
    env = with_cache(store_env, cache)
    with WorldsApplication(env=env) as worlds:
        world = worlds.create_world()
        for i in range(45):
            worlds.make_it_so(world, "trucks" if i % 3 else "comets")
    processor, store = start(processors, worlds_system, "Counters", env, size=20)
    with caplog.at_level(logging.DEBUG, logger="thespsys"):
        outcome = processor.run(budget=60)
    assert outcome.processed == 46  # the world's Created too
    assert store.sizes == [20, 20, 6]
    assert "one at a time" not in caplog.text
    counters = processor.app
    assert isinstance(counters, Counters)
    assert (counters.get_count("trucks"), counters.get_count("comets")) == (30, 15)
    # Created and the first Incremented, then one Incremented per event.
    assert versions(counters, Counter.create_id("trucks")) == list(range(1, 32))
    assert versions(counters, Counter.create_id("comets")) == list(range(1, 17))


def test_a_policy_error_fails_that_notification_once(
    faults_env: dict[str, str], processors: list[PartitionProcessor]
) -> None:
    system = System(pipes=[[Notes, Faulty]])
    with Notes(env=faults_env) as notes:
        for text in ["a", "b", "c", "d", "fail-times-1", "e", "f"]:
            notes.write(text)
    processor, store = start(processors, system, "Faulty", faults_env, size=50)
    with pytest.raises(NotificationError) as caught:
        processor.run(budget=60)
    assert caught.value.notification_id == 5
    assert store.sizes == [4]  # those before it, in one batch
    assert processor.app.recorder.max_tracking_id("Notes") == 4
    # It failed once: the policy was not called again one at a time.
    assert processor.run(budget=60).processed == 3
    assert isinstance(processor.app, Faulty)
    assert processor.app.count("Note.Written") == 7


def first_time(env: Any, fault: str) -> bool:
    """True once per test: a marker file in ``FAULTS_DIR`` remembers it."""
    marker = Path(env["FAULTS_DIR"]) / fault
    if marker.exists():
        return False
    marker.touch()
    return True


class Meddling(Tallies):
    """Tallies; on a note "meddle", the first time, another writer counts one
    more in the same tally meanwhile, so the batch's commit conflicts."""

    def count_one(self, name: str) -> None:
        try:
            tally = self.repository.get(Tally.create_id(name))
        except AggregateNotFoundError:
            tally = Tally(name)
        tally.count_one()
        self.save(tally)

    def policy(
        self,
        domain_event: DomainEventProtocol[Any],
        processing_event: ProcessingEvent[Any],
    ) -> None:
        super().policy(domain_event, processing_event)
        if getattr(domain_event, "text", "") == "meddle" and first_time(
            self.env, "meddled"
        ):
            with type(self)(env=dict(self.env)) as other:
                other.count_one("Note.Written")


@pytest.mark.parametrize("cache", CACHES)
def test_a_write_conflict_falls_back_to_one_at_a_time(
    faults_env: dict[str, str],
    processors: list[PartitionProcessor],
    caplog: pytest.LogCaptureFixture,
    cache: str | None,
) -> None:
    env = with_cache(faults_env, cache)
    system = System(pipes=[[Notes, Meddling]])
    with Notes(env=env) as notes:
        for text in ["a", "b", "c", "meddle", "d", "e"]:
            notes.write(text)
    processor, store = start(processors, system, "Meddling", env, size=50)
    with caplog.at_level(logging.DEBUG, logger="thespsys"):
        assert processor.run(budget=60).processed == 6
    assert "one at a time instead" in caplog.text
    assert store.sizes == []  # the batch conflicted; then one at a time
    assert isinstance(processor.app, Meddling)
    assert processor.app.count("Note.Written") == 7  # six notes, one meddling
    tally_id = Tally.create_id("Note.Written")
    assert versions(processor.app, tally_id) == list(range(1, 9))
    assert processor.app.recorder.max_tracking_id("Notes") == 6


class WithKeywords(Tallies):
    """Tallies; on a note "keywords", passes a keyword argument for the
    recorder, as ``collect_events(..., **kwargs)`` allows."""

    def policy(
        self,
        domain_event: DomainEventProtocol[Any],
        processing_event: ProcessingEvent[Any],
    ) -> None:
        super().policy(domain_event, processing_event)
        if getattr(domain_event, "text", "") == "keywords":
            processing_event.collect_events(note="for the recorder")


def test_a_policy_with_keywords_for_the_recorder_is_processed_on_its_own(
    store_env: dict[str, str], processors: list[PartitionProcessor]
) -> None:
    system = System(pipes=[[Notes, WithKeywords]])
    with Notes(env=store_env) as notes:
        for text in ["a", "b", "keywords", "c", "d"]:
            notes.write(text)
    processor, store = start(processors, system, "WithKeywords", store_env, size=50)
    assert processor.run(budget=60).processed == 5
    assert store.sizes == [2, 2]  # before it, and after it
    assert isinstance(processor.app, WithKeywords)
    assert processor.app.count("Note.Written") == 5
    assert versions(processor.app, Tally.create_id("Note.Written")) == list(range(1, 7))


class Racing(Tallies):
    """Tallies; on a note "race", the first time, a duplicate of this slave
    processes everything there is, meanwhile, as a replaced slave that is
    still running would."""

    def policy(
        self,
        domain_event: DomainEventProtocol[Any],
        processing_event: ProcessingEvent[Any],
    ) -> None:
        super().policy(domain_event, processing_event)
        if getattr(domain_event, "text", "") == "race" and first_time(
            self.env, "raced"
        ):
            duplicate = PartitionProcessor(
                System(pipes=[[Notes, Racing]]),
                "Racing",
                dict(self.env),
                Partition(0, 1),
                BatchSettings(size=50),
            )
            try:
                assert duplicate.run(budget=60).processed == 6
            finally:
                duplicate.close()


def test_a_batch_another_slave_processed_meanwhile_is_not_recorded_again(
    faults_env: dict[str, str],
    processors: list[PartitionProcessor],
    caplog: pytest.LogCaptureFixture,
) -> None:
    system = System(pipes=[[Notes, Racing]])
    with Notes(env=faults_env) as notes:
        for text in ["a", "b", "race", "c", "d", "e"]:
            notes.write(text)
    processor, store = start(processors, system, "Racing", faults_env, size=50)
    with caplog.at_level(logging.DEBUG, logger="thespsys"):
        processor.run(budget=60)
    assert "is already at or beyond notification 1" in caplog.text
    assert store.sizes == []  # refused whole, then each found done
    assert isinstance(processor.app, Racing)
    assert processor.app.count("Note.Written") == 6
    tally_id = Tally.create_id("Note.Written")
    assert versions(processor.app, tally_id) == list(range(1, 8))
    assert processor.app.recorder.max_tracking_id("Notes") == 6
