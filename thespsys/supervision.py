"""Supervision as policy objects: backoff, restart limits, error policies.

Plain objects, so the decisions (restart now, later, or give up; retry, stop
or park) are unit-tested without any actor system.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from eventsourcing.utils import Environment

from thespsys.environment import lookup
from thespsys.errors import ConfigurationError
from thespsys.parsing import from_text

K = TypeVar("K")


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential delays: ``initial``, doubling per attempt, capped at ``maximum``."""

    initial: float = 0.1
    maximum: float = 10.0

    def delay(self, attempt: int) -> float:
        """The delay before attempt ``attempt`` (1 for the first retry)."""
        return min(self.initial * 2.0 ** max(attempt - 1, 0), self.maximum)


@dataclass(frozen=True, slots=True)
class RestartPolicy:
    """Restart with backoff; give up after ``max_restarts`` restarts within
    ``within_seconds``."""

    max_restarts: int = 10
    within_seconds: float = 60.0
    backoff: Backoff = Backoff(initial=0.05, maximum=5.0)


@dataclass(slots=True)
class RestartTracker:
    """Counts restarts in a sliding window and says when to restart."""

    policy: RestartPolicy
    restarts: int = 0
    _recent: deque[float] = field(default_factory=deque)

    def next_delay(self, now: float) -> float | None:
        """Seconds to wait before restarting, or None to give up."""
        while self._recent and self._recent[0] <= now - self.policy.within_seconds:
            self._recent.popleft()
        if len(self._recent) >= self.policy.max_restarts:
            return None
        self._recent.append(now)
        self.restarts += 1
        return self.policy.backoff.delay(len(self._recent))


class SupervisedChildren(Generic[K]):
    """A supervisor's children by key, each with its own restart tracker."""

    def __init__(self, policy: RestartPolicy) -> None:
        self.policy = policy
        self._addresses: dict[K, Any] = {}
        self._trackers: dict[K, RestartTracker] = {}

    def started(self, key: K, address: Any) -> None:
        self._addresses[key] = address
        self._trackers.setdefault(key, RestartTracker(self.policy))

    def __getitem__(self, key: K) -> Any:
        return self._addresses[key]

    def __contains__(self, key: object) -> bool:
        return key in self._addresses

    def addresses(self) -> list[Any]:
        return list(self._addresses.values())

    def restarts(self, key: K) -> int:
        return self._trackers[key].restarts

    def exited(self, address: Any, now: float) -> tuple[K, float | None] | None:
        """Which child exited, and the seconds to wait before restarting it
        (None: give up); None if the address is not one of these children."""
        for key, child in self._addresses.items():
            if child == address:
                return key, self._trackers[key].next_delay(now)
        return None


class ErrorPolicy(enum.Enum):
    """What a master does when a policy raises on a notification."""

    RETRY = "retry"  # keep retrying with backoff, visibly
    STOP = "stop"  # report the error and stop processing this application
    PARK = "park"  # after N attempts, move it (and its originator's later ones) aside


@dataclass(frozen=True, slots=True)
class ErrorHandling:
    policy: ErrorPolicy = ErrorPolicy.RETRY
    park_after: int = 3
    backoff: Backoff = Backoff()

    ERROR_POLICY = "ERROR_POLICY"
    PARK_AFTER_ATTEMPTS = "PARK_AFTER_ATTEMPTS"
    RETRY_BACKOFF_INITIAL = "RETRY_BACKOFF_INITIAL"
    RETRY_BACKOFF_MAX = "RETRY_BACKOFF_MAX"

    @classmethod
    def from_env(cls, application_name: str, env: Mapping[str, str]) -> ErrorHandling:
        """Read ``ERROR_POLICY`` and friends, per application the eventsourcing
        way (``ORDERS_ERROR_POLICY`` before ``ERROR_POLICY``)."""
        settings = Environment(application_name, dict(env))

        def setting(key: str, default: str) -> tuple[str, str]:
            return lookup(settings, key) or (key, default)

        name, value = setting(cls.ERROR_POLICY, "retry")
        try:
            policy = ErrorPolicy(value.strip().lower())
        except ValueError:
            choices = ", ".join(p.value for p in ErrorPolicy)
            raise ConfigurationError(
                name, f"{value!r} is not one of {choices}"
            ) from None
        name, value = setting(cls.PARK_AFTER_ATTEMPTS, "3")
        park_after = from_text(name, value, int)
        if park_after < 1:
            raise ConfigurationError(name, "must be at least 1")
        initial = from_text(*setting(cls.RETRY_BACKOFF_INITIAL, "0.1"), float)
        maximum = from_text(*setting(cls.RETRY_BACKOFF_MAX, "10"), float)
        if not 0 < initial <= maximum:
            raise ConfigurationError(
                cls.RETRY_BACKOFF_INITIAL, "must be positive and not above the maximum"
            )
        return cls(policy, park_after, Backoff(initial, maximum))
