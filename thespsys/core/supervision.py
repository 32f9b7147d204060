"""Supervision as policy objects: backoff, restart limits, error policies.

Plain objects, so the decisions (restart now, later, or give up; retry, stop
or park) are unit-tested without any actor system.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

from eventsourcing.utils import Environment

from thespsys.core.environment import lookup
from thespsys.core.parsing import from_text
from thespsys.errors import ConfigurationError

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
