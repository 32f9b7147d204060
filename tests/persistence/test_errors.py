"""Only eventsourcing errors reach callers, and pools recover by themselves."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import psycopg2
import psycopg2.errors
import pytest
import sqlalchemy
import sqlalchemy.exc
from eventsourcing import persistence as es
from eventsourcing.persistence import StoredEvent, Tracking
from eventsourcing.utils import Environment
from sqlalchemy.engine import make_url

from tests.support.databases import postgres_admin_url
from thespsys.persistence import Datastore, SQLApplicationRecorder, SQLFactory
from thespsys.persistence.errors import translate

UNREACHABLE = "postgresql+psycopg2://postgres@127.0.0.1:1/x"

pytestmark = pytest.mark.timeout(60)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (sqlite3.IntegrityError("x"), es.IntegrityError),
        (sqlite3.OperationalError("x"), es.OperationalError),
        (sqlite3.ProgrammingError("x"), es.ProgrammingError),
        (sqlite3.DataError("x"), es.DataError),
        (sqlite3.InternalError("x"), es.InternalError),
        (sqlite3.NotSupportedError("x"), es.NotSupportedError),
        (sqlite3.DatabaseError("x"), es.DatabaseError),
        (sqlite3.InterfaceError("x"), es.InterfaceError),
        (psycopg2.errors.UniqueViolation("x"), es.IntegrityError),
        (psycopg2.errors.AdminShutdown("x"), es.OperationalError),
        (psycopg2.errors.UndefinedTable("x"), es.ProgrammingError),
        (psycopg2.errors.NumericValueOutOfRange("x"), es.DataError),
        (
            sqlalchemy.exc.OperationalError("SELECT", {}, Exception()),
            es.OperationalError,
        ),
        (sqlalchemy.exc.IntegrityError("INSERT", {}, Exception()), es.IntegrityError),
        (sqlalchemy.exc.TimeoutError("pool exhausted"), es.OperationalError),
        (sqlalchemy.exc.ArgumentError("odd"), es.PersistenceError),
    ],
)
def test_translation(error: Exception, expected: type[Exception]) -> None:
    assert type(translate(error)) is expected


def test_unreachable_postgres_raises_operational_error() -> None:
    env = {"DATABASE_URL": UNREACHABLE, "DATABASE_CONNECT_TIMEOUT": "1"}
    factory = SQLFactory(Environment("Orders", env))  # does not connect
    try:
        with pytest.raises(es.OperationalError) as raised:
            factory.application_recorder()  # creates tables: connects
        assert isinstance(raised.value.__cause__, psycopg2.OperationalError)

        factory.env["CREATE_TABLE"] = "no"
        recorder = factory.process_recorder()
        for operation in (
            lambda: recorder.max_notification_id(),
            lambda: recorder.select_notifications(None, 10),
            lambda: recorder.max_tracking_id("up"),
            lambda: recorder.insert_events(
                [StoredEvent(uuid.uuid4(), 1, "t", b"")], tracking=Tracking("up", 1)
            ),
        ):
            with pytest.raises(es.OperationalError):
                operation()
    finally:
        factory.close()


def test_sqlite_in_a_missing_directory_raises_operational_error(tmp_path: Path) -> None:
    datastore = Datastore(f"sqlite:///{tmp_path / 'missing' / 'app.db'}")
    try:
        recorder = SQLApplicationRecorder(datastore, events_table_name="e")
        with pytest.raises(es.OperationalError) as raised:
            recorder.create_table()
        assert (
            f"unable to open database file {tmp_path / 'missing' / 'app.db'}: its "
            f"directory {tmp_path / 'missing'} does not exist"
        ) in str(raised.value)
        (tmp_path / "missing").mkdir()  # once it exists, the same store works
        recorder.create_table()
    finally:
        datastore.close()


def test_missing_table_raises_programming_error(database_url: str) -> None:
    datastore = Datastore(database_url)
    try:
        recorder = SQLApplicationRecorder(datastore, events_table_name="nowhere")
        with pytest.raises((es.ProgrammingError, es.OperationalError)):
            recorder.select_notifications(None, 10)
        # The connection went back to the pool in a usable state.
        recorder.create_table()
        assert recorder.max_notification_id() is None
    finally:
        datastore.close()


def _terminate_backends(database_url: str) -> int:
    name = make_url(database_url).database
    admin = sqlalchemy.create_engine(postgres_admin_url(), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            # With a timeout, pg_terminate_backend waits until they are gone.
            return len(
                connection.execute(
                    sqlalchemy.text(
                        "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
                        " WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                ).all()
            )
    finally:
        admin.dispose()


def test_pool_recovers_after_backends_are_terminated(postgres_url: str) -> None:
    """The very next operation succeeds: pooled connections are pinged first."""
    factory = SQLFactory(Environment("Orders", {"DATABASE_URL": postgres_url}))
    try:
        recorder = factory.process_recorder()
        recorder.insert_events(
            [StoredEvent(uuid.uuid4(), 1, "t", b"")], tracking=Tracking("up", 1)
        )
        assert recorder.max_notification_id() == 1
        assert _terminate_backends(postgres_url) >= 1

        ids = recorder.insert_events(
            [StoredEvent(uuid.uuid4(), 1, "t", b"")], tracking=Tracking("up", 2)
        )
        assert ids == [2]
        assert recorder.max_tracking_id("up") == 2
        assert [n.id for n in recorder.select_notifications(None, 10)] == [1, 2]
    finally:
        factory.close()


def test_dead_connection_in_use_is_not_pooled_again(postgres_url: str) -> None:
    """A connection that dies mid-transaction fails that call only."""
    datastore = Datastore(postgres_url)
    try:
        recorder = SQLApplicationRecorder(datastore, events_table_name="e")
        recorder.create_table()
        with pytest.raises(es.OperationalError), datastore.write() as cursor:
            cursor.execute("SELECT 1")
            _terminate_backends(postgres_url)
            cursor.execute("SELECT 1")
        assert recorder.insert_events([StoredEvent(uuid.uuid4(), 1, "t", b"")]) == [1]
    finally:
        datastore.close()
