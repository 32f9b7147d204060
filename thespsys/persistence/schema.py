"""Table definitions, and creating them safely when many processes start at once.

Stored events: ``id`` (the notification id; an identity column on PostgreSQL,
the rowid on SQLite: events are never deleted, so a committed id is never
reused, and without ``AUTOINCREMENT`` a commit writes one page less),
``originator_id`` (text), ``originator_version``, ``topic``, ``state`` and
``slice`` (see ``thespsys.core.partitions``), unique on (originator_id,
originator_version), indexed on (slice, id) for partitioned readers.
Snapshots and other aggregate-only tables have no id or slice. Tracking: one
row per upstream application (per partition). A process application also has
dead letters and partitionings (one row per leader).

On PostgreSQL an events table has a trigger that sends, in the inserting
transaction, ``NOTIFY thespsys_events, '<table>:<slice>,<slice>,...'`` once
per INSERT statement (so on commit, and never for a rolled-back insert), for
listeners that wake followers (``thespsys.persistence.changes``). It covers
every writer of the table, whatever its code. A session with
``thespsys.notify = off`` (``DATABASE_NOTIFY=no``) sends none: writers that
tell the followers themselves.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.schema import CreateIndex, CreateTable

from thespsys.persistence.datastore import Datastore
from thespsys.persistence.naming import (
    CHANGES_CHANNEL,
    NOTIFY_SETTING,
    advisory_lock_key,
    safe_identifier,
)

logger = logging.getLogger(__name__)

NOTIFIES = "thespsys.notifies"  # Table.info key: the table gets the trigger
NOTIFY_FUNCTION = "thespsys_notify_events"

_CREATE_NOTIFY_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {NOTIFY_FUNCTION}() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('{NOTIFY_SETTING}', true) IS DISTINCT FROM 'off' THEN
    PERFORM pg_notify('{CHANGES_CHANNEL}', TG_TABLE_NAME || ':' ||
      (SELECT string_agg(DISTINCT slice::text, ',') FROM new_rows));
  END IF;
  RETURN NULL;
END $$
"""


def notify_trigger_name(table_name: str) -> str:
    return safe_identifier(table_name, "_notify")


def _create_notify_trigger(datastore: Datastore, table_name: str) -> str:
    quote = datastore.quote_table
    return (
        f"CREATE TRIGGER {quote(notify_trigger_name(table_name))} AFTER INSERT ON "
        f"{quote(table_name)} REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
        f"EXECUTE FUNCTION {NOTIFY_FUNCTION}()"
    )


def _identity(name: str) -> Column[int]:
    """An id drawn by the database: an identity on PostgreSQL, the rowid on
    SQLite."""
    return Column(
        name,
        BigInteger().with_variant(Integer(), "sqlite"),
        Identity(),
        primary_key=True,
    )


def events_table(name: str) -> Table:
    """An application's stored events, with notification ids and slices."""
    return Table(
        name,
        MetaData(),
        _identity("id"),
        Column("originator_id", Text, nullable=False),
        Column("originator_version", BigInteger, nullable=False),
        Column("topic", Text, nullable=False),
        Column("state", LargeBinary, nullable=False),
        Column("slice", SmallInteger, nullable=False),
        PrimaryKeyConstraint("id", name=safe_identifier(name, "_pkey")),
        UniqueConstraint(
            "originator_id",
            "originator_version",
            name=safe_identifier(name, "_version_key"),
        ),
        Index(safe_identifier(name, "_slice_id_idx"), "slice", "id"),
        info={NOTIFIES: True},
    )


def snapshots_table(name: str) -> Table:
    """An aggregate recorder's table (snapshots): no notification ids."""
    return Table(
        name,
        MetaData(),
        Column("originator_id", Text, nullable=False),
        Column("originator_version", BigInteger, nullable=False),
        Column("topic", Text, nullable=False),
        Column("state", LargeBinary, nullable=False),
        PrimaryKeyConstraint(
            "originator_id",
            "originator_version",
            name=safe_identifier(name, "_pkey"),
        ),
    )


def tracking_table(name: str) -> Table:
    """The last processed notification id of each upstream application."""
    return Table(
        name,
        MetaData(),
        Column("application_name", Text, nullable=False),
        Column("notification_id", BigInteger, nullable=False),
        PrimaryKeyConstraint("application_name", name=safe_identifier(name, "_pkey")),
    )


def dead_letters_table(name: str) -> Table:
    """Notifications a process application set aside (see ``dead_letters``)."""
    return Table(
        name,
        MetaData(),
        _identity("id"),
        Column("tracking_name", Text, nullable=False),
        Column("notification_id", BigInteger, nullable=False),
        Column("originator_id", Text, nullable=False),
        Column("originator_version", BigInteger, nullable=False),
        Column("topic", Text, nullable=False),
        Column("error", Text, nullable=False),
        Column("traceback", Text, nullable=False),
        Column("attempts", Integer, nullable=False),
        Column("parked_at", Float, nullable=False),
        Column("status", Text, nullable=False),
        Column("resolved_at", Float, nullable=True),
        PrimaryKeyConstraint("id", name=safe_identifier(name, "_pkey")),
        UniqueConstraint(
            "tracking_name",
            "notification_id",
            name=safe_identifier(name, "_position_key"),
        ),
        Index(
            safe_identifier(name, "_status_idx"),
            "status",
            "tracking_name",
            "originator_id",
        ),
        sqlite_autoincrement=True,
    )


def partitionings_table(name: str) -> Table:
    """The partition count in force per leader, and the watermarks of
    earlier counts (see ``thespsys.engine.rescaling``)."""
    return Table(
        name,
        MetaData(),
        Column("leader_name", Text, nullable=False),
        Column("partition_count", Integer, nullable=False),
        Column("watermarks", Text, nullable=False),
        PrimaryKeyConstraint("leader_name", name=safe_identifier(name, "_pkey")),
    )


_EXISTING_TRIGGERS = (
    "SELECT t.tgname FROM pg_catalog.pg_trigger t"
    " JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid"
    " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
    " WHERE n.nspname = current_schema() AND t.tgname = ANY(%(names)s)"
)

_EXISTING_RELATIONS = (
    "SELECT c.relname FROM pg_catalog.pg_class c"
    " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
    " WHERE n.nspname = current_schema() AND c.relname = ANY(%(names)s)"
)


def create_tables(datastore: Datastore, tables: Sequence[Table]) -> None:
    """Create ``tables`` and their indexes if missing; idempotent and race-safe.

    PostgreSQL: ``CREATE ... IF NOT EXISTS`` alone can still fail when two
    sessions create the same table at once (duplicate catalog rows), so the
    DDL runs under transaction-scoped advisory locks keyed by table name. When
    everything exists already nothing is locked, so starting an application
    never waits for the writers of a live one. SQLite: the DDL runs in a
    ``BEGIN IMMEDIATE`` transaction, which serialises it.
    """
    names = [t.name for t in tables] + [str(i.name) for t in tables for i in t.indexes]
    notifying = [t.name for t in tables if t.info.get(NOTIFIES)]
    triggers = [notify_trigger_name(name) for name in notifying]
    if datastore.is_postgres:
        with datastore.read() as cursor:
            cursor.execute(_EXISTING_RELATIONS, {"names": names})
            relations_exist = {row[0] for row in cursor.fetchall()}.issuperset(names)
            cursor.execute(_EXISTING_TRIGGERS, {"names": triggers})
            if relations_exist and len(cursor.fetchall()) == len(triggers):
                return
    statements = []
    for table in tables:
        statements.append(datastore.compile(CreateTable(table, if_not_exists=True)))
        statements.extend(
            datastore.compile(CreateIndex(index, if_not_exists=True))
            for index in sorted(table.indexes, key=lambda i: str(i.name))
        )
    with datastore.write() as cursor:
        if datastore.is_postgres:
            locked = {t.name for t in tables} | (
                {NOTIFY_FUNCTION} if notifying else set()
            )
            for key in sorted({advisory_lock_key(name) for name in locked}):
                cursor.execute("SELECT pg_advisory_xact_lock(%(key)s)", {"key": key})
        for statement in statements:
            cursor.execute(statement)
        if datastore.is_postgres and notifying:
            _ensure_notify_triggers(cursor, datastore, notifying)
    logger.debug("ensured tables %s", ", ".join(t.name for t in tables))


def _ensure_notify_triggers(
    cursor: Any, datastore: Datastore, names: list[str]
) -> None:
    """The function (shared by every table, under its own advisory lock) and
    each table's trigger, if missing: tables created before triggers existed
    get theirs here."""
    cursor.execute(_CREATE_NOTIFY_FUNCTION)
    triggers = [notify_trigger_name(name) for name in names]
    cursor.execute(_EXISTING_TRIGGERS, {"names": triggers})
    existing = {row[0] for row in cursor.fetchall()}
    for name in names:
        if notify_trigger_name(name) not in existing:
            cursor.execute(_create_notify_trigger(datastore, name))
