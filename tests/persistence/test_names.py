"""Application names of any length give valid, distinct, stable table names."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy
from eventsourcing.persistence import StoredEvent, Tracking
from eventsourcing.utils import Environment

from thespsys.persistence import SQLFactory
from thespsys.persistence.naming import (
    MAX_IDENTIFIER_BYTES,
    safe_identifier,
    table_prefix,
)

LONG = "Orders" + "X" * 94  # 100 characters
LONG_TWIN = "Orders" + "X" * 93 + "Y"  # shares the first 99 characters


def test_short_names_are_kept() -> None:
    assert safe_identifier("orders", "_events") == "orders_events"
    assert table_prefix("Orders", "stored") == "orders"
    assert table_prefix("", "stored") == "stored"


def test_long_names_are_shortened_deterministically() -> None:
    name = safe_identifier(LONG.lower(), "_events")
    assert len(name.encode()) <= MAX_IDENTIFIER_BYTES
    assert name.startswith("ordersxxx") and name.endswith("_events")
    assert name == safe_identifier(LONG.lower(), "_events")
    assert name != safe_identifier(LONG_TWIN.lower(), "_events")


def test_multibyte_names_are_cut_on_character_boundaries() -> None:
    name = safe_identifier("zähler" * 20, "_tracking")
    assert len(name.encode()) <= MAX_IDENTIFIER_BYTES
    name.encode().decode("utf-8")  # valid UTF-8
    assert name.endswith("_tracking")


def _factory(url: str, name: str) -> SQLFactory:
    return SQLFactory(Environment(name, {"DATABASE_URL": url}))


def _table_names(url: str) -> set[str]:
    engine = sqlalchemy.create_engine(url)
    try:
        inspector = sqlalchemy.inspect(engine)
        names = set(inspector.get_table_names())
        for table in list(names):
            names.update(str(i["name"]) for i in inspector.get_indexes(table))
        return names
    finally:
        engine.dispose()


def test_long_application_names_work(database_url: str) -> None:
    factories = [_factory(database_url, LONG), _factory(database_url, LONG_TWIN)]
    try:
        recorded = []
        for number, factory in enumerate(factories):
            recorder = factory.process_recorder()
            snapshots = factory.aggregate_recorder("snapshots")
            originator_id = uuid.uuid4()
            event = StoredEvent(originator_id, 1, f"topic-{number}", b"{}")
            assert recorder.insert_events([event], tracking=Tracking("up", 5)) == [1]
            snapshots.insert_events([event])
            assert snapshots.select_events(originator_id) == [event]
            recorded.append(originator_id)

        # Each application sees only its own events and tracking.
        for factory, originator_id in zip(factories, recorded, strict=True):
            recorder = factory.process_recorder()
            notifications = recorder.select_notifications(None, 10)
            assert [n.originator_id for n in notifications] == [originator_id]
            assert recorder.max_tracking_id("up") == 5
    finally:
        for factory in factories:
            factory.close()

    names = _table_names(database_url)
    assert all(len(name.encode()) <= MAX_IDENTIFIER_BYTES for name in names)
    expected = set()
    for prefix in (LONG.lower(), LONG_TWIN.lower()):
        for suffix in ("_events", "_snapshots", "_tracking"):
            expected.add(safe_identifier(prefix, suffix))
        expected.add(
            safe_identifier(safe_identifier(prefix, "_events"), "_slice_id_idx")
        )
    # 3 tables and a slice index per application, none shared.
    assert len(expected) == 8
    assert expected <= names


@pytest.mark.parametrize("name", ["", "Orders"])
def test_table_names_follow_eventsourcing(database_url: str, name: str) -> None:
    factory = _factory(database_url, name)
    try:
        factory.process_recorder()
        factory.aggregate_recorder("snapshots")
    finally:
        factory.close()
    expected = (
        {"stored_events", "stored_snapshots", "notification_tracking"}
        if not name
        else {"orders_events", "orders_snapshots", "orders_tracking"}
    )
    assert expected <= _table_names(database_url)
