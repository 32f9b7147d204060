"""The processes of an actor system: find them, measure them, wait for them,
end them.

Thespian's admin ``setsid()``s, so all processes of one actor system share a
process group, which outlives the script that started it. These helpers read
``/proc`` (Linux), the one place that lists a group's members.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)


# An actor system's process tree, by depth: the admin forks Thespian's logger
# and the SystemActor; the SystemActor forks the pipelines and the change
# watcher, the pipelines the masters, the masters the slaves.
KINDS = ("admin", "logger", "system", "watcher", "pipeline", "master", "slave")


def processes_in_group(pgid: int) -> list[int]:
    return list(_parents_in_group(pgid))


def _parents_in_group(pgid: int) -> dict[int, int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the command: state, ppid, pgrp, ...; zombies are gone already.
        if int(fields[2]) == pgid and fields[0] != "Z":
            parents[int(entry.name)] = int(fields[1])
    return parents


def actor_processes(pgid: int) -> dict[int, str]:
    """Each live process of an actor system, with its kind (one of ``KINDS``),
    told by its place in the process tree (so a SystemActor that has no
    pipelines yet passes for the logger, and a pipeline that has no masters
    yet for the watcher)."""
    parents = _parents_in_group(pgid)
    children: dict[int, list[int]] = {}
    for pid, parent in parents.items():
        children.setdefault(parent, []).append(pid)
    by_depth = ("admin", "system", "pipeline", "master", "slave")
    kinds: dict[int, str] = {}
    level = [pid for pid, parent in parents.items() if parent not in parents]
    depth = 0
    while level:
        kinds.update((pid, by_depth[min(depth, len(by_depth) - 1)]) for pid in level)
        level = [child for pid in level for child in children.get(pid, ())]
        if depth == 0:  # the admin's children: the logger has none of its own
            kinds.update((pid, "logger") for pid in level if pid not in children)
            level = [pid for pid in level if pid in children]
        depth += 1
    for pid, kind in kinds.items():
        if kind == "pipeline" and pid not in children:  # the only childless one
            kinds[pid] = "watcher"
    return kinds


def memory_kib(pid: int) -> dict[str, int]:
    """A process's memory from ``/proc/<pid>/smaps_rollup``, KiB by field:
    ``Rss``, ``Pss`` (its own pages plus its share of the pages it shares, with
    the processes it was forked from, say), ``Private_Dirty``, ...; empty if
    the process is gone."""
    fields = {}
    try:
        lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    except OSError:
        return {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if value.strip().endswith("kB"):
            fields[name] = int(value.split()[0])
    return fields


def pss_kib(pid: int) -> int | None:
    return memory_kib(pid).get("Pss")


def open_fds(pid: int) -> int | None:
    try:
        return len(list(Path(f"/proc/{pid}/fd").iterdir()))
    except OSError:
        return None


def wait_for(
    condition: Callable[[], bool], timeout: float, interval: float = 0.02
) -> bool:
    """True as soon as ``condition()`` holds; False once ``timeout`` passed."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
    return True


def end_process_group(pgid: int, grace: float) -> list[int]:
    """Wait ``grace`` s for a process group to end, then SIGKILL what is left.

    Returns the pids that had to be killed.
    """
    if pgid == os.getpgid(0):
        return []  # Never kill our own group.
    if wait_for(lambda: not processes_in_group(pgid), grace):
        return []
    left = processes_in_group(pgid)
    kinds = actor_processes(pgid)
    log.warning(
        "actor processes %s outlived shutdown; killing them",
        ", ".join(f"{pid} ({kinds.get(pid, 'unknown')})" for pid in left),
    )
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        return []
    wait_for(lambda: not processes_in_group(pgid), 5.0)
    return left


def process_alive(pid: int) -> bool:
    """Running, not a zombie (one that nobody reaped is dead all the same)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def die_with_parent() -> None:
    """Have the kernel SIGKILL this process when its parent dies (Linux).

    An actor whose supervisor was killed would otherwise live on, orphaned,
    beside the replacement its restarted supervisor creates.
    """
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        log.debug("prctl(PR_SET_PDEATHSIG) is not available here")
        return
    # The parent may have died between the fork and the prctl: the signal that
    # was armed too late is sent here.
    parent = multiprocessing.parent_process()
    if parent is not None and os.getppid() != parent.pid:
        os.kill(os.getpid(), signal.SIGKILL)


def _read_boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return f"process-{os.getpid()}-{time.time_ns()}"


# Whose time.monotonic() a moment was read on: this machine since its boot (or,
# where that cannot be known, this process only). Moments of two clocks do not
# compare.
MONOTONIC_CLOCK = _read_boot_id()
