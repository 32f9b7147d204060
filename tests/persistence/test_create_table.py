"""Several processes creating the same tables at once all succeed."""

from __future__ import annotations

import multiprocessing

import pytest
import sqlalchemy

from tests.persistence import workers

PROCESSES = 4

pytestmark = pytest.mark.timeout(120)


def test_concurrent_create_table(database_url: str) -> None:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    results = context.Queue()
    processes = [
        context.Process(
            target=workers.create_tables,
            args=(database_url, "Orders", barrier, results),
        )
        for _ in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    try:
        outcomes = [results.get(timeout=90) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
    assert outcomes == ["ok"] * PROCESSES
    assert [process.exitcode for process in processes] == [0] * PROCESSES

    engine = sqlalchemy.create_engine(database_url)
    try:
        tables = set(sqlalchemy.inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert {"orders_events", "orders_snapshots", "orders_tracking"} <= tables


def test_create_table_is_idempotent(database_url: str) -> None:
    recorder = workers.race_recorder(database_url)
    try:
        recorder.create_table()
        recorder.create_table()  # tables and index exist: nothing to do
    finally:
        recorder.datastore.close()
