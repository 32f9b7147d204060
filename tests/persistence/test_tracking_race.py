"""Exactly-once tracking: two writers racing for one position never both commit."""

from __future__ import annotations

import multiprocessing
import queue
import threading
from collections import Counter
from typing import Any

import pytest

from tests.persistence import workers
from thespsys.persistence import SQLProcessRecorder

TRIALS = 50
WRITERS = 2

pytestmark = pytest.mark.timeout(120)


def _prepare(url: str) -> SQLProcessRecorder:
    recorder = workers.race_recorder(url)
    recorder.create_table()
    return recorder


def _check(recorder: SQLProcessRecorder, reports: list[tuple[int, Any]]) -> None:
    problems = [report for report in reports if not isinstance(report[1], list)]
    assert not problems, problems
    assert len(reports) == WRITERS

    committed: Counter[int] = Counter()
    rejected: Counter[int] = Counter()
    for _worker, outcomes in reports:
        assert [trial for trial, _ in outcomes] == list(range(1, TRIALS + 1))
        for trial, outcome in outcomes:
            (committed if outcome == "committed" else rejected)[trial] += 1
    # Exactly one winner per position; everyone else got IntegrityError.
    assert all(committed[trial] == 1 for trial in range(1, TRIALS + 1)), committed
    assert all(rejected[trial] == WRITERS - 1 for trial in range(1, TRIALS + 1))

    # And the table agrees: one event per position, nothing else.
    notifications = recorder.select_notifications(None, 10 * TRIALS)
    topics = Counter(notification.topic for notification in notifications)
    assert topics == Counter({f"race-{trial}": 1 for trial in range(1, TRIALS + 1)})
    assert recorder.max_tracking_id(workers.UPSTREAM) == TRIALS


def test_threads_race_for_one_position(database_url: str) -> None:
    recorder = _prepare(database_url)
    barrier = threading.Barrier(WRITERS)
    results: queue.Queue[tuple[int, Any]] = queue.Queue()
    threads = [
        threading.Thread(
            target=workers.race_tracking,
            args=(database_url, worker, TRIALS, barrier, results),
        )
        for worker in range(WRITERS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
        assert not thread.is_alive()
    _check(recorder, [results.get_nowait() for _ in range(results.qsize())])


@pytest.mark.parametrize("start_method", ["spawn", "fork"])
def test_processes_race_for_one_position(database_url: str, start_method: str) -> None:
    recorder = _prepare(database_url)
    context: Any = multiprocessing.get_context(start_method)
    barrier = context.Barrier(WRITERS)
    results = context.Queue()
    processes = [
        context.Process(
            target=workers.race_tracking,
            args=(database_url, worker, TRIALS, barrier, results),
        )
        for worker in range(WRITERS)
    ]
    for process in processes:
        process.start()
    try:
        reports = [results.get(timeout=90) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
    assert [process.exitcode for process in processes] == [0] * WRITERS
    _check(recorder, reports)
