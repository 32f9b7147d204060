"""A kill storm: SIGKILL random slaves and masters of a running system."""

from __future__ import annotations

import os
import random
import signal
import threading
from types import TracebackType

from thespsys.core.processes import wait_for
from thespsys.errors import ActorTimeoutError
from thespsys.runner import ThespianRunner


class Killer(threading.Thread):
    """SIGKILLs a random slave every ``interval`` s, and every fifth time a master."""

    def __init__(self, runner: ThespianRunner, interval: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.runner = runner
        self.interval = interval
        self.stopping = threading.Event()
        self.killed = {"slave": 0, "master": 0}
        self.slow_status = 0
        self.random = random.Random(1)

    def run(self) -> None:
        round_number = 0
        while not self.stopping.wait(self.interval):
            round_number += 1
            kind = "master" if round_number % 5 == 0 else "slave"
            try:
                statuses = self.runner.status()
            except ActorTimeoutError:
                # Two cores saturated by the system and the kills: the actors
                # may answer late. Kill the next time round.
                self.slow_status += 1
                continue
            pids = [
                getattr(status, f"{kind}_pid")
                for status in statuses
                if getattr(status, f"{kind}_pid")
            ]
            if pids:
                try:
                    os.kill(self.random.choice(pids), signal.SIGKILL)
                    self.killed[kind] += 1
                except ProcessLookupError:
                    pass

    def kept_up_until(self, slaves: int, masters: int, timeout: float) -> bool:
        """Go on killing until this many were killed, or the timeout passes."""
        return wait_for(
            lambda: self.killed["slave"] >= slaves and self.killed["master"] >= masters,
            timeout,
        )

    def __enter__(self) -> Killer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        self.stopping.set()
        self.join()
