"""How database errors map to eventsourcing's persistence errors.

Callers of a recorder only ever see ``eventsourcing.persistence`` exceptions
(``OperationalError`` for an unreachable server, ``IntegrityError`` for a
conflict, ...), each chained to the SQLAlchemy/DBAPI error that caused it.
``Datastore`` applies this to everything the recorders do.
"""

from __future__ import annotations

import sqlite3

import sqlalchemy.exc as sa_exc
from eventsourcing import persistence as es

try:
    import psycopg2
except ImportError:  # pragma: no cover - PostgreSQL support is optional
    DBAPI_ERRORS: tuple[type[Exception], ...] = (sqlite3.Error,)
else:
    DBAPI_ERRORS = (sqlite3.Error, psycopg2.Error)

# Most specific first: sqlalchemy's DBAPI error classes mirror PEP 249's tree.
_TRANSLATIONS: tuple[tuple[type[BaseException], type[es.PersistenceError]], ...] = (
    (sa_exc.IntegrityError, es.IntegrityError),
    (sa_exc.DataError, es.DataError),
    (sa_exc.OperationalError, es.OperationalError),
    (sa_exc.ProgrammingError, es.ProgrammingError),
    (sa_exc.InternalError, es.InternalError),
    (sa_exc.NotSupportedError, es.NotSupportedError),
    (sa_exc.DatabaseError, es.DatabaseError),
    (sa_exc.InterfaceError, es.InterfaceError),
    # Not DBAPI errors, but about reaching the database: pool exhausted, or a
    # connection found dead and not recoverable.
    (sa_exc.TimeoutError, es.OperationalError),
    (sa_exc.DisconnectionError, es.OperationalError),
    (sa_exc.SQLAlchemyError, es.PersistenceError),
)


# PEP 249 class names, for the DBAPI errors raised by the cursors the
# recorders use (the first match walking up the error's class hierarchy).
_PEP249_NAMES: dict[str, type[es.PersistenceError]] = {
    "IntegrityError": es.IntegrityError,
    "DataError": es.DataError,
    "OperationalError": es.OperationalError,
    "ProgrammingError": es.ProgrammingError,
    "InternalError": es.InternalError,
    "NotSupportedError": es.NotSupportedError,
    "DatabaseError": es.DatabaseError,
    "InterfaceError": es.InterfaceError,
}


def translate(error: BaseException) -> es.PersistenceError:
    """The eventsourcing exception matching a SQLAlchemy (or DBAPI) error."""
    if isinstance(error, sa_exc.SQLAlchemyError):
        for source, target in _TRANSLATIONS:
            if isinstance(error, source):
                return target(str(error))
    for cls in type(error).__mro__:
        named = _PEP249_NAMES.get(cls.__name__)
        if named is not None:
            return named(str(error))
    return es.PersistenceError(str(error))
