"""thespsys: eventsourcing systems as supervised Thespian actor systems."""

import logging

from thespsys.dead_letter_queue import DeadLetterQueue, RetryReport
from thespsys.errors import ConfigurationError, ThespsysError
from thespsys.partitions import Partition
from thespsys.persistence.dead_letters import DeadLetter
from thespsys.progress import CatchUpTimeoutError, Lag
from thespsys.rescaling import RescaleRefusedError
from thespsys.runner import (
    ApplicationFailedError,
    RunnerNotStartedError,
    RunnerStartError,
    ThespianRunner,
)
from thespsys.settings import RunnerSettings
from thespsys.status import ApplicationStatus
from thespsys.supervision import Backoff, ErrorPolicy, RestartPolicy
from thespsys.system_spec import pipe

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "ApplicationFailedError",
    "ApplicationStatus",
    "Backoff",
    "CatchUpTimeoutError",
    "ConfigurationError",
    "DeadLetter",
    "DeadLetterQueue",
    "ErrorPolicy",
    "Lag",
    "Partition",
    "RescaleRefusedError",
    "RestartPolicy",
    "RetryReport",
    "RunnerNotStartedError",
    "RunnerSettings",
    "RunnerStartError",
    "ThespianRunner",
    "ThespsysError",
    "pipe",
]
