"""thespsys: eventsourcing systems as supervised Thespian actor systems."""

import logging

from thespsys.errors import ConfigurationError, ThespsysError
from thespsys.partitions import Partition
from thespsys.progress import CatchUpTimeoutError, Lag
from thespsys.runner import RunnerNotStartedError, RunnerStartError, ThespianRunner
from thespsys.settings import RunnerSettings
from thespsys.system_spec import pipe

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "CatchUpTimeoutError",
    "ConfigurationError",
    "Lag",
    "Partition",
    "RunnerNotStartedError",
    "RunnerSettings",
    "RunnerStartError",
    "ThespianRunner",
    "ThespsysError",
    "pipe",
]
