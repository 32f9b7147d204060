"""thespsys: eventsourcing systems as supervised Thespian actor systems."""

import logging

from thespsys.dead_letter_queue import DeadLetterQueue, RetryReport
from thespsys.errors import (
    ActorSystemError,
    ActorTimeoutError,
    AlreadyRunningError,
    ApplicationFailedError,
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
    WriteConflictError,
)
from thespsys.partitions import Partition
from thespsys.persistence.dead_letters import DeadLetter
from thespsys.progress import Lag
from thespsys.runner import ThespianRunner
from thespsys.settings import RunnerSettings
from thespsys.status import ApplicationStatus
from thespsys.supervision import Backoff, ErrorPolicy, RestartPolicy
from thespsys.system_spec import pipe

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "ActorSystemError",
    "ActorTimeoutError",
    "AlreadyRunningError",
    "ApplicationFailedError",
    "ApplicationStatus",
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
    "WriteConflictError",
    "pipe",
]
