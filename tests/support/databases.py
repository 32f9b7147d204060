"""Throwaway PostgreSQL databases, for tests and for the benchmark scripts.

PostgreSQL is found at ``THESPSYS_TEST_POSTGRES_URL`` (an SQLAlchemy URL of a
database we may connect to in order to create others; default: the local
server's ``postgres`` database as user ``postgres``). Where it cannot be
reached, PostgreSQL tests skip, except when ``CI`` or
``THESPSYS_TEST_REQUIRE_POSTGRES`` is set: then they fail.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy.engine import make_url

from thespsys.persistence import dispose_engines

DEFAULT_ADMIN_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
TRUE_WORDS = {"1", "true", "yes", "y", "on"}


def postgres_admin_url() -> str:
    return os.environ.get("THESPSYS_TEST_POSTGRES_URL", DEFAULT_ADMIN_URL)


def postgres_required() -> bool:
    return any(
        os.environ.get(name, "").strip().lower() in TRUE_WORDS
        for name in ("CI", "THESPSYS_TEST_REQUIRE_POSTGRES")
    )


@functools.cache
def postgres_unavailable_reason() -> str | None:
    engine = sqlalchemy.create_engine(
        postgres_admin_url(), connect_args={"connect_timeout": 5}
    )
    try:
        with engine.connect() as connection:
            connection.execute(sqlalchemy.text("SELECT 1"))
    except sqlalchemy.exc.SQLAlchemyError as error:
        return f"PostgreSQL at {postgres_admin_url()} is not reachable: {error}"
    finally:
        engine.dispose()
    return None


def require_postgres() -> None:
    """Skip the calling test when PostgreSQL is missing, or fail under CI."""
    reason = postgres_unavailable_reason()
    if reason is None:
        return
    if postgres_required():
        pytest.fail(f"{reason} (PostgreSQL is required here)", pytrace=False)
    pytest.skip(reason)


def _admin_execute(statement: str, admin_url: str) -> None:
    engine = sqlalchemy.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(sqlalchemy.text(statement))
    finally:
        engine.dispose()


def new_postgres_database(admin_url: str) -> str:
    """Create an empty database on ``admin_url``'s server; its SQLAlchemy URL."""
    name = f"thespsys_test_{uuid.uuid4().hex[:16]}"
    _admin_execute(f'CREATE DATABASE "{name}" TEMPLATE template0', admin_url)
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def create_postgres_database() -> str:
    """A new empty database for a test (which skips, or fails under CI,
    without a server)."""
    require_postgres()
    return new_postgres_database(postgres_admin_url())


def drop_postgres_database(url: str, admin_url: str | None = None) -> None:
    name = make_url(url).database
    _admin_execute(
        f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
        admin_url or postgres_admin_url(),
    )


@contextmanager
def temporary_postgres_database(admin_url: str | None = None) -> Iterator[str]:
    """A new database for the ``with`` block: on ``admin_url``'s server (for
    scripts), or the test server's."""
    url = new_postgres_database(admin_url) if admin_url else create_postgres_database()
    try:
        yield url
    finally:
        dispose_engines()
        drop_postgres_database(url, admin_url)


@contextmanager
def fresh_database(admin_url: str | None, sqlite_path: Path) -> Iterator[str]:
    """For scripts: a new PostgreSQL database on ``admin_url``'s server, or,
    without one, the SQLite file ``sqlite_path``."""
    if admin_url is None:
        yield f"sqlite:///{sqlite_path}"
    else:
        with temporary_postgres_database(admin_url) as url:
            yield url


def eventsourcing_store_env(url: str) -> dict[str, str]:
    """The env for eventsourcing's own store (``eventsourcing.sqlite`` or
    ``eventsourcing.postgres``) on the database at ``url``: the baseline the
    benchmarks compare thespsys.persistence with."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(parsed.database),
        }
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": parsed.database or "",
        "POSTGRES_HOST": parsed.host or "127.0.0.1",
        "POSTGRES_PORT": str(parsed.port or 5432),
        "POSTGRES_USER": parsed.username or "postgres",
        "POSTGRES_PASSWORD": parsed.password or "",
    }
