"""Restart bookkeeping for supervisors: when to restart a child, or give up."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from thespsys.core.supervision import RestartPolicy

K = TypeVar("K")


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
