from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.databases import temporary_postgres_database


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test (dropped afterwards)."""
    with temporary_postgres_database() as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file of this test's own."""
    return f"sqlite:///{tmp_path / 'thespsys.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each test using this runs once on a SQLite file and once on PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def store_env(database_url: str) -> dict[str, str]:
    """Settings that put every application of a system on the test database."""
    return {"PERSISTENCE_MODULE": "thespsys.persistence", "DATABASE_URL": database_url}


@pytest.fixture
def faults_env(store_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """The test database, a folder for the Faulty application's markers, and
    short retry delays."""
    faults = tmp_path / "faults"
    faults.mkdir()
    return {
        **store_env,
        "FAULTS_DIR": str(faults),
        "TEST_PID": str(os.getpid()),
        "RETRY_BACKOFF_INITIAL": "0.05",
        "RETRY_BACKOFF_MAX": "0.2",
    }
