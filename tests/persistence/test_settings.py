"""Settings are validated when the factory is constructed, naming the bad key."""

from __future__ import annotations

import pytest
from eventsourcing.application import Application
from eventsourcing.utils import Environment

from thespsys.errors import ConfigurationError
from thespsys.persistence import SQLFactory
from thespsys.persistence.settings import EngineOptions, read_settings

BAD_URLS = [
    "mysql://user@host/db",
    "nonsense",
    "nonsense://host/db",  # a scheme SQLAlchemy has no dialect for
    "postgresql+nodriver://user@host/db",
    "postgresql+psycopg://user@host/db",  # psycopg 3: not the supported driver
    "sqlite://",
    "sqlite:///:memory:",
]


@pytest.mark.parametrize("url", BAD_URLS)
def test_bad_database_url(url: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        SQLFactory(Environment("Orders", {"DATABASE_URL": url}))
    assert raised.value.setting == "DATABASE_URL"
    assert "DATABASE_URL" in str(raised.value)


def test_bad_per_application_url_names_its_key() -> None:
    env = {
        "ORDERS_DATABASE_URL": "mysql://user@host/db",
        "DATABASE_URL": "sqlite:///x.db",
    }
    with pytest.raises(ConfigurationError) as raised:
        SQLFactory(Environment("Orders", env))
    assert raised.value.setting == "ORDERS_DATABASE_URL"
    assert str(raised.value).startswith("ORDERS_DATABASE_URL: ")


def test_missing_url_names_the_keys_tried() -> None:
    with pytest.raises(ConfigurationError) as raised:
        SQLFactory(Environment("Orders", {}))
    assert raised.value.setting == "DATABASE_URL"
    assert "ORDERS_DATABASE_URL, DATABASE_URL" in str(raised.value)


def test_application_with_bad_url_fails_at_construction() -> None:
    env = {"PERSISTENCE_MODULE": "thespsys.persistence", "DATABASE_URL": "nonsense"}
    with pytest.raises(ConfigurationError):
        Application(env=env)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("DATABASE_POOL_SIZE", "many"),
        ("DATABASE_MAX_OVERFLOW", "-1"),
        ("DATABASE_CONNECT_TIMEOUT", "soon"),
        ("DATABASE_BUSY_TIMEOUT", "x"),
        ("ORIGINATOR_ID_TYPE", "int"),
        ("CREATE_TABLE", "perhaps"),
    ],
)
def test_bad_other_settings(key: str, value: str) -> None:
    env = {"DATABASE_URL": "sqlite:///x.db", f"ORDERS_{key}": value}
    with pytest.raises(ConfigurationError) as raised:
        SQLFactory(Environment("Orders", env))
    assert raised.value.setting == f"ORDERS_{key}"


def test_settings_are_read() -> None:
    env = Environment(
        "Orders",
        {
            "DATABASE_URL": "postgresql://app@db.example/orders",
            "ORDERS_DATABASE_POOL_SIZE": "2",
            "DATABASE_MAX_OVERFLOW": "0",
            "DATABASE_POOL_TIMEOUT": "1.5",
            "DATABASE_CONNECT_TIMEOUT": "2",
            "DATABASE_BUSY_TIMEOUT": "0.5",
            "ORIGINATOR_ID_TYPE": "text",
        },
    )
    settings = read_settings(env)
    assert settings.url.drivername == "postgresql"
    assert settings.originator_id_type == "text"
    assert settings.engine_options == EngineOptions(
        pool_size=2,
        max_overflow=0,
        pool_timeout=1.5,
        connect_timeout=2.0,
        busy_timeout=0.5,
    )
