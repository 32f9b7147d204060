"""What the command prints, without a system: the error line of a failed
application, and a retrying application's row."""

from __future__ import annotations

from eventsourcing.system import EventProcessingError
from rich.console import Console

from thespsys.cli import one_line
from thespsys.cli.render import attention_lines, status_rows, status_table
from thespsys.core.states import ProcessState
from thespsys.engine.status import ApplicationStatus
from thespsys.errors import ApplicationFailedError


def status(
    state: ProcessState, attempts: int = 0, retry_in: float | None = None
) -> ApplicationStatus:
    return ApplicationStatus(
        application_name="Payments",
        pipeline_id=0,
        state=state,
        restarts=0,
        last_error="ValueError: no card (notification 7 of Orders)",
        last_traceback="Traceback (most recent call last):\n...",
        lags=(),
        parked=0,
        master_pid=None,
        slave_pid=None,
        last_error_message="no card",
        attempts=attempts,
        retry_in=retry_in,
    )


def test_a_failed_application_is_named_in_the_error_line() -> None:
    cause = ApplicationFailedError(status(ProcessState.FAILED))
    error = EventProcessingError("no card")
    error.__cause__ = cause
    assert one_line(error) == (
        "Payments (pipeline 0) failed: ValueError: no card (notification 7 of Orders)"
    )


def test_a_retrying_application_shows_its_attempt_and_backoff() -> None:
    rows = status_rows([], [status(ProcessState.RETRYING, 4, 0.8)], 0)
    assert (rows[0]["attempts"], rows[0]["retry_in"]) == (4, 0.8)
    console = Console(width=200, record=True)
    console.print(status_table(rows))
    assert "retrying (attempt 4, next in 0.8 s)" in console.export_text()


def test_under_the_table_a_line_for_each_application_retrying_or_failed() -> None:
    rows = status_rows(
        [],
        [
            status(ProcessState.RETRYING, 4, 0.8),
            status(ProcessState.FAILED),
            status(ProcessState.RUNNING),
        ],
        0,
    )
    assert attention_lines(rows) == [
        "Payments (pipeline 0) is retrying (attempt 4, next in 0.8 s): "
        "ValueError: no card (notification 7 of Orders)",
        "Payments (pipeline 0) has failed: "
        "ValueError: no card (notification 7 of Orders)",
    ]
