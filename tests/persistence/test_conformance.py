"""eventsourcing's recorder and factory conformance suites, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    ProcessRecorder,
    TrackingRecorder,
)
from eventsourcing.tests import persistence as suites
from eventsourcing.utils import Environment

from tests.persistence.support import PostgresTestCase, SQLiteTestCase
from thespsys.persistence import (
    Datastore,
    SQLAggregateRecorder,
    SQLApplicationRecorder,
    SQLFactory,
    SQLProcessRecorder,
    SQLTrackingRecorder,
)

pytestmark = pytest.mark.timeout(300)


class _AggregateRecorder:
    def create_recorder(self: Any) -> AggregateRecorder:
        recorder = SQLAggregateRecorder(
            self.datastore(), events_table_name="stored_events"
        )
        recorder.create_table()
        return recorder


class _ApplicationRecorder:
    def create_recorder(self: Any) -> ApplicationRecorder:
        recorder = SQLApplicationRecorder(
            self.datastore(), events_table_name="stored_events"
        )
        recorder.create_table()
        return recorder


class _TrackingRecorder:
    def create_recorder(self: Any) -> TrackingRecorder:
        recorder = SQLTrackingRecorder(
            self.datastore(), tracking_table_name="notification_tracking"
        )
        recorder.create_table()
        return recorder


class _ProcessRecorder:
    def create_recorder(self: Any) -> ProcessRecorder:
        recorder = SQLProcessRecorder(
            self.datastore(),
            events_table_name="stored_events",
            tracking_table_name="notification_tracking",
        )
        recorder.create_table()
        return recorder


class _Subscribe:
    def test_insert_subscribe(self: Any) -> None:
        self.optional_test_insert_subscribe()


class _TextIds:
    """ORIGINATOR_ID_TYPE=text: ids are arbitrary strings, returned as given."""

    def new_originator_id(self) -> str:
        return f"account-{uuid4()}"

    def datastore(self, **kwargs: Any) -> Datastore:
        parent: Any = super()
        datastore: Datastore = parent.datastore(originator_id_type="text", **kwargs)
        return datastore


class MyTrackingRecorder(SQLTrackingRecorder):
    pass


class _Factory:
    def setUp(self: Any) -> None:
        self.database_url = self.create_database()
        self._datastores: list[Datastore] = []
        self.env = Environment(
            "TestCase",
            {
                "PERSISTENCE_MODULE": "thespsys.persistence",
                "DATABASE_URL": self.database_url,
            },
        )
        suites.InfrastructureFactoryTestCase.setUp(self)

    def expected_factory_class(self) -> type[SQLFactory]:
        return SQLFactory

    def expected_aggregate_recorder_class(self) -> type[AggregateRecorder]:
        return SQLAggregateRecorder

    def expected_application_recorder_class(self) -> type[ApplicationRecorder]:
        return SQLApplicationRecorder

    def expected_tracking_recorder_class(self) -> type[TrackingRecorder]:
        return SQLTrackingRecorder

    def tracking_recorder_subclass(self) -> type[TrackingRecorder]:
        return MyTrackingRecorder

    def expected_process_recorder_class(self) -> type[ProcessRecorder]:
        return SQLProcessRecorder


# SQLite file.


class TestSQLiteAggregateRecorder(
    _AggregateRecorder, SQLiteTestCase, suites.AggregateRecorderTestCase
):
    pass


class TestSQLiteApplicationRecorder(
    _ApplicationRecorder, _Subscribe, SQLiteTestCase, suites.ApplicationRecorderTestCase
):
    pass


class TestSQLiteApplicationRecorderTextIds(
    _TextIds, _ApplicationRecorder, SQLiteTestCase, suites.ApplicationRecorderTestCase
):
    pass


class TestSQLiteTrackingRecorder(
    _TrackingRecorder, SQLiteTestCase, suites.TrackingRecorderTestCase
):
    pass


class TestSQLiteProcessRecorder(
    _ProcessRecorder, SQLiteTestCase, suites.ProcessRecorderTestCase
):
    pass


class TestSQLiteNonInterleaving(
    _ApplicationRecorder, SQLiteTestCase, suites.NonInterleavingNotificationIDsBaseCase
):
    pass


class TestSQLiteFactory(
    _Factory, SQLiteTestCase, suites.InfrastructureFactoryTestCase[SQLFactory]
):
    pass


# PostgreSQL.


class TestPostgresAggregateRecorder(
    _AggregateRecorder, PostgresTestCase, suites.AggregateRecorderTestCase
):
    pass


class TestPostgresApplicationRecorder(
    _ApplicationRecorder,
    _Subscribe,
    PostgresTestCase,
    suites.ApplicationRecorderTestCase,
):
    pass


class TestPostgresApplicationRecorderTextIds(
    _TextIds,
    _ApplicationRecorder,
    PostgresTestCase,
    suites.ApplicationRecorderTestCase,
):
    pass


class TestPostgresTrackingRecorder(
    _TrackingRecorder, PostgresTestCase, suites.TrackingRecorderTestCase
):
    pass


class TestPostgresProcessRecorder(
    _ProcessRecorder, PostgresTestCase, suites.ProcessRecorderTestCase
):
    pass


class TestPostgresNonInterleaving(
    _ApplicationRecorder,
    PostgresTestCase,
    suites.NonInterleavingNotificationIDsBaseCase,
):
    pass


class TestPostgresFactory(
    _Factory, PostgresTestCase, suites.InfrastructureFactoryTestCase[SQLFactory]
):
    pass
