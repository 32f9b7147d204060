"""Throwaway databases for tests: a SQLite file, or a fresh PostgreSQL database.

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

import pytest
import sqlalchemy
from sqlalchemy.engine import make_url

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


def _admin_execute(statement: str) -> None:
    engine = sqlalchemy.create_engine(
        postgres_admin_url(), isolation_level="AUTOCOMMIT"
    )
    try:
        with engine.connect() as connection:
            connection.execute(sqlalchemy.text(statement))
    finally:
        engine.dispose()


def create_postgres_database() -> str:
    """Create an empty database and return its SQLAlchemy URL."""
    require_postgres()
    name = f"thespsys_test_{uuid.uuid4().hex[:16]}"
    _admin_execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    return (
        make_url(postgres_admin_url())
        .set(database=name)
        .render_as_string(hide_password=False)
    )


def drop_postgres_database(url: str) -> None:
    name = make_url(url).database
    _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def temporary_postgres_database() -> Iterator[str]:
    url = create_postgres_database()
    try:
        yield url
    finally:
        drop_postgres_database(url)
