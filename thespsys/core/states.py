"""The states an application is in, per pipeline, and the kinds of failure.

String enums: they pickle by name, compare equal to their text, and read as
text in ``status()`` output and JSON.
"""

from __future__ import annotations

import enum


class ProcessState(enum.StrEnum):
    STARTING = "starting"
    RUNNING = "running"
    RETRYING = "retrying"  # a run failed; retried after a backoff
    PARKED = "parked"  # running, with dead letters set aside
    RESTARTING = "restarting"  # its slave or master exited; restarted soon
    FAILED = "failed"  # stopped processing: stop policy, or restarts used up


class FailureKind(enum.StrEnum):
    DATABASE = "database"  # the database could not be used: back off, retry
    NOTIFICATION = "notification"  # processing one notification raised
    START = "start"  # the application could not be constructed: restart
