"""The processes of an actor system: find them, wait for them, end them.

Thespian's admin ``setsid()``s, so all processes of one actor system share a
process group, which outlives the script that started it. These helpers read
``/proc`` (Linux), the one place that lists a group's members.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)


def processes_in_group(pgid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the command: state, ppid, pgrp, ...; zombies are gone already.
        if int(fields[2]) == pgid and fields[0] != "Z":
            pids.append(int(entry.name))
    return pids


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
    log.warning("actor processes %s outlived shutdown; killing them", left)
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
