"""Applications that fail on purpose, driven by the text of the notes they get.

``FAULTS_DIR`` (from the env) holds marker files, so a fault can happen once,
or N times, across slave restarts.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.application import ProcessingEvent
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.system import System

from tests.runner.apps import Notes, Tallies


class Faulty(Tallies):
    """Counts notes like Tallies, but misbehaves when a note's text says so:

    - ``fail-always``: raises every time;
    - ``fail-times-N``: raises N times, then works;
    - ``hang-once``: blocks the first time (until killed);
    - ``exit-once``: kills its own process the first time.
    """

    def policy(
        self,
        domain_event: DomainEventProtocol[Any],
        processing_event: ProcessingEvent[Any],
    ) -> None:
        text = getattr(domain_event, "text", "")
        if text.startswith("fail-always"):
            msg = f"cannot process {text!r}"
            raise ValueError(msg)
        if text.startswith("fail-times-"):
            times = int(text.removeprefix("fail-times-").split(":")[0])
            if self._count_attempt(domain_event.originator_id) <= times:
                msg = f"failing {text!r} on purpose"
                raise ValueError(msg)
        if text.startswith("hang-once") and self._first_time(
            domain_event.originator_id
        ):
            time.sleep(3600)
        if text.startswith("exit-once") and self._first_time(
            domain_event.originator_id
        ):
            os._exit(3)
        super().policy(domain_event, processing_event)

    def _marker(self, originator_id: UUID) -> Path:
        return Path(self.env["FAULTS_DIR"]) / originator_id.hex

    def _first_time(self, originator_id: UUID) -> bool:
        marker = self._marker(originator_id)
        if marker.exists():
            return False
        marker.touch()
        return True

    def _count_attempt(self, originator_id: UUID) -> int:
        marker = self._marker(originator_id)
        count = int(marker.read_text() or 0) + 1 if marker.exists() else 1
        marker.write_text(str(count))
        return count


class BrokenInActors(Tallies):
    """Cannot be constructed anywhere but in the test's own process."""

    def __init__(self, env: Any = None) -> None:
        super().__init__(env)
        if os.getpid() != int(self.env["TEST_PID"]):
            msg = "BrokenInActors cannot start here"
            raise RuntimeError(msg)


# For the command line: --system tests.supervision.apps:notes_to_faulty
notes_to_faulty = System(pipes=[[Notes, Faulty]])
