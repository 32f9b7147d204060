"""Start a ThespianRunner for a test and prove at teardown that nothing is left."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eventsourcing.system import EventProcessingError

from thespsys.actors.thespian_adapter import port_accepts_connections
from thespsys.core.processes import processes_in_group, wait_for
from thespsys.runner import ThespianRunner


def assert_actor_system_gone(pgid: int | None, port: int | None) -> None:
    if pgid is not None:
        assert processes_in_group(pgid) == [], f"actor processes left in group {pgid}"
    if port is not None:
        assert not port_accepts_connections(port), f"port {port} still accepts"


@contextmanager
def running(
    system: Any, env: dict[str, str], **kwargs: Any
) -> Iterator[ThespianRunner]:
    runner = ThespianRunner(system, env=env, **kwargs)
    runner.start()
    pgid, port = runner.pgid, runner.admin_port
    try:
        yield runner
    finally:
        runner.stop()
        assert_actor_system_gone(pgid, port)


@dataclass
class StopOutcome:
    error: BaseException | None = None


@contextmanager
def running_until_failure(
    system: Any, env: dict[str, str], **kwargs: Any
) -> Iterator[tuple[ThespianRunner, StopOutcome]]:
    """Like ``running``, for tests in which an application fails: ``stop()``
    must then raise, and that error lands in the outcome. A failed assertion
    in the body is never hidden behind it."""
    runner = ThespianRunner(system, env=env, **kwargs)
    runner.start()
    pgid, port = runner.pgid, runner.admin_port
    outcome = StopOutcome()
    try:
        yield runner, outcome
    except BaseException:
        with contextlib.suppress(EventProcessingError):
            runner.stop()
        raise
    else:
        try:
            runner.stop()
        except EventProcessingError as error:
            outcome.error = error
        else:
            raise AssertionError("stop() did not re-raise the application's failure")
    finally:
        assert_actor_system_gone(pgid, port)


def listening_addresses(pgid: int) -> set[tuple[str, int]]:
    """(address, port) of every TCP socket listening in the process group."""
    inodes: set[str] = set()
    for pid in processes_in_group(pgid):
        fd_dir = Path(f"/proc/{pid}/fd")
        try:
            links = [os.readlink(fd) for fd in fd_dir.iterdir()]
        except OSError:
            continue
        inodes.update(link[8:-1] for link in links if link.startswith("socket:["))
    addresses = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and inode in inodes:
                host_hex, port_hex = local.split(":")
                if len(host_hex) == 8:
                    host = ".".join(
                        str(int(host_hex[i : i + 2], 16)) for i in (6, 4, 2, 0)
                    )
                else:
                    host = host_hex
                addresses.add((host, int(port_hex, 16)))
    return addresses


def status_of(runner: ThespianRunner, name: str, pipeline_id: int = 0) -> Any:
    for status in runner.status():
        if (status.application_name, status.pipeline_id) == (name, pipeline_id):
            return status
    raise AssertionError(f"no status for {name} in pipeline {pipeline_id}")


def wait_for_status(
    runner: ThespianRunner, name: str, condition: Any, timeout: float = 30.0
) -> Any:
    """Poll ``runner.status()`` until ``condition(status)`` holds, or fail."""
    seen = []

    def check() -> bool:
        status = status_of(runner, name)
        seen.append(status)
        return bool(condition(status))

    if not wait_for(check, timeout, interval=0.05):
        raise AssertionError(f"status of {name} never matched; last: {seen[-1]}")
    return seen[-1]
