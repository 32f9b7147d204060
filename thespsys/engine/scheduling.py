"""When a master asks its slave to run: prompts coalesced, one run at a time.

Prompts and poll ticks that arrive while a run is outstanding are folded into
one follow-up run, so a burst of prompts costs one run, not one per prompt,
and nothing that arrived during a run is missed. After a failure, runs are
held until the retry is due, whatever arrives meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class RunScheduler:
    busy: bool = False  # a run is outstanding
    pending: bool = False  # something arrived that the next run must see
    held: bool = False  # a run failed; wait for retry()

    def request(self) -> bool:
        """A prompt or poll tick: True if a run should be sent now."""
        if self.busy or self.held:
            self.pending = True
            return False
        self.busy = True
        self.pending = False
        return True

    def finished(self, *, more: bool) -> bool:
        """A run ended well: True if another should be sent now."""
        self.busy = False
        if more or self.pending:
            return self.request()
        return False

    def failed(self) -> None:
        """The run failed: hold further runs until ``retry()``."""
        self.busy = False
        self.held = True

    def retry(self) -> bool:
        """The hold after a failure is over: True if a run should be sent now."""
        if not self.held:
            return False
        self.held = False
        return self.request()

    def release(self) -> None:
        """End the hold without running now (there is no slave to run)."""
        self.held = False
        self.pending = True

    def interrupted(self) -> None:
        """The slave died: what it was doing must be done again."""
        self.busy = False
        self.pending = True
