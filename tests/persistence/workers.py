"""Code that tests run in other threads or processes (importable by 'spawn')."""

from __future__ import annotations

import uuid
from typing import Any

from eventsourcing.persistence import IntegrityError, StoredEvent, Tracking
from eventsourcing.utils import Environment

from thespsys.persistence import Datastore, SQLFactory, SQLProcessRecorder

RACE_EVENTS = "race_events"
RACE_TRACKING = "race_tracking"
UPSTREAM = "upstream"
BARRIER_TIMEOUT = 30.0


def race_recorder(url: str) -> SQLProcessRecorder:
    return SQLProcessRecorder(
        Datastore(url),
        events_table_name=RACE_EVENTS,
        tracking_table_name=RACE_TRACKING,
    )


def race_tracking(
    url: str, worker: int, trials: int, barrier: Any, results: Any
) -> None:
    """Race the other workers for positions 1..trials; report what happened.

    Each trial: wait for everyone at the barrier, then record one event with
    Tracking(UPSTREAM, trial). Puts ``(worker, [(trial, outcome), ...])`` on
    ``results``, outcome "committed" or "rejected" (IntegrityError), or
    ``(worker, error_repr)`` if anything else went wrong.
    """
    recorder = race_recorder(url)
    try:
        outcomes = []
        for trial in range(1, trials + 1):
            event = StoredEvent(
                originator_id=uuid.uuid4(),
                originator_version=1,
                topic=f"race-{trial}",
                state=f'{{"worker": {worker}}}'.encode(),
            )
            barrier.wait(BARRIER_TIMEOUT)
            try:
                recorder.insert_events([event], tracking=Tracking(UPSTREAM, trial))
            except IntegrityError:
                outcomes.append((trial, "rejected"))
            else:
                outcomes.append((trial, "committed"))
        results.put((worker, outcomes))
    except BaseException as error:  # report, don't hang the test
        barrier.abort()
        results.put((worker, repr(error)))
        raise
    finally:
        recorder.datastore.close()


def create_tables(url: str, name: str, barrier: Any, results: Any) -> None:
    """Construct a factory and its recorders (creating tables) all at once."""
    try:
        factory = SQLFactory(Environment(name, {"DATABASE_URL": url}))
        barrier.wait(BARRIER_TIMEOUT)
        factory.process_recorder()
        factory.aggregate_recorder("snapshots")
        factory.close()
        results.put("ok")
    except BaseException as error:
        barrier.abort()
        results.put(repr(error))
        raise
