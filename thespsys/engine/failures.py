"""What a master does when its slave's run fails: restart, retry, stop or park.

The decision and the attempt counting, as a plain object: the master applies
what ``decide()`` says. Attempts are counted per notification; a run that
succeeds starts the count afresh.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from thespsys.core.states import FailureKind
from thespsys.core.supervision import ErrorHandling, ErrorPolicy


@dataclass(frozen=True, slots=True)
class ParkOrder:
    """Move this notification to the dead letters before processing more."""

    tracking_name: str
    notification_id: int
    attempts: int
    error: str
    traceback: str


class Action(enum.Enum):
    RESTART = "restart"  # the slave could not start; it exits and is restarted
    RETRY = "retry"  # run again after ``delay`` (with ``park``, parking first)
    STOP = "stop"  # mark the application failed


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    delay: float = 0.0
    attempts: int = 1  # failed attempts so far at this notification (or database)


@dataclass(slots=True)
class FailureDecider:
    errors: ErrorHandling = field(default_factory=ErrorHandling)
    park: ParkOrder | None = None  # to send with the next run
    _attempts: dict[tuple[str, int], int] = field(default_factory=dict)
    _database_failures: int = 0

    def succeeded(self) -> None:
        """A run went through: the failures so far are over."""
        self._attempts.clear()
        self._database_failures = 0
        self.park = None

    def decide(
        self,
        kind: FailureKind,
        error: str,
        traceback: str,
        tracking_name: str | None = None,
        notification_id: int | None = None,
    ) -> Decision:
        if kind is FailureKind.START:
            return Decision(Action.RESTART)
        if kind is FailureKind.DATABASE:
            self._database_failures += 1
            return Decision(
                Action.RETRY,
                self.errors.backoff.delay(self._database_failures),
                self._database_failures,
            )
        assert tracking_name is not None and notification_id is not None
        key = (tracking_name, notification_id)
        attempts = self._attempts[key] = self._attempts.get(key, 0) + 1
        if self.errors.policy is ErrorPolicy.STOP:
            return Decision(Action.STOP, attempts=attempts)
        if (
            self.errors.policy is ErrorPolicy.PARK
            and attempts >= self.errors.park_after
        ):
            self.park = ParkOrder(*key, attempts, error, traceback)
            return Decision(Action.RETRY, attempts=attempts)
        return Decision(Action.RETRY, self.errors.backoff.delay(attempts), attempts)
