"""A long-lived system seen from any process: start it detached, find it, close it.

The process that owns an actor system (``thespsys run``, or a script holding a
``ThespianRunner``) records it in a state file under its data directory
(``thespsys.state_file``). Other processes find it there: ``status`` joins it
for a moment; ``close`` asks the owner to stop (SIGTERM: it finishes the
current transactions, stops the actors and ends the actor system) and waits
until every process of the system is gone and its port is free.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from thespsys.actors.thespian_adapter import (
    ActorSystemHandle,
    listen_on,
    port_accepts_connections,
)
from thespsys.core.processes import processes_in_group, wait_for
from thespsys.core.secret import resolve_secret
from thespsys.errors import (
    ActorSystemError,
    AlreadyRunningError,
    ConfigurationError,
    DetachedStartError,
    NotRunningError,
    StopTimeoutError,
)
from thespsys.state_file import SystemRecord, read_record, remove_record

log = logging.getLogger(__name__)

LOG_FILE_NAME = "thespsys.log"


def is_running(record: SystemRecord) -> bool:
    return record.owner_alive or bool(processes_in_group(record.pgid))


def find_system(data_dir: Path) -> SystemRecord:
    """The record of the system running on ``data_dir``, or ``NotRunningError``."""
    record = read_record(data_dir)
    if record is None:
        raise NotRunningError(data_dir)
    if not is_running(record):
        raise NotRunningError(data_dir, stale=record)
    return record


def claim_data_dir(data_dir: Path) -> SystemRecord | None:
    """Before starting: refuse if a system runs on ``data_dir``; remove a stale
    record (returned, so that the caller can say so)."""
    record = read_record(data_dir)
    if record is None:
        return None
    if is_running(record):
        raise AlreadyRunningError(data_dir, record)
    remove_record(data_dir)
    return record


def close_system(data_dir: Path, timeout: float = 30.0, *, force: bool = False) -> None:
    """End the system running on ``data_dir``: every process, the port free."""
    record = find_system(data_dir)
    if record.owner_alive and record.pid != os.getpid():
        os.kill(record.pid, signal.SIGTERM)
    elif port_accepts_connections(record.admin_port):
        _shut_down_actor_system(record)
    if not wait_for(lambda: _ended(record), timeout, interval=0.05):
        if not force:
            raise StopTimeoutError(
                f"the system (process {record.pid}, group {record.pgid}) did not "
                f"end within {timeout:g} s; --force ends its processes"
            )
        _kill(record)
    remove_record(data_dir, record.pid)


def _ended(record: SystemRecord) -> bool:
    return (
        not record.owner_alive
        and not processes_in_group(record.pgid)
        and not port_accepts_connections(record.admin_port)
    )


def _shut_down_actor_system(record: SystemRecord) -> None:
    """The owner is gone but the actors are not: shut them down by the port."""
    listen_on()
    try:
        secret = (
            resolve_secret(os.environ, record.secret_file, create=False)
            if record.authenticated
            else None
        )
        ActorSystemHandle.join("multiprocTCPBase", record.admin_port, secret).shutdown()
    except (ActorSystemError, ConfigurationError) as error:
        log.warning("could not shut the actor system down: %s", error)


def _kill(record: SystemRecord) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(record.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(record.pgid, signal.SIGKILL)
    if not wait_for(lambda: _ended(record), 10.0, interval=0.05):
        raise StopTimeoutError(
            f"processes of group {record.pgid} survived SIGKILL: "
            f"{processes_in_group(record.pgid)}"
        )


def start_detached(
    run_arguments: Sequence[str], data_dir: Path, log_file: Path, timeout: float
) -> SystemRecord:
    """Run ``python -m thespsys run ...`` in a session of its own, logging to
    ``log_file``; return its record once it runs, or raise with the last line
    it wrote (its error) if it ends first."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log_output:
        owner = subprocess.Popen(
            [sys.executable, "-m", "thespsys", "run", *run_arguments],
            stdin=subprocess.DEVNULL,
            stdout=log_output,
            stderr=log_output,
            start_new_session=True,
            close_fds=True,
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = read_record(data_dir)
        if record is not None and record.pid == owner.pid:
            return record
        code = owner.poll()
        if code is not None:
            raise DetachedStartError(code, _last_error_line(log_file))
        time.sleep(0.05)
    owner.terminate()
    raise DetachedStartError(
        None, f"the system did not report running within {timeout:g} s"
    )


def _last_error_line(log_file: Path) -> str:
    lines = [
        line
        for line in log_file.read_text(errors="replace").splitlines()
        if line.strip()
    ]
    errors = [line for line in lines if line.startswith("thespsys: error:")]
    if errors:
        return errors[-1].removeprefix("thespsys: error:").strip()
    return lines[-1] if lines else f"it ended without a word; see {log_file}"


class RunningSystem:
    """A long-lived system found by its data directory, from any process."""

    def __init__(self, data_dir: Path, record: SystemRecord) -> None:
        self.data_dir = data_dir
        self.record = record

    @property
    def admin_port(self) -> int:
        return self.record.admin_port

    @property
    def pid(self) -> int:
        """The owner's: the process that runs the actor system."""
        return self.record.pid

    def is_running(self) -> bool:
        return is_running(self.record)

    def close(self, timeout: float = 30.0, *, force: bool = False) -> None:
        """End the system: the owner stops it (finishing the transactions in
        progress); return once every process is gone and the port is free."""
        close_system(self.data_dir, timeout, force=force)


def attach(data_dir: Path | str) -> RunningSystem:
    """The system running on ``data_dir``, or ``NotRunningError``."""
    path = Path(data_dir).resolve()
    return RunningSystem(path, find_system(path))


def start_system(
    system: str,
    data_dir: Path | str,
    *,
    config: Path | str | None = None,
    pipelines: int | None = None,
    database_url: str | None = None,
    admin_port: int | None = None,
    log_file: Path | str | None = None,
    log_level: str | None = None,
    timeout: float = 70.0,
) -> RunningSystem:
    """Start ``system`` (``package.module:attribute``) detached: it outlives
    the caller, until ``close()`` (from any process) or ``thespsys stop``.
    It logs to ``log_file`` (default ``<data_dir>/thespsys.log``). Returns once
    every application runs; raises ``AlreadyRunningError`` or
    ``DetachedStartError`` (with the system's own error) otherwise."""
    path = Path(data_dir).resolve()
    claim_data_dir(path)
    log_path = Path(log_file).resolve() if log_file else path / LOG_FILE_NAME
    flags: dict[str, object] = {
        "--system": system,
        "--data-dir": path,
        "--log-file": log_path,
        "--log-level": log_level,
        "--config": Path(config).resolve() if config is not None else None,
        "--pipelines": pipelines,
        "--database-url": database_url,
        "--admin-port": admin_port,
    }
    arguments = [
        part
        for flag, value in flags.items()
        if value is not None
        for part in (flag, str(value))
    ]
    return RunningSystem(path, start_detached(arguments, path, log_path, timeout))
