"""Databases for unittest-style persistence tests: a SQLite file or a fresh PG DB."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any
from unittest import TestCase

from tests.support.databases import create_postgres_database, drop_postgres_database
from thespsys.persistence import Datastore, dispose_engines


class DatabaseTestCase(TestCase):
    """Gives each test ``self.database_url`` and ``self.datastore()``; cleans up."""

    database_url: str

    def setUp(self) -> None:
        self._datastores: list[Datastore] = []
        self.database_url = self.create_database()
        super().setUp()

    def tearDown(self) -> None:
        try:
            super().tearDown()
        finally:
            for datastore in self._datastores:
                datastore.close()
            dispose_engines()
            self.drop_database()

    def datastore(self, **kwargs: Any) -> Datastore:
        datastore = Datastore(self.database_url, **kwargs)
        self._datastores.append(datastore)
        return datastore

    def create_database(self) -> str:
        raise NotImplementedError

    def drop_database(self) -> None:
        raise NotImplementedError


class SQLiteTestCase(DatabaseTestCase):
    def create_database(self) -> str:
        self._tmp = tempfile.TemporaryDirectory(prefix="thespsys-")
        return f"sqlite:///{Path(self._tmp.name) / 'test.db'}"

    def drop_database(self) -> None:
        self._tmp.cleanup()


class PostgresTestCase(DatabaseTestCase):
    def create_database(self) -> str:
        return create_postgres_database()

    def drop_database(self) -> None:
        drop_postgres_database(self.database_url)
