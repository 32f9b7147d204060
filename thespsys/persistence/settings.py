"""Settings of the persistence module, read once from an eventsourcing Environment.

Every key may be given per application (``ORDERS_DATABASE_URL``) or for all
(``DATABASE_URL``), the eventsourcing way. Errors name the key that supplied the
bad value, or every key tried when a required value is missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, TypeVar

import sqlalchemy.exc as sa_exc
from eventsourcing.utils import Environment
from sqlalchemy.engine import URL, make_url

from thespsys.core.environment import lookup
from thespsys.core.parsing import from_text
from thespsys.errors import ConfigurationError

T = TypeVar("T", int, float)

DATABASE_URL = "DATABASE_URL"
CREATE_TABLE = "CREATE_TABLE"
ORIGINATOR_ID_TYPE = "ORIGINATOR_ID_TYPE"
DATABASE_POOL_SIZE = "DATABASE_POOL_SIZE"
DATABASE_MAX_OVERFLOW = "DATABASE_MAX_OVERFLOW"
DATABASE_POOL_TIMEOUT = "DATABASE_POOL_TIMEOUT"
DATABASE_CONNECT_TIMEOUT = "DATABASE_CONNECT_TIMEOUT"
DATABASE_BUSY_TIMEOUT = "DATABASE_BUSY_TIMEOUT"
DATABASE_NOTIFY = "DATABASE_NOTIFY"

# backend name -> the one driver we support for it (None: the dialect default).
SUPPORTED_DRIVERS = {"sqlite": "pysqlite", "postgresql": "psycopg2"}


@dataclass(frozen=True, slots=True)
class EngineOptions:
    """How engines connect and pool; part of the engine cache key."""

    pool_size: int = 5
    max_overflow: int = 10
    pool_timeout: float = 30.0
    connect_timeout: float = 5.0  # PostgreSQL: seconds to wait for a connection
    busy_timeout: float = 10.0  # SQLite: seconds to wait for the write lock
    # PostgreSQL: do inserts NOTIFY listeners (see schema)? Off for writers
    # that prompt the followers themselves.
    notify: bool = True


@dataclass(frozen=True, slots=True)
class StoreSettings:
    url: URL
    originator_id_type: Literal["uuid", "text"]
    engine_options: EngineOptions


def _number(env: Environment, key: str, default: T, kind: type[T]) -> T:
    found = lookup(env, key)
    if found is None or not found[1].strip():
        return default
    value = from_text(*found, kind)
    if value < 0:
        raise ConfigurationError(found[0], f"must not be negative, got {found[1]!r}")
    return value


def _flag(env: Environment, key: str, default: bool) -> bool:
    found = lookup(env, key)
    if found is None or not found[1].strip():
        return default
    return from_text(*found, bool)


def parse_database_url(text: str, setting: str) -> URL:
    """A SQLAlchemy URL for a SQLite file or PostgreSQL via psycopg2, or raise."""
    try:
        url = make_url(text.strip())
    except sa_exc.ArgumentError as error:
        msg = f"not a valid SQLAlchemy URL: {text!r} ({error})"
        raise ConfigurationError(setting, msg) from None
    backend = url.get_backend_name()
    if backend not in SUPPORTED_DRIVERS:
        msg = (
            f"unsupported database {backend!r} in {text!r}; "
            "use sqlite:///path/to/file.db or postgresql+psycopg2://user@host/db"
        )
        raise ConfigurationError(setting, msg)
    try:
        driver = url.get_dialect().driver
    except (sa_exc.NoSuchModuleError, ImportError) as error:
        msg = f"unknown database driver in {text!r} ({error})"
        raise ConfigurationError(setting, msg) from None
    if driver != SUPPORTED_DRIVERS[backend]:
        msg = (
            f"driver {driver!r} is not supported for {backend}; "
            f"use {backend}+{SUPPORTED_DRIVERS[backend]}"
        )
        raise ConfigurationError(setting, msg)
    if backend == "sqlite" and (
        not url.database or url.database == ":memory:" or "mode=memory" in text
    ):
        msg = (
            "SQLite needs a file (e.g. sqlite:///var/app.db): an in-memory "
            "database cannot be shared by the processes of a system"
        )
        raise ConfigurationError(setting, msg)
    return url


def create_table_enabled(env: Environment) -> bool:
    """``CREATE_TABLE`` (default yes): should recorders create their tables?"""
    found = lookup(env, CREATE_TABLE)
    if found is None or not found[1].strip():
        return True
    return from_text(*found, bool)


def read_settings(env: Environment) -> StoreSettings:
    """Validate and collect the settings; raise ConfigurationError on any fault."""
    found = lookup(env, DATABASE_URL)
    if found is None or not found[1].strip():
        keys = ", ".join(env.create_keys(DATABASE_URL))
        msg = f"no database URL is set (tried {keys})"
        raise ConfigurationError(DATABASE_URL, msg)
    url_setting, url_text = found
    url = parse_database_url(url_text, url_setting)
    create_table_enabled(env)  # validate it now, though it is read per recorder

    id_found = lookup(env, ORIGINATOR_ID_TYPE)
    id_type = (id_found[1] if id_found else "uuid").strip().lower() or "uuid"
    if id_type not in ("uuid", "text"):
        assert id_found is not None
        msg = f"must be 'uuid' or 'text', got {id_found[1]!r}"
        raise ConfigurationError(id_found[0], msg)

    defaults = EngineOptions()
    options = EngineOptions(
        pool_size=_number(env, DATABASE_POOL_SIZE, defaults.pool_size, int),
        max_overflow=_number(env, DATABASE_MAX_OVERFLOW, defaults.max_overflow, int),
        pool_timeout=_number(env, DATABASE_POOL_TIMEOUT, defaults.pool_timeout, float),
        connect_timeout=_number(
            env, DATABASE_CONNECT_TIMEOUT, defaults.connect_timeout, float
        ),
        busy_timeout=_number(env, DATABASE_BUSY_TIMEOUT, defaults.busy_timeout, float),
        notify=_flag(env, DATABASE_NOTIFY, defaults.notify),
    )
    return StoreSettings(
        url=url,
        originator_id_type="uuid" if id_type == "uuid" else "text",
        engine_options=options,
    )


def without_notify(application_name: str, env: Mapping[str, str]) -> dict[str, str]:
    """``env`` with this application's inserts sending no NOTIFY: for writers
    that prompt the followers themselves (the actors, the runner's
    applications). A setting the user gave for this application wins."""
    key = Environment(application_name).create_keys(DATABASE_NOTIFY)[0]
    return {key: "no", **env}
