"""thespsys: eventsourcing systems as supervised Thespian actor systems."""

import logging

from thespsys.core.partitions import Partition
from thespsys.core.settings import RunnerSettings
from thespsys.core.supervision import Backoff, ErrorPolicy, RestartPolicy
from thespsys.core.system_spec import pipe
from thespsys.engine.dead_letter_queue import DeadLetterQueue, RetryReport
from thespsys.engine.lags import Lag
from thespsys.engine.status import ApplicationStatus
from thespsys.errors import (
    ActorSystemError,
    ActorTimeoutError,
    AlreadyRunningError,
    ApplicationFailedError,
    ApplicationNotInSystemError,
    AuthenticationError,
    CatchUpTimeoutError,
    ConfigurationError,
    DetachedStartError,
    NotificationError,
    NotRunningError,
    RescaleRefusedError,
    RunnerNotStartedError,
    RunnerStartError,
    StopTimeoutError,
    ThespsysError,
    UnauthenticatedMessageError,
    WriteConflictError,
)
from thespsys.persistence.dead_letters import DeadLetter
from thespsys.runner import ThespianRunner

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "ActorSystemError",
    "ActorTimeoutError",
    "AlreadyRunningError",
    "ApplicationFailedError",
    "ApplicationNotInSystemError",
    "ApplicationStatus",
    "AuthenticationError",
    "Backoff",
    "CatchUpTimeoutError",
    "ConfigurationError",
    "DeadLetter",
    "DeadLetterQueue",
    "DetachedStartError",
    "ErrorPolicy",
    "Lag",
    "NotRunningError",
    "NotificationError",
    "Partition",
    "RescaleRefusedError",
    "RestartPolicy",
    "RetryReport",
    "RunnerNotStartedError",
    "RunnerSettings",
    "RunnerStartError",
    "StopTimeoutError",
    "ThespianRunner",
    "ThespsysError",
    "UnauthenticatedMessageError",
    "WriteConflictError",
    "pipe",
]
