"""Which leaders recorded new events, whoever wrote them: the change feeds of a
system's databases, kept open, and reopened when they break.

A leader on ``thespsys.persistence`` is watched through its database's
change feed (``thespsys.persistence.changes``), one per database for the
whole system. A leader on another persistence module is not watched: its
followers see other processes' writes at their masters' next poll.

A broken feed is logged (a warning, once per outage) and reopened with
backoff; whenever a feed opens, every leader on it counts as changed, since
writes made before went unseen. Meanwhile the masters' poll timer still
processes everything, only later.
"""

from __future__ import annotations

import logging
import select
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from eventsourcing.persistence import OperationalError
from eventsourcing.system import System
from eventsourcing.utils import Environment
from sqlalchemy.engine import URL

from thespsys.core.capabilities import THESPSYS_STORE
from thespsys.persistence.changes import ChangeFeed, open_change_feed
from thespsys.persistence.naming import events_table_name
from thespsys.persistence.settings import read_settings

log = logging.getLogger(__name__)

REOPEN_INITIAL = 0.1
REOPEN_MAX = 5.0


@dataclass(frozen=True, slots=True)
class WatchedLeader:
    name: str
    url: URL
    table: str
    connect_timeout: float


def watched_leaders(
    system: System, env: Mapping[str, str]
) -> tuple[list[WatchedLeader], list[str]]:
    """The leaders that can be watched, and the names of those that cannot."""
    watched, unwatched = [], []
    for name in system.leaders:
        app_env = Environment(name, env)
        if app_env.get("PERSISTENCE_MODULE") != THESPSYS_STORE:
            unwatched.append(name)
            continue
        settings = read_settings(app_env)
        watched.append(
            WatchedLeader(
                name,
                settings.url,
                events_table_name(name),
                settings.engine_options.connect_timeout,
            )
        )
    return watched, unwatched


@dataclass
class _Database:
    url: URL
    leaders: dict[str, str]  # table -> leader name
    connect_timeout: float
    feed: ChangeFeed | None = None
    reopen_at: float = 0.0
    delay: float = REOPEN_INITIAL
    broken: bool = False


class ChangeWatch:
    """``poll(now)``: leader name -> slices of its new events (empty: any)."""

    def __init__(self, leaders: Iterable[WatchedLeader], *, with_slices: bool) -> None:
        self._with_slices = with_slices
        self._databases: dict[str, _Database] = {}
        for leader in leaders:
            key = leader.url.render_as_string(hide_password=False)
            database = self._databases.setdefault(
                key, _Database(leader.url, {}, leader.connect_timeout)
            )
            database.leaders[leader.table] = leader.name

    @property
    def is_empty(self) -> bool:
        return not self._databases

    def poll(self, now: float) -> dict[str, set[int]]:
        changed: dict[str, set[int]] = {}
        for database in self._databases.values():
            if database.feed is None:
                if not self._open(database, now):
                    continue
                if database.broken:
                    database.broken = False
                    database.delay = REOPEN_INITIAL
                    log.warning(
                        "change feed on %r is back; waking the followers of %s",
                        database.url,
                        ", ".join(sorted(database.leaders.values())),
                    )
                # What was written before it opened went unseen (while it was
                # down, or while this watcher was being restarted).
                for name in database.leaders.values():
                    changed[name] = set()
            assert database.feed is not None
            try:
                changes = database.feed.poll()
            except OperationalError as error:
                self._lost(database, now, str(error))
                continue
            for table, slices in changes.items():
                changed.setdefault(database.leaders[table], set()).update(slices)
        return changed

    def wait(self, timeout: float, poll_interval: float) -> dict[str, set[int]]:
        """``poll()`` until there are changes or ``timeout`` has passed:
        sleeping on the feeds' sockets where all have one (PostgreSQL: woken
        by the server at once), else looking every ``poll_interval``."""
        deadline = time.monotonic() + timeout
        while True:
            now = time.monotonic()
            changed = self.poll(now)
            if changed or now >= deadline:
                return changed
            sockets = [
                database.feed.fileno() if database.feed is not None else None
                for database in self._databases.values()
            ]
            remaining = deadline - now
            readable = [each for each in sockets if each is not None]
            if len(readable) < len(sockets):
                time.sleep(min(poll_interval, remaining))
            else:
                select.select(readable, [], [], remaining)

    def _open(self, database: _Database, now: float) -> bool:
        if now < database.reopen_at:
            return False
        try:
            database.feed = open_change_feed(
                database.url,
                database.leaders,
                with_slices=self._with_slices,
                connect_timeout=database.connect_timeout,
            )
        except OperationalError as error:
            self._lost(database, now, str(error))
            return False
        return True

    def _lost(self, database: _Database, now: float, error: str) -> None:
        if database.feed is not None:
            database.feed.close()
            database.feed = None
        if not database.broken:
            log.warning(
                "no change feed on %r (%s): followers of %s see writes from "
                "other processes only at their next poll until it is back; "
                "retrying",
                database.url,
                error,
                ", ".join(sorted(database.leaders.values())),
            )
            database.broken = True
        else:
            log.debug("change feed on %r still down: %s", database.url, error)
        database.reopen_at = now + database.delay
        database.delay = min(database.delay * 2, REOPEN_MAX)

    def close(self) -> None:
        for database in self._databases.values():
            if database.feed is not None:
                database.feed.close()
                database.feed = None
