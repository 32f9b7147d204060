"""Compare thespsys.persistence with eventsourcing's own SQLite and PostgreSQL stores.

Writes and reads through both stores on the same database (a fresh temporary
SQLite file; a fresh temporary PostgreSQL database, dropped afterwards), and
prints events per second for each and the ratio thespsys / eventsourcing::

    python -m scripts.benchmark_store [--events N] [--postgres-url URL]
                                      [--no-postgres] [--chunks C]

Scenarios: single-event transactions (application recorder), single-event
transactions with a tracking record (process recorder), batches of 100 events
per transaction, and reading the notification log in pages of 100. In each
scenario the stores take turns, a chunk of the work at a time, so that drift
in the machine's speed affects both alike.
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import sqlalchemy
from eventsourcing.persistence import (
    ApplicationRecorder,
    InfrastructureFactory,
    ProcessRecorder,
    StoredEvent,
    Tracking,
)
from eventsourcing.utils import Environment

from tests.support.databases import (
    eventsourcing_store_env,
    temporary_postgres_database,
)
from thespsys.persistence import dispose_engines

DEFAULT_POSTGRES_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
BATCH_SIZE = 100
PAGE_SIZE = 100


@dataclass
class Store:
    label: str
    factory: InfrastructureFactory[Any]
    application: ApplicationRecorder
    process: ProcessRecorder
    tracking_position: int = 0
    read_position: int | None = None
    upstream: str = field(default_factory=lambda: f"upstream-{uuid.uuid4().hex[:8]}")

    def close(self) -> None:
        self.factory.close()


def open_store(label: str, env: dict[str, str]) -> Store:
    factory = InfrastructureFactory.construct(Environment(label, env))
    return Store(
        label=label,
        factory=factory,
        application=factory.application_recorder(),
        process=factory.process_recorder(),
    )


def new_events(count: int, per_originator: int) -> list[StoredEvent]:
    events: list[StoredEvent] = []
    for start in range(0, count, per_originator):
        originator_id = uuid.uuid4()
        events.extend(
            StoredEvent(originator_id, version, "bench.Event", b'{"amount":1}')
            for version in range(1, min(per_originator, count - start) + 1)
        )
    return events


# Each measure runs ``count`` events' worth of work and returns the seconds taken.


def single_events(store: Store, count: int) -> float:
    events = new_events(count, 1)
    started = time.perf_counter()
    for event in events:
        store.application.insert_events([event])
    return time.perf_counter() - started


def tracked_single_events(store: Store, count: int) -> float:
    events = new_events(count, 1)
    first = store.tracking_position + 1
    store.tracking_position += count
    started = time.perf_counter()
    for position, event in enumerate(events, first):
        store.process.insert_events(
            [event], tracking=Tracking(store.upstream, position)
        )
    return time.perf_counter() - started


def batches(store: Store, count: int) -> float:
    events = new_events(count, BATCH_SIZE)
    started = time.perf_counter()
    for start in range(0, count, BATCH_SIZE):
        store.application.insert_events(events[start : start + BATCH_SIZE])
    return time.perf_counter() - started


def reading(store: Store, count: int) -> float:
    """Read ``count`` events from where the previous read stopped (or the start)."""
    read = 0
    started = time.perf_counter()
    while read < count:
        page = store.application.select_notifications(
            store.read_position, PAGE_SIZE, inclusive_of_start=False
        )
        if not page:
            store.read_position = None  # wrap around
            continue
        read += len(page)
        store.read_position = page[-1].id
    return time.perf_counter() - started


Scenario = tuple[str, Callable[[Store, int], float], int]


def run(
    stores: Sequence[Store], scenarios: Sequence[Scenario], chunks: int
) -> list[tuple[str, list[float]]]:
    """Events/s per store; stores take turns chunk by chunk, so that drift in
    the machine's speed (disk flushes, other load) affects them alike."""
    results = []
    for name, measure, count in scenarios:
        chunk = max(1, count // chunks)
        elapsed = [0.0] * len(stores)
        for turn in range(chunks):
            order = (
                range(len(stores)) if turn % 2 == 0 else reversed(range(len(stores)))
            )
            for index in order:
                elapsed[index] += measure(stores[index], chunk)
        results.append((name, [chunk * chunks / seconds for seconds in elapsed]))
    return results


@contextmanager
def sqlite_stores() -> Iterator[list[Store]]:
    with tempfile.TemporaryDirectory(prefix="thespsys-bench-") as directory:
        path = Path(directory) / "bench.db"
        stores = [
            open_store(
                "Thespsys",
                {
                    "PERSISTENCE_MODULE": "thespsys.persistence",
                    "DATABASE_URL": f"sqlite:///{path}",
                },
            ),
            open_store(
                "Es",
                {
                    "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                    "SQLITE_DBNAME": str(path),
                },
            ),
        ]
        try:
            yield stores
        finally:
            for store in stores:
                store.close()
            dispose_engines()


@contextmanager
def postgres_stores(admin_url: str) -> Iterator[list[Store]]:
    with temporary_postgres_database(admin_url) as url:
        stores = [
            open_store(
                "Thespsys",
                {"PERSISTENCE_MODULE": "thespsys.persistence", "DATABASE_URL": url},
            ),
            open_store(
                "Es",
                eventsourcing_store_env(url),
            ),
        ]
        try:
            yield stores
        finally:
            for store in stores:
                store.close()


def describe_environment() -> str:
    packages = ("SQLAlchemy", "eventsourcing", "psycopg2-binary", "psycopg")
    versions = ", ".join(f"{name} {version(name)}" for name in packages)
    return (
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"{versions}; {os.cpu_count()} CPUs"
    )


def postgres_version(url: str) -> str:
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            return str(connection.exec_driver_sql("SHOW server_version").scalar())
    finally:
        engine.dispose()


def print_table(database: str, results: list[tuple[str, list[float]]]) -> None:
    print(f"\n{database}")
    print(
        f"| {'scenario':<38} | {'thespsys ev/s':>13} | {'eventsourcing ev/s':>18} "
        f"| {'ratio':>5} |"
    )
    print(f"|{'-' * 40}|{'-' * 15}|{'-' * 20}|{'-' * 7}|")
    for name, (ours, theirs) in results:
        ratio = ours / theirs if theirs else float("nan")
        print(f"| {name:<38} | {ours:>13,.0f} | {theirs:>18,.0f} | {ratio:>5.2f} |")
    sys.stdout.flush()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--events",
        type=int,
        default=2000,
        help="single-event transactions per store in each single-event "
        "scenario (batches and reads use 10x as many events); default 2000",
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("THESPSYS_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help="SQLAlchemy URL of a PostgreSQL database from which to create the "
        "temporary one",
    )
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument(
        "--chunks",
        type=int,
        default=10,
        help="turns the stores take in each scenario (default 10)",
    )
    args = parser.parse_args(argv)

    scenarios: list[Scenario] = [
        ("1 event per transaction", single_events, args.events),
        ("1 event + tracking per transaction", tracked_single_events, args.events),
        (f"{BATCH_SIZE} events per transaction", batches, 10 * args.events),
        (f"read, pages of {PAGE_SIZE}", reading, 10 * args.events),
    ]
    started = time.perf_counter()
    print(describe_environment())
    with sqlite_stores() as stores:
        print_table(
            "SQLite file (WAL): thespsys.persistence vs eventsourcing.sqlite",
            run(stores, scenarios, args.chunks),
        )
    if not args.no_postgres:
        with postgres_stores(args.postgres_url) as stores:
            print_table(
                f"PostgreSQL {postgres_version(args.postgres_url)}: "
                "thespsys.persistence (psycopg2) vs eventsourcing.postgres (psycopg 3)",
                run(stores, scenarios, args.chunks),
            )
    print(f"\n{time.perf_counter() - started:.0f} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
