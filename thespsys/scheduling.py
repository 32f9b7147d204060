"""When a master asks its slave to run: prompts coalesced, one run at a time.

Prompts and poll ticks that arrive while a run is outstanding are folded into
one follow-up run, so a burst of prompts costs one run, not one per prompt,
and nothing that arrived during a run is missed.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class RunScheduler:
    busy: bool = False
    pending: bool = False

    def request(self) -> bool:
        """A prompt or poll tick: True if a run should be sent now."""
        if self.busy:
            self.pending = True
            return False
        self.busy = True
        return True

    def finished(self, *, more: bool) -> bool:
        """A run ended: True if another should be sent now."""
        self.busy = False
        if more or self.pending:
            self.pending = False
            self.busy = True
            return True
        return False

    def failed(self) -> None:
        """The run failed: hold further runs until ``retry()``."""
        self.busy = True
        self.pending = False

    def retry(self) -> bool:
        """The hold after a failure is over: run again now."""
        self.busy = True
        self.pending = False
        return True

    def interrupted(self) -> None:
        """The run was lost (slave died or failed): run again when possible."""
        self.busy = False
        self.pending = True
