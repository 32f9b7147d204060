"""``runner.status()``: what each application does in each pipeline.

The actors' side (state, restarts, last error) comes from the SystemActor's
table, which masters keep current; positions and heads come from the database.
One ask and a few indexed queries: cheap enough to call every second.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

from thespsys.core.partitions import Partition
from thespsys.core.states import ProcessState
from thespsys.engine.lags import Lag


@dataclass(frozen=True, slots=True)
class ProcessStatus:
    """What a master says of its application in its pipeline."""

    application_name: str
    pipeline_id: int
    state: ProcessState
    restarts: int = 0
    last_error: str | None = None
    last_traceback: str | None = None
    master_pid: int | None = None
    slave_pid: int | None = None
    # The original exception's own message (``last_error`` adds its type and
    # where it happened): what eventsourcing's EventProcessingError says.
    last_error_message: str | None = None
    attempts: int = 0  # failed runs in a row while retrying
    retry_in: float | None = None  # the backoff before the next attempt


@dataclass(frozen=True, slots=True)
class ApplicationStatus:
    application_name: str
    pipeline_id: int
    state: ProcessState
    restarts: int
    last_error: str | None
    last_traceback: str | None
    lags: tuple[Lag, ...]
    parked: int
    master_pid: int | None
    slave_pid: int | None
    partition: Partition | None = None  # of the slices, in the count in force
    rescaling: bool = False  # still passing what an earlier count processed
    last_error_message: str | None = None  # the original exception's message
    attempts: int = 0  # failed runs in a row while retrying
    retry_in: float | None = None  # the backoff before the next attempt

    @property
    def behind(self) -> int:
        """Notification ids between the positions and the heads, all leaders."""
        return sum(lag.behind for lag in self.lags)

    @property
    def is_failed(self) -> bool:
        return self.state == ProcessState.FAILED

    @property
    def is_retrying(self) -> bool:
        return self.state == ProcessState.RETRYING


def combine(
    processes: Sequence[ProcessStatus],
    lags: Sequence[Lag],
    parked: Mapping[tuple[str, int], int],
    partitions: Mapping[int, Partition],
    rescaling: Collection[tuple[str, int]] = (),
) -> list[ApplicationStatus]:
    rows = []
    for process in sorted(processes, key=lambda p: (p.application_name, p.pipeline_id)):
        key = (process.application_name, process.pipeline_id)
        state = process.state
        if state == ProcessState.RUNNING and parked.get(key):
            state = ProcessState.PARKED
        rows.append(
            ApplicationStatus(
                application_name=process.application_name,
                pipeline_id=process.pipeline_id,
                state=state,
                restarts=process.restarts,
                last_error=process.last_error,
                last_traceback=process.last_traceback,
                lags=tuple(
                    lag for lag in lags if (lag.follower, lag.pipeline_id) == key
                ),
                parked=parked.get(key, 0),
                master_pid=process.master_pid,
                slave_pid=process.slave_pid,
                partition=partitions.get(process.pipeline_id),
                rescaling=key in rescaling,
                last_error_message=process.last_error_message,
                attempts=process.attempts,
                retry_in=process.retry_in,
            )
        )
    return rows


class ErrorFlag:
    """``MultiThreadedRunner.has_errored`` for code written against it, read
    from the statuses: ``is_set()`` once an application has failed,
    ``wait(timeout)`` until one does (True) or the time is up (False)."""

    def __init__(
        self, statuses: Callable[[], Sequence[ApplicationStatus]], interval: float = 0.1
    ) -> None:
        self._statuses = statuses
        self._interval = interval

    def is_set(self) -> bool:
        return any(status.is_failed for status in self._statuses())

    def wait(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.is_set():
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(self._interval)
        return True
