"""Every error thespsys raises: one root, context carried as attributes.

```
ThespsysError
├── ConfigurationError        a setting is missing or malformed: fix it
│   └── RescaleRefusedError   the pipeline count cannot change safely yet
├── RunnerStartError          the actor system did not come up (cause attached)
├── RunnerNotStartedError     start() the runner first
├── ApplicationNotInSystemError  get() of a class the system does not hold
├── ActorSystemError          the actor system cannot be started or reached
│   ├── ActorTimeoutError     an actor did not answer in time
│   └── AuthenticationError   the actor system holds another secret, or none
├── UnauthenticatedMessageError  an actor message without a valid MAC (logged)
├── ApplicationFailedError    an application stopped processing (``status``)
├── CatchUpTimeoutError       followers still behind at a deadline (``lags``)
├── NotificationError         processing one notification raised (in status)
├── WriteConflictError        a notification kept conflicting with other writers
├── NotRunningError           no system runs on this data directory
├── AlreadyRunningError       a system runs on this data directory already
├── DetachedStartError        a detached start ended before the system ran
└── StopTimeoutError          a system did not end in time (force ends it)
```

Database errors are eventsourcing's own (``eventsourcing.persistence``), and
processing errors reach the user as eventsourcing's ``EventProcessingError``,
caused by ``ApplicationFailedError``, as with eventsourcing's runners.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from thespsys.engine.lags import Lag
    from thespsys.engine.status import ApplicationStatus
    from thespsys.state_file import SystemRecord


class ThespsysError(Exception):
    """Root of every error raised by thespsys itself."""


class ConfigurationError(ThespsysError, ValueError):
    """A setting is missing or malformed; ``setting`` names it (and where it
    came from, when that was a file or a variable)."""

    def __init__(self, setting: str, message: str) -> None:
        super().__init__(f"{setting}: {message}")
        self.setting = setting


class RescaleRefusedError(ConfigurationError):
    """The pipeline count cannot be changed safely as things stand; the
    message says what was recorded, what was asked and what to do."""

    def __init__(self, follower_name: str, message: str) -> None:
        super().__init__("pipeline_ids", f"{follower_name}: {message}")
        self.follower_name = follower_name


class RunnerStartError(ThespsysError):
    """The actor system did not come up; the cause is attached."""


class RunnerNotStartedError(ThespsysError):
    """The runner must be started first."""


class ApplicationNotInSystemError(ThespsysError, KeyError):
    """``get()`` of an application class the system does not hold; a
    ``KeyError`` too, as eventsourcing's runners raise."""

    def __init__(self, name: str, names: Sequence[str]) -> None:
        super().__init__(
            f"{name} is not an application of this system "
            f"(it has {', '.join(sorted(names))})"
        )
        self.name = name

    def __str__(self) -> str:  # KeyError's own would show the message quoted
        return str(self.args[0])


class ActorSystemError(ThespsysError):
    """The actor system could not be started, reached or shut down."""


class ActorTimeoutError(ActorSystemError):
    """An actor did not answer in time; ``request`` is what was asked."""

    def __init__(self, request: object, timeout: float) -> None:
        super().__init__(f"no answer to {type(request).__name__} within {timeout:g} s")
        self.request = request
        self.timeout = timeout


class AuthenticationError(ActorSystemError):
    """The actor system at ``port`` refuses this process's messages (another
    secret), or does not authenticate at all while this process does."""

    def __init__(self, port: int, message: str) -> None:
        super().__init__(f"the actor system at admin port {port} {message}")
        self.port = port


class UnauthenticatedMessageError(ThespsysError, ValueError):
    """An actor message that must not be unpickled (in the log of the process
    that received it); ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"actor message rejected: {reason}")
        self.reason = reason


class ApplicationFailedError(ThespsysError):
    """An application stopped processing; the actors' traceback is attached."""

    def __init__(self, status: ApplicationStatus) -> None:
        super().__init__(
            f"{status.application_name} (pipeline {status.pipeline_id}) failed: "
            f"{status.last_error}\n{status.last_traceback or ''}".rstrip()
        )
        self.status = status


class CatchUpTimeoutError(ThespsysError, TimeoutError):
    """Followers were still behind at the deadline; ``lags`` says which."""

    def __init__(self, timeout: float, lags: Sequence[Lag]) -> None:
        details = "; ".join(str(lag) for lag in lags)
        super().__init__(f"not caught up after {timeout:g} s: {details}")
        self.lags = tuple(lags)


class NotificationError(ThespsysError):
    """Processing one notification raised; the cause is attached."""

    def __init__(
        self, tracking_name: str, notification_id: int, error: Exception
    ) -> None:
        super().__init__(
            f"{type(error).__name__}: {error} "
            f"(notification {notification_id} of {tracking_name})"
        )
        self.tracking_name = tracking_name
        self.notification_id = notification_id


class WriteConflictError(ThespsysError):
    """A notification kept conflicting with other writers; it was not skipped."""


class NotRunningError(ThespsysError):
    """No system runs on this data directory (``stale``: its owner is gone)."""

    def __init__(self, data_dir: Path, stale: SystemRecord | None = None) -> None:
        if stale is None:
            message = f"no system runs here (no state file in {data_dir})"
        else:
            message = (
                f"no system runs here: the state file in {data_dir} is stale "
                f"(its owner, process {stale.pid}, is gone)"
            )
        super().__init__(message)
        self.data_dir = data_dir
        self.stale = stale


class AlreadyRunningError(ThespsysError):
    """A system runs on this data directory already."""

    def __init__(self, data_dir: Path, record: SystemRecord) -> None:
        super().__init__(
            f"a system runs here already ({record.system_topic}, process "
            f"{record.pid}, admin port {record.admin_port}; data directory "
            f"{data_dir}): stop it first"
        )
        self.record = record


class StopTimeoutError(ThespsysError):
    """The system did not end in time; ``force`` ends its processes."""


class DetachedStartError(ThespsysError):
    """A detached start ended before the system ran; ``exit_code`` is its own."""

    def __init__(self, exit_code: int | None, message: str) -> None:
        super().__init__(message)
        self.exit_code = exit_code
