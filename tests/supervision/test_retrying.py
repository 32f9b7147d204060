"""An application that retries (the default error policy) cannot be missed:
status() and ``thespsys status`` show the attempt and the backoff, and the
log has one warning per attempt, the traceback with the first only."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from eventsourcing.system import System
from rich.console import Console

from tests.runner.apps import Notes
from tests.supervision.apps import Faulty
from tests.support.actors import running, wait_for_status
from tests.support.scripts import run_script
from thespsys.cli.render import status_rows, status_table
from thespsys.core.settings import RunnerSettings

pytestmark = pytest.mark.actors


def rendered(table: object) -> str:
    console = Console(width=200, record=True)
    console.print(table)
    return console.export_text()


def test_status_shows_the_attempt_the_backoff_and_the_error(
    faults_env: dict[str, str],
) -> None:
    env = {**faults_env, "RETRY_BACKOFF_INITIAL": "0.2", "RETRY_BACKOFF_MAX": "0.4"}
    settings = RunnerSettings(poll_interval=0.2)
    with running(System(pipes=[[Notes, Faulty]]), env, settings=settings) as runner:
        runner.get(Notes).write("fail-times-4")
        retrying = wait_for_status(
            runner, "Faulty", lambda s: s.state == "retrying" and s.attempts >= 2
        )
        assert retrying.retry_in == min(0.2 * 2 ** (retrying.attempts - 1), 0.4)
        assert retrying.last_error_message == "failing 'fail-times-4' on purpose"
        assert retrying.last_error.startswith("ValueError: failing 'fail-times-4'")
        text = rendered(status_table(status_rows([], [retrying], 0)))
        assert f"retrying (attempt {retrying.attempts}, next in 0.4 s)" in text
        runner.wait(timeout=30)
        recovered = wait_for_status(runner, "Faulty", lambda s: s.state == "running")
        assert (recovered.attempts, recovered.retry_in) == (0, None)
        assert runner.get(Faulty).count("Note.Written") == 1


SCRIPT = textwrap.dedent(
    """
    import sys
    from eventsourcing.system import System
    from tests.runner.apps import Notes
    from tests.supervision.apps import Faulty
    from thespsys import ThespianRunner

    env = dict(arg.split("=", 1) for arg in sys.argv[1:])
    with ThespianRunner(System(pipes=[[Notes, Faulty]]), env=env) as runner:
        runner.get(Notes).write("fail-times-3")
        runner.wait(timeout=60)
        assert runner.get(Faulty).count("Note.Written") == 1
    """
)


def test_one_warning_per_attempt_with_the_backoff(
    faults_env: dict[str, str], tmp_path: Path
) -> None:
    arguments = [f"{key}={value}" for key, value in faults_env.items()]
    code, text = run_script(SCRIPT, *arguments, output=tmp_path / "output.txt")
    assert code == 0, text
    warnings = [line for line in text.splitlines() if "Faulty (pipeline 0)" in line]
    assert len(warnings) == 4, text
    assert "failed, retrying in 0.05 s (attempt 1)" in warnings[0]
    assert "failed again, retrying in 0.1 s (attempt 2)" in warnings[1]
    assert "failed again, retrying in 0.2 s (attempt 3)" in warnings[2]
    assert "recovered after 3 failed attempt(s)" in warnings[3]
    assert all("WARNING" in line for line in warnings)
    assert text.count("ValueError: failing 'fail-times-3' on purpose\n") == 1
