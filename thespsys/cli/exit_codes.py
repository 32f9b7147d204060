"""The ``thespsys`` command's exit codes (also in the README)."""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    OK = 0
    FAILED = 1  # an application failed, or something unexpected
    USAGE = 2  # a bad command line (argparse's own)
    CONFIGURATION = 3  # a bad setting; the system topic cannot be imported
    NOT_RUNNING = 4  # status, stop: no system runs on the data directory
    ALREADY_RUNNING = 5  # run, start: a system runs on the data directory
    START_FAILED = 6  # the system did not come up (port, actors, timeout)
    DATABASE = 7  # the database cannot be used
    TIMEOUT = 8  # stop: the system did not end in time (--force ends it)
    AUTHENTICATION = 9  # status, stop: the system holds another secret
    RETRYING = 10  # status: an application retries after errors (none failed)
    INTERRUPTED = 130  # Ctrl-C in a command that is not run
