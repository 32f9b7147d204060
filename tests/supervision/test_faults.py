"""Crashes, stuck slaves and failing policies on a real actor system."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from eventsourcing.system import EventProcessingError, System

from tests.runner.apps import Notes, Tallies
from tests.supervision.apps import BrokenInActors, Faulty
from tests.support.actors import (
    running,
    running_until_failure,
    wait_for_status,
)
from thespsys.core.settings import RunnerSettings
from thespsys.core.supervision import Backoff, RestartPolicy
from thespsys.errors import ApplicationFailedError

pytestmark = pytest.mark.actors

FAST = RunnerSettings(
    poll_interval=0.2,
    restarts=RestartPolicy(
        max_restarts=3, within_seconds=60, backoff=Backoff(0.05, 0.2)
    ),
)


@pytest.fixture
def env(faults_env: dict[str, str]) -> dict[str, str]:
    return faults_env


def write(runner: object, *texts: str) -> None:
    notes = runner.get(Notes)  # type: ignore[attr-defined]
    for text in texts:
        notes.write(text)


def test_killed_slave_is_restarted_and_resumes(env: dict[str, str]) -> None:
    with running(System(pipes=[[Notes, Faulty]]), env, settings=FAST) as runner:
        write(runner, "one", "two")
        runner.wait(timeout=20)
        slave_pid = wait_for_status(runner, "Faulty", lambda s: s.slave_pid).slave_pid
        os.kill(slave_pid, signal.SIGKILL)
        restarted = wait_for_status(
            runner,
            "Faulty",
            lambda s: s.state == "running" and s.slave_pid not in (None, slave_pid),
        )
        assert restarted.restarts == 1
        write(runner, "three")
        runner.wait(timeout=20)
        assert runner.get(Faulty).count("Note.Written") == 3


def test_slave_that_exits_mid_notification_processes_it_once(
    env: dict[str, str],
) -> None:
    with running(System(pipes=[[Notes, Faulty]]), env, settings=FAST) as runner:
        write(runner, "before", "exit-once", "after")
        runner.wait(timeout=20)
        assert runner.get(Faulty).count("Note.Written") == 3
        wait_for_status(runner, "Faulty", lambda s: s.restarts == 1)


def test_killed_master_is_restarted_by_its_pipeline(env: dict[str, str]) -> None:
    with running(System(pipes=[[Notes, Faulty]]), env, settings=FAST) as runner:
        write(runner, "one")
        runner.wait(timeout=20)
        before = wait_for_status(runner, "Faulty", lambda s: s.master_pid)
        os.kill(before.master_pid, signal.SIGKILL)
        wait_for_status(
            runner,
            "Faulty",
            lambda s: s.state == "running" and s.master_pid != before.master_pid,
        )
        write(runner, "two")
        runner.wait(timeout=20)
        assert runner.get(Faulty).count("Note.Written") == 2


def test_killed_pipeline_is_restarted_by_the_system_actor(env: dict[str, str]) -> None:
    with running(System(pipes=[[Notes, Faulty]]), env, settings=FAST) as runner:
        write(runner, "one")
        runner.wait(timeout=20)
        before = wait_for_status(runner, "Faulty", lambda s: s.master_pid)
        pipeline_pid = parent_of(before.master_pid)
        os.kill(pipeline_pid, signal.SIGKILL)
        after = wait_for_status(
            runner,
            "Faulty",
            lambda s: (
                s.state == "running" and s.master_pid not in (None, before.master_pid)
            ),
        )
        assert parent_of(after.master_pid) != pipeline_pid
        write(runner, "two")
        runner.wait(timeout=20)
        assert runner.get(Faulty).count("Note.Written") == 2


def parent_of(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])


def test_stuck_slave_is_replaced_and_its_transaction_rolled_back(
    env: dict[str, str],
) -> None:
    settings = RunnerSettings(
        poll_interval=0.2, processing_deadline=1.0, restarts=FAST.restarts
    )
    with running(System(pipes=[[Notes, Faulty]]), env, settings=settings) as runner:
        write(runner, "hang-once", "next")
        runner.wait(timeout=30)
        wait_for_status(
            runner,
            "Faulty",
            lambda s: s.restarts == 1 and "busy for more than 1 s" in s.last_error,
        )
        assert runner.get(Faulty).count("Note.Written") == 2


def test_constructor_failure_restarts_with_backoff_then_fails_visibly(
    env: dict[str, str],
) -> None:
    system = System(pipes=[[Notes, BrokenInActors], [Notes, Tallies]])
    with running_until_failure(system, env, settings=FAST) as (runner, stopped):
        failed = wait_for_status(
            runner, "BrokenInActors", lambda s: s.state == "failed"
        )
        assert failed.restarts == 3
        assert "cannot start here" in failed.last_error
        with pytest.raises(EventProcessingError):
            runner.watch_for_errors(timeout=1)
        # The rest of the system keeps running.
        write(runner, "still working")
        wait_for_status(
            runner, "Tallies", lambda s: s.behind == 0 and s.state == "running"
        )
        assert runner.get(Tallies).count("Note.Written") == 1
    # stop() re-raises the error that stopped an application.
    # Its message is the original error's, as with eventsourcing's runners;
    # the cause says where and how often.
    assert str(stopped.error) == "BrokenInActors cannot start here"
    assert isinstance(stopped.error.__cause__, ApplicationFailedError)
    assert "BrokenInActors (pipeline 0) failed: slave exited 3 times" in str(
        stopped.error.__cause__
    )


def test_retry_policy_retries_with_backoff_visibly(env: dict[str, str]) -> None:
    with running(System(pipes=[[Notes, Faulty]]), env, settings=FAST) as runner:
        write(runner, "fail-times-4", "later")
        retrying = wait_for_status(runner, "Faulty", lambda s: s.state == "retrying")
        assert "failing 'fail-times-4' on purpose" in retrying.last_error
        runner.wait(timeout=30)
        assert runner.get(Faulty).count("Note.Written") == 2
        wait_for_status(runner, "Faulty", lambda s: s.state == "running")


def test_slave_killed_while_retrying_resumes_after_the_backoff(
    env: dict[str, str],
) -> None:
    env = {**env, "RETRY_BACKOFF_INITIAL": "0.3", "RETRY_BACKOFF_MAX": "0.3"}
    with running(System(pipes=[[Notes, Faulty]]), env, settings=FAST) as runner:
        write(runner, "fail-times-2", "later")
        retrying = wait_for_status(runner, "Faulty", lambda s: s.state == "retrying")
        os.kill(retrying.slave_pid, signal.SIGKILL)
        runner.wait(timeout=30)
        assert runner.get(Faulty).count("Note.Written") == 2
        wait_for_status(
            runner, "Faulty", lambda s: (s.state, s.restarts) == ("running", 1)
        )


def test_stop_policy_stops_the_application_and_reports(env: dict[str, str]) -> None:
    env = {**env, "FAULTY_ERROR_POLICY": "stop"}
    system = System(pipes=[[Notes, Faulty], [Notes, Tallies]])
    with running_until_failure(system, env, settings=FAST) as (runner, stopped):
        write(runner, "fine", "fail-always", "never reached")
        with pytest.raises(EventProcessingError) as watched:
            runner.watch_for_errors(timeout=30)
        assert watched.value.args == ("cannot process 'fail-always'",)
        cause = watched.value.__cause__
        assert isinstance(cause, ApplicationFailedError)
        assert "Faulty (pipeline 0) failed: ValueError: cannot process" in str(cause)
        assert "(notification 2 of Notes)" in str(cause)
        assert "Traceback" in str(cause)
        assert cause.status.last_error_message == "cannot process 'fail-always'"
        with pytest.raises(EventProcessingError):
            runner.wait(timeout=30)  # Faulty will never catch up: no waiting
        write(runner, "others go on")
        wait_for_status(runner, "Tallies", lambda s: s.behind == 0)
        assert runner.get(Tallies).count("Note.Written") == 4
        assert runner.get(Faulty).count("Note.Written") == 1
    assert isinstance(stopped.error.__cause__, ApplicationFailedError)
