"""eventsourcing persistence on SQLAlchemy Core: SQLite files and PostgreSQL (psycopg2).

Use it with ``PERSISTENCE_MODULE=thespsys.persistence`` and a ``DATABASE_URL``
(``sqlite:///var/app.db`` or ``postgresql+psycopg2://user@host/db``); like every
setting it can be given per application (``ORDERS_DATABASE_URL``). Other
settings: ``CREATE_TABLE`` (default yes), ``ORIGINATOR_ID_TYPE`` (``uuid`` or
``text``), ``DATABASE_POOL_SIZE`` (5), ``DATABASE_MAX_OVERFLOW`` (10),
``DATABASE_POOL_TIMEOUT`` (30 s), ``DATABASE_CONNECT_TIMEOUT`` (PostgreSQL, 5 s),
``DATABASE_BUSY_TIMEOUT`` (SQLite, 10 s), ``DATABASE_NOTIFY`` (PostgreSQL,
yes: inserts into events tables NOTIFY ``thespsys_events``; see ``schema``
and ``changes``).

Guarantees, and what they cost:

* **Readers never skip an event.** Notification ids become visible in id
  order. On PostgreSQL each transaction that inserts events takes
  ``LOCK TABLE <app>_events IN EXCLUSIVE MODE`` right before its INSERT (in
  the same round trip). The lock does not block readers (they take ACCESS
  SHARE), but it serialises the writers of one application's table from the
  INSERT to the COMMIT, so ids are drawn and committed one transaction at a
  time: once a reader has seen id N, no id below N can still appear. The
  cost: concurrent writers of one application no longer overlap their
  commits. Measured on a 2-core machine with a local PostgreSQL 15 (fsync
  on): a single writer is unaffected (~1,800 transactions/s); four writers
  of one-event transactions reach ~2,400 transactions/s instead of ~3,700;
  four writers of 100-event batches ~55,000 events/s instead of ~80,000.
  Batching amortises the lock, and different applications (tables) do not
  contend. On SQLite all writers of a database are serialised by
  ``BEGIN IMMEDIATE`` anyway.
* **Exactly-once tracking.** Recording a position is a guarded upsert in the
  database (see ``thespsys.persistence.tracking``); of two writers racing for
  one position exactly one commits, the other gets ``IntegrityError``.
* **Only eventsourcing errors.** Every database error reaches the caller as the
  matching ``eventsourcing.persistence`` exception (``OperationalError`` for
  an unreachable server), chained to its cause.
* **Partitions.** Events carry ``slice = thespsys.core.partitions.slice_of(
  originator_id)``; ``select_notifications(..., slices=range)`` and
  ``max_notification_id(slices=range)`` filter on it in the database, using
  the (slice, id) index.
* **Speed.** Statements are built with SQLAlchemy Core and compiled once per
  recorder; they run on pooled DBAPI connections (see ``datastore``), a batch
  of events is one INSERT, and on PostgreSQL BEGIN and the table lock travel
  with the first statements. ``scripts/benchmark_store.py`` compares this with
  ``eventsourcing.sqlite`` and ``eventsourcing.postgres``.

``subscribe()`` polls (every 0.1 s, at once after writes through the same
recorder). ``dispose_engines()`` closes this process's pooled connections.
"""

from thespsys.persistence.aggregate import SQLAggregateRecorder, SQLRecorder
from thespsys.persistence.application import SQLApplicationRecorder
from thespsys.persistence.datastore import Datastore
from thespsys.persistence.engines import dispose_engines
from thespsys.persistence.factory import SQLFactory
from thespsys.persistence.subscription import PollingSubscription
from thespsys.persistence.tracking import SQLProcessRecorder, SQLTrackingRecorder

# eventsourcing resolves PERSISTENCE_MODULE to this module and needs exactly one
# InfrastructureFactory subclass in it: SQLFactory. Import no other.
__all__ = [
    "Datastore",
    "PollingSubscription",
    "SQLAggregateRecorder",
    "SQLApplicationRecorder",
    "SQLFactory",
    "SQLProcessRecorder",
    "SQLRecorder",
    "SQLTrackingRecorder",
    "dispose_engines",
]
