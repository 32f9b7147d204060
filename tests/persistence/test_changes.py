"""Change feeds see other connections' committed inserts, with their slices."""

from __future__ import annotations

from uuid import uuid4

from eventsourcing.persistence import StoredEvent

from thespsys.core.partitions import slice_of
from thespsys.core.processes import wait_for
from thespsys.persistence import SQLFactory
from thespsys.persistence.changes import Changes, open_change_feed
from thespsys.persistence.settings import parse_database_url


def factory(url: str, **env: str) -> SQLFactory:
    return SQLFactory({"DATABASE_URL": url, **env})


def insert(recorder: object, count: int) -> set[int]:
    ids = [uuid4() for _ in range(count)]
    recorder.insert_events(  # type: ignore[attr-defined]
        [StoredEvent(each, 1, "topic", b"{}") for each in ids]
    )
    return {slice_of(each) for each in ids}


def collect(feed: object, expected: Changes) -> Changes:
    seen: Changes = {}

    def check() -> bool:
        for table, slices in feed.poll().items():  # type: ignore[attr-defined]
            seen.setdefault(table, set()).update(slices)
        return seen == expected

    wait_for(check, timeout=5, interval=0.005)
    return seen


def test_a_feed_sees_committed_inserts_and_their_slices(database_url: str) -> None:
    writer = factory(database_url)
    recorder = writer.application_recorder()
    table = recorder.events_table.name  # type: ignore[attr-defined]
    feed = open_change_feed(parse_database_url(database_url, "url"), [table])
    try:
        assert feed.poll() == {}
        slices = insert(recorder, 3)
        assert collect(feed, {table: slices}) == {table: slices}
        assert feed.poll() == {}
    finally:
        feed.close()
        writer.close()


def test_writers_that_prompt_themselves_send_no_notify(postgres_url: str) -> None:
    quiet = factory(postgres_url, DATABASE_NOTIFY="no")
    loud = factory(postgres_url)
    quiet_recorder = quiet.application_recorder()
    table = quiet_recorder.events_table.name  # type: ignore[attr-defined]
    feed = open_change_feed(parse_database_url(postgres_url, "url"), [table])
    try:
        insert(quiet_recorder, 2)
        slices = insert(loud.application_recorder(), 1)
        # Only the second insert was heard: the first sent nothing.
        assert collect(feed, {table: slices}) == {table: slices}
    finally:
        feed.close()
        quiet.close()
        loud.close()


def test_tables_made_before_the_trigger_get_it_at_the_next_start(
    postgres_url: str,
) -> None:
    first = factory(postgres_url)
    table = first.application_recorder().events_table.name  # type: ignore[attr-defined]
    with first.datastore.write() as cursor:
        cursor.execute(f'DROP TRIGGER "{table}_notify" ON "{table}"')
    first.close()

    again = factory(postgres_url)
    recorder = again.application_recorder()
    feed = open_change_feed(parse_database_url(postgres_url, "url"), [table])
    try:
        slices = insert(recorder, 1)
        assert collect(feed, {table: slices}) == {table: slices}
    finally:
        feed.close()
        again.close()
