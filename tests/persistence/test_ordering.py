"""Readers following the log never skip an event while writers race."""

from __future__ import annotations

import itertools
import threading
import uuid

import pytest
from eventsourcing.persistence import StoredEvent

from thespsys.persistence import Datastore, SQLApplicationRecorder

WRITERS = 4
TRANSACTIONS_PER_WRITER = 150
BATCH_SIZES = (1, 1, 7, 1, 25)  # writer k cycles through these, offset by k

pytestmark = pytest.mark.timeout(120)


def _writer(
    recorder: SQLApplicationRecorder,
    number: int,
    start: threading.Barrier,
    errors: list[BaseException],
) -> None:
    try:
        start.wait(30)
        for transaction in range(TRANSACTIONS_PER_WRITER):
            size = BATCH_SIZES[(transaction + number) % len(BATCH_SIZES)]
            originator_id = uuid.uuid4()
            recorder.insert_events(
                [
                    StoredEvent(originator_id, version, "ordering", b"{}")
                    for version in range(1, size + 1)
                ]
            )
    except BaseException as error:
        errors.append(error)


def _reader(
    recorder: SQLApplicationRecorder,
    start: threading.Barrier,
    writers_done: threading.Event,
    seen: list[int],
    errors: list[BaseException],
) -> None:
    """Follow the log the way a follower does: always after the last id seen."""
    try:
        start.wait(30)
        last = 0
        while True:
            finished = writers_done.is_set()  # read before the page: no race
            page = recorder.select_notifications(
                start=last, limit=50, inclusive_of_start=False
            )
            seen.extend(notification.id for notification in page)
            if page:
                last = page[-1].id
            elif finished:
                return
    except BaseException as error:
        errors.append(error)


@pytest.mark.parametrize("database", ["postgres", "sqlite"])
def test_follower_sees_every_id_in_order(
    database: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue(f"{database}_url")
    datastore = Datastore(url, options=None)
    try:
        recorder = SQLApplicationRecorder(datastore, events_table_name="order_events")
        recorder.create_table()
        start = threading.Barrier(WRITERS + 1)
        writers_done = threading.Event()
        seen: list[int] = []
        errors: list[BaseException] = []
        reader = threading.Thread(
            target=_reader, args=(recorder, start, writers_done, seen, errors)
        )
        writers = [
            threading.Thread(target=_writer, args=(recorder, k, start, errors))
            for k in range(WRITERS)
        ]
        reader.start()
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join(timeout=90)
        writers_done.set()
        reader.join(timeout=30)
        assert not errors, errors
        assert not reader.is_alive()

        with datastore.read() as cursor:
            cursor.execute("SELECT id FROM order_events ORDER BY id")
            stored = [row[0] for row in cursor.fetchall()]
        expected_events = sum(
            BATCH_SIZES[(t + k) % len(BATCH_SIZES)]
            for k in range(WRITERS)
            for t in range(TRANSACTIONS_PER_WRITER)
        )
        assert len(stored) == expected_events
        # Strictly increasing, and nothing that exists was passed over.
        assert all(a < b for a, b in itertools.pairwise(seen))
        assert seen == stored
    finally:
        datastore.close()
