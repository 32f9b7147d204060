"""A soak: steady load on a running system, and what an operator watches.

``Soak(runner, command, rate)`` calls ``command()`` ``rate`` times a second from
a thread of its own, calls ``runner.status()`` every ``status_interval`` seconds
from another (timing each call), as a dashboard would, and every ``interval``
seconds takes a ``Sample``: memory (PSS) and file descriptors of every actor
process by kind, database connections, lag, and the messages the actors
received, as counted by ``thespsys.actors.message_counts`` (which must be switched on
before the runner starts). ``SoakReport`` judges the samples: memory growth
per process after a warm-up, status() latency.

The test suite runs a short soak; ``scripts/soak.py`` runs one for as long as
an operator likes and prints a table row per interval (``TABLE_HEADER``,
``Sample.row()``).
"""

from __future__ import annotations

import logging
import os
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy
from sqlalchemy.engine import make_url

from thespsys.actors.message_counts import read_counts
from thespsys.core.processes import KINDS, actor_processes, memory_kib, open_fds
from thespsys.runner import ThespianRunner

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Sample:
    elapsed: float
    commands: int  # calls of command() so far
    events: int  # notification ids recorded so far, all applications
    behind: int  # notification ids the followers are behind, in all
    pss_kib: dict[int, int]  # by actor process
    rss_kib: dict[int, int]  # by actor process
    kinds: dict[int, str]  # by actor process
    fds: int  # open, all actor processes together
    db_connections: int | None
    system_actor_messages: int  # received and sent by the SystemActor so far
    actor_messages: int  # received by all actors so far
    status_seconds: tuple[float, ...]  # status() calls since the last sample

    def pss_by_kind(self) -> dict[str, int]:
        """The largest PSS of any process of each kind, KiB."""
        largest: dict[str, int] = {}
        for pid, kib in self.pss_kib.items():
            kind = self.kinds[pid]
            largest[kind] = max(largest.get(kind, 0), kib)
        return largest

    def row(self, previous: Sample | None) -> str:
        """One line of the table under ``TABLE_HEADER``: rates since ``previous``."""
        span = self.elapsed - (previous.elapsed if previous else 0.0) or 1e-9
        events = self.events - (previous.events if previous else 0)
        messages = self.actor_messages - (previous.actor_messages if previous else 0)
        system = self.system_actor_messages - (
            previous.system_actor_messages if previous else 0
        )
        pss = self.pss_by_kind()
        status = percentile(self.status_seconds, 99) * 1000
        return (
            f"{self.elapsed:6.0f} {self.commands:8d} {events / span:7.0f} "
            f"{self.behind:6d} {system / span:7.1f} "
            f"{(messages / events) if events else 0.0:7.2f} {status:7.0f} "
            + " ".join(f"{pss.get(kind, 0) / 1024:6.1f}" for kind in KINDS)
            + f" {self.fds:5d} {self._connections():>5}"
        )

    def _connections(self) -> str:
        return "-" if self.db_connections is None else str(self.db_connections)


TABLE_HEADER = (
    f"{'s':>6} {'commands':>8} {'ev/s':>7} {'behind':>6} {'sys m/s':>7} "
    f"{'msg/ev':>7} {'st p99':>7} "
    + " ".join(f"{kind[:6]:>6}" for kind in KINDS)
    + f" {'fds':>5} {'conns':>5}"
    + "\n"
    + " " * 53
    + "(ms)  largest PSS of one process of each kind, MB"
)


def percentile(values: tuple[float, ...] | list[float], pct: float) -> float:
    """The ``pct`` percentile (nearest rank); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


@dataclass
class SoakReport:
    samples: list[Sample] = field(default_factory=list)
    status_failures: int = 0

    def status_seconds(self) -> list[float]:
        return [s for sample in self.samples for s in sample.status_seconds]

    def memory_growth_kib(
        self, warm_up: float, measure: str = "pss"
    ) -> dict[int, tuple[str, int]]:
        """PSS (or RSS) growth of each actor process over the samples after the
        first ``warm_up`` share of the run: the mean of the last quarter of
        those samples less the mean of the first quarter (which evens out the
        allocator's ups and downs). Processes that were not there for the whole
        window (restarted) are left out."""
        window = self.samples[int(len(self.samples) * warm_up) :]
        quarter = max(1, len(window) // 4)
        growth = {}
        for pid, kind in window[0].kinds.items():
            series = [getattr(sample, f"{measure}_kib").get(pid) for sample in window]
            if any(kib is None for kib in series):
                continue
            values = [kib for kib in series if kib is not None]
            first = statistics.mean(values[:quarter])
            last = statistics.mean(values[-quarter:])
            growth[pid] = (kind, round(last - first))
        return growth

    def summary(self, warm_up: float) -> str:
        """Memory growth by kind, status() latency and message cost, in words."""
        lines = []
        for measure in ("pss", "rss"):
            growth: dict[str, list[int]] = {}
            for kind, kib in self.memory_growth_kib(warm_up, measure).values():
                growth.setdefault(kind, []).append(kib)
            lines.append(
                f"{measure.upper()} growth after the first {warm_up:.0%} "
                "(KiB, per process): "
                + ", ".join(
                    f"{kind} {min(values)}..{max(values)}"
                    for kind, values in sorted(growth.items())
                )
            )
        latencies = self.status_seconds()
        return "\n".join(
            [
                *lines,
                f"status(): {len(latencies)} calls, p50 "
                f"{percentile(latencies, 50) * 1000:.1f} ms, p99 "
                f"{percentile(latencies, 99) * 1000:.1f} ms, max "
                f"{max(latencies, default=0.0) * 1000:.1f} ms, "
                f"{self.status_failures} failed",
                f"actor messages per recorded event: "
                f"{self.messages_per_event(warm_up):.2f}",
            ]
        )

    def messages_per_event(self, warm_up: float) -> float:
        """Actor messages received per notification id recorded, after the
        warm-up."""
        first, last = self.samples[int(len(self.samples) * warm_up)], self.samples[-1]
        events = last.events - first.events
        return (last.actor_messages - first.actor_messages) / events if events else 0.0


class Soak:
    def __init__(
        self,
        runner: ThespianRunner,
        command: Callable[[], object],
        rate: float,
        counts_dir: Path,
        database_url: str,
        status_interval: float = 0.5,
    ) -> None:
        self.runner = runner
        self.command = command
        self.rate = rate
        self.counts_dir = counts_dir
        self.database_url = database_url
        self.status_interval = status_interval
        self.commands = 0
        self.report = SoakReport()
        self._status: list[float] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def run(
        self, duration: float, interval: float, on_sample: Callable[[Sample], Any]
    ) -> SoakReport:
        """Load and sample for ``duration`` seconds; ``on_sample`` sees each
        sample as it is taken."""
        threads = [
            threading.Thread(target=self._load, name="soak-load", daemon=True),
            threading.Thread(target=self._probe, name="soak-status", daemon=True),
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        try:
            for number in range(1, int(duration / interval) + 1):
                self._stop.wait(
                    max(0.0, started + number * interval - time.monotonic())
                )
                sample = self._sample(time.monotonic() - started)
                self.report.samples.append(sample)
                on_sample(sample)
        finally:
            self._stop.set()
            for thread in threads:
                thread.join(timeout=30)
        return self.report

    def _load(self) -> None:
        started = time.monotonic()
        while not self._stop.is_set():
            due = started + self.commands / self.rate
            if self._stop.wait(max(0.0, due - time.monotonic())):
                return
            self.command()
            self.commands += 1

    def _probe(self) -> None:
        while not self._stop.wait(self.status_interval):
            began = time.perf_counter()
            try:
                self.runner.status()
            except Exception:
                log.exception("status() failed during the soak")
                self.report.status_failures += 1
                continue
            with self._lock:
                self._status.append(time.perf_counter() - began)

    def _sample(self, elapsed: float) -> Sample:
        assert self.runner.pgid is not None
        kinds = actor_processes(self.runner.pgid)
        memory = {pid: memory_kib(pid) for pid in kinds}
        pss = {pid: each["Pss"] for pid, each in memory.items() if "Pss" in each}
        rss = {pid: each["Rss"] for pid, each in memory.items() if "Rss" in each}
        counts = read_counts(self.counts_dir)
        with self._lock:
            status, self._status = tuple(self._status), []
        return Sample(
            elapsed=elapsed,
            commands=self.commands,
            events=sum(
                self.runner.get(
                    self.runner.system.get_app_cls(name)
                ).recorder.max_notification_id()
                or 0
                for name in self.runner.system.nodes
            ),
            behind=sum(lag.behind for lag in self.runner.lags()),
            pss_kib=pss,
            rss_kib=rss,
            kinds={pid: kind for pid, kind in kinds.items() if pid in pss},
            fds=sum(open_fds(pid) or 0 for pid in kinds),
            db_connections=database_connections(
                self.database_url, [*kinds, os.getpid()]
            ),
            system_actor_messages=sum(
                sum(each.received.values()) + sum(each.sent.values())
                for each in counts
                if each.actor == "SystemActor"
            ),
            actor_messages=sum(sum(each.received.values()) for each in counts),
            status_seconds=status,
        )


def database_connections(url: str, pids: list[int]) -> int | None:
    """Connections to the database: on PostgreSQL, its sessions but this one;
    on a SQLite file, the descriptors that ``pids`` have open on it."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = os.path.realpath(parsed.database or "")
        return sum(_opened(pid, path) for pid in pids)
    if parsed.get_backend_name() != "postgresql":
        return None
    engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
    try:
        with engine.connect() as connection:
            count = connection.execute(
                sqlalchemy.text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).scalar_one()
        return int(count)
    finally:
        engine.dispose()


def _opened(pid: int, path: str) -> int:
    try:
        links = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
    except OSError:
        return 0
    return links.count(path)


def thespian_log_count(path: Path, text: str) -> int:
    """Lines with ``text`` in Thespian's own log (``THESPLOG_FILE``), with the
    part it has rotated away to ``.old``."""
    found = 0
    for each in (path, path.with_name(path.name + ".old")):
        try:
            found += sum(text in line for line in each.read_text().splitlines())
        except OSError:
            continue
    return found
