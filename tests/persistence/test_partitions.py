"""Slices: stored with each event, filtered in the database, indexed."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy
from eventsourcing.persistence import StoredEvent

from thespsys.core.partitions import SLICE_COUNT, Partition, slice_of
from thespsys.persistence import Datastore, SQLApplicationRecorder

TABLE = "parts_events"
INDEX = "parts_events_slice_id_idx"


@pytest.fixture
def recorder(database_url: str) -> Iterator[SQLApplicationRecorder]:
    datastore = Datastore(database_url)
    recorder = SQLApplicationRecorder(datastore, events_table_name=TABLE)
    recorder.create_table()
    yield recorder
    datastore.close()


def _record(recorder: SQLApplicationRecorder, originators: int) -> list[uuid.UUID]:
    """Three events per originator, topics a/b/c, in batches of various sizes."""
    ids = [uuid.uuid4() for _ in range(originators)]
    events = [
        StoredEvent(originator_id, version, "abc"[version - 1], b"{}")
        for originator_id in ids
        for version in (1, 2, 3)
    ]
    start, sizes = 0, itertools.cycle((1, 30, 7))
    while start < len(events):
        size = next(sizes)
        recorder.insert_events(events[start : start + size])
        start += size
    return ids


def test_slice_is_stored_with_each_event(recorder: SQLApplicationRecorder) -> None:
    _record(recorder, 40)
    with recorder.datastore.read() as cursor:
        cursor.execute(f"SELECT originator_id, slice FROM {TABLE}")
        rows = cursor.fetchall()
    assert len(rows) == 120
    assert all(stored == slice_of(uuid.UUID(text)) for text, stored in rows)


@pytest.mark.parametrize("count", [1, 2, 3, 7, 64])
def test_partitions_cover_the_log_disjointly(
    recorder: SQLApplicationRecorder, count: int
) -> None:
    _record(recorder, 100)
    everything = [n.id for n in recorder.select_notifications(None, 1000)]
    assert len(everything) == 300

    seen: list[int] = []
    for index in range(count):
        slices = Partition(index, count).slices
        part = recorder.select_notifications(None, 1000, slices=slices)
        assert all(slice_of(n.originator_id) in slices for n in part)
        ids = [n.id for n in part]
        assert ids == sorted(ids)
        # A reader pages through its partition with start/limit as usual.
        paged: list[int] = []
        last = 0
        while page := recorder.select_notifications(
            last, 10, inclusive_of_start=False, slices=slices
        ):
            paged.extend(n.id for n in page)
            last = page[-1].id
        assert paged == ids
        assert recorder.max_notification_id(slices=slices) == (
            max(ids) if ids else None
        )
        seen.extend(ids)
    assert sorted(seen) == everything  # disjoint (no duplicates) and complete


def test_slices_combine_with_topics_and_stop(recorder: SQLApplicationRecorder) -> None:
    _record(recorder, 60)
    slices = Partition(1, 3).slices
    all_in_part = recorder.select_notifications(None, 1000, slices=slices)
    b_only = recorder.select_notifications(None, 1000, topics=["b"], slices=slices)
    assert [n.id for n in b_only] == [n.id for n in all_in_part if n.topic == "b"]
    assert recorder.max_notification_id(slices=slices, topics=["a", "c"]) == max(
        n.id for n in all_in_part if n.topic in "ac"
    )
    assert recorder.max_notification_id(topics=["nope"]) is None
    middle = all_in_part[len(all_in_part) // 2].id
    upto = recorder.select_notifications(1, 1000, stop=middle, slices=slices)
    assert [n.id for n in upto] == [n.id for n in all_in_part if n.id <= middle]


def test_empty_and_single_slice_ranges(recorder: SQLApplicationRecorder) -> None:
    ids = _record(recorder, 20)
    assert recorder.select_notifications(None, 10, slices=range(5, 5)) == []
    assert recorder.max_notification_id(slices=range(5, 5)) is None
    one = slice_of(ids[0])
    found = recorder.select_notifications(None, 100, slices=range(one, one + 1))
    assert ids[0] in {n.originator_id for n in found}
    assert recorder.max_notification_id(slices=range(0, SLICE_COUNT)) == 60
    with pytest.raises(ValueError, match="contiguous"):
        recorder.select_notifications(None, 10, slices=range(0, 10, 2))


def test_slice_filter_uses_the_slice_index(
    recorder: SQLApplicationRecorder, database_url: str
) -> None:
    _record(recorder, 1000)
    inspector = sqlalchemy.inspect(recorder.datastore.engine)
    indexes = {i["name"]: i["column_names"] for i in inspector.get_indexes(TABLE)}
    assert indexes[INDEX] == ["slice", "id"]

    one = Partition(7, SLICE_COUNT).slices  # a single slice: selective
    sql = recorder._compile_notifications(("gt", False, False, True))
    params = {
        "start": 0,
        "limit": 100,
        "slice_first": one.start,
        "slice_last": one.stop - 1,
    }
    with recorder.datastore.read() as cursor:
        if recorder.datastore.is_postgres:
            cursor.execute(f"ANALYZE {TABLE}")
            cursor.execute("EXPLAIN " + sql, params)
        else:
            cursor.execute("ANALYZE")
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        plan = "\n".join(str(row) for row in cursor.fetchall())
    assert INDEX in plan, plan
