"""Scenarios of eventsourcing's own runner tests (its
``tests/system_tests/test_runner.py``), run against a ThespianRunner as they are
written for ``MultiThreadedRunner``: the runner class changes, processing is
asynchronous so the scenarios ``wait()`` where eventsourcing's sleep, and the
error policy is ``stop``, eventsourcing's behaviour. Time-outs are longer than
eventsourcing's one second: actor processes start in the background.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from eventsourcing.system import EventProcessingError, RunnerAlreadyStartedError, System

from tests.runner.eventsourcing_apps import (
    AggregateEventEmailProcess,
    BankAccounts,
    BrokenInitialisation,
    BrokenProcessing,
    Commands,
    DeliberateError,
    EmailProcess,
    EmailProcess2,
    Results,
)
from tests.support.actors import assert_actor_system_gone
from thespsys import ApplicationFailedError, RunnerSettings, ThespianRunner
from thespsys.actors.thespian_adapter import free_port

pytestmark = pytest.mark.actors

WATCH_TIMEOUT = 30.0


class Runners:
    """Constructs runners as the scenarios do, and proves at teardown that
    every actor system they started is gone."""

    def __init__(self, store_env: dict[str, str]) -> None:
        self.env = {**store_env, "ERROR_POLICY": "stop"}
        self.constructed: list[ThespianRunner] = []

    def construct_runner(
        self, system: System, env: dict[str, str] | None = None
    ) -> ThespianRunner:
        settings = RunnerSettings(admin_port=free_port(), poll_interval=0.2)
        runner = ThespianRunner(
            system, env={**self.env, **(env or {})}, settings=settings, join=False
        )
        self.constructed.append(runner)
        return runner

    def close(self) -> None:
        for runner in self.constructed:
            with contextlib.suppress(EventProcessingError):
                runner.stop()
            assert_actor_system_gone(runner.pgid, runner.settings.admin_port)


@pytest.fixture
def runners(store_env: dict[str, str]) -> Iterator[Runners]:
    made = Runners(store_env)
    try:
        yield made
    finally:
        made.close()


def test_runner_constructed_with_env_has_apps_with_env(runners: Runners) -> None:
    system = System(pipes=[[BankAccounts, EmailProcess]])
    with runners.construct_runner(system, {"MY_ENV_VAR": "my_env_val"}) as runner:
        assert runner.get(BankAccounts).env.get("MY_ENV_VAR") == "my_env_val"
        assert runner.get(EmailProcess).env.get("MY_ENV_VAR") == "my_env_val"


def test_calling_start_twice_raises_error(runners: Runners) -> None:
    with (
        runners.construct_runner(System(pipes=[[BankAccounts]])) as runner,
        pytest.raises(RunnerAlreadyStartedError),
    ):
        runner.start()


def test_system_with_one_edge(runners: Runners) -> None:
    system = System(pipes=[[BankAccounts, EmailProcess]])
    with runners.construct_runner(system) as runner:
        accounts = runner.get(BankAccounts)
        email_process = runner.get(EmailProcess)
        assert len(email_process.notification_log["1,5"].items) == 0
        for _ in range(10):
            accounts.open_account(full_name="Alice", email_address="alice@example.com")
        runner.wait()
        assert len(email_process.notification_log["1,10"].items) == 10


def test_system_with_two_edges(runners: Runners) -> None:
    system = System(pipes=[[BankAccounts, EmailProcess], [BankAccounts, EmailProcess2]])
    with runners.construct_runner(system) as runner:
        accounts = runner.get(BankAccounts)
        email_process1 = runner.get(EmailProcess)
        email_process2 = runner.get(EmailProcess2)
        assert len(email_process1.notification_log["1,5"].items) == 0
        assert len(email_process2.notification_log["1,5"].items) == 0
        for _ in range(10):
            accounts.open_account(full_name="Alice", email_address="alice@example.com")
        runner.wait()
        assert len(email_process1.notification_log["1,10"].items) == 10
        assert len(email_process2.notification_log["1,10"].items) == 10


def test_system_with_processing_loop(runners: Runners) -> None:
    system = System([[Commands, Results, Commands]])
    with runners.construct_runner(system) as runner:
        commands = runner.get(Commands)
        command_id1 = commands.create_command("echo 'Hello World'")
        command_id2 = commands.create_command("notacommand")
        runner.wait()
        assert commands.get_result(command_id1) == ("Hello World\n", "")
        output, error = commands.get_result(command_id2)
        assert output == ""
        assert error is not None
        assert "No such file or directory: 'notacommand'" in error


def test_catches_up_with_outstanding_notifications(runners: Runners) -> None:
    system = System(pipes=[[BankAccounts, EmailProcess]])
    runner = runners.construct_runner(system)
    accounts = runner.get(BankAccounts)
    email_process1 = runner.get(EmailProcess)
    accounts.open_account(full_name="Alice", email_address="alice@example.com")
    assert email_process1.recorder.max_tracking_id("BankAccounts") is None
    with runner:
        accounts.open_account(full_name="Alice", email_address="alice@example.com")
        runner.wait()
        assert email_process1.recorder.max_tracking_id("BankAccounts") == 2


def test_filters_notifications_by_topics(runners: Runners) -> None:
    system = System(pipes=[[BankAccounts, AggregateEventEmailProcess]])
    runner = runners.construct_runner(system)
    accounts = runner.get(BankAccounts)
    email_process = runner.get(AggregateEventEmailProcess)
    accounts.open_account(full_name="Alice", email_address="alice@example.com")
    with runner:
        accounts.open_account(full_name="Alice", email_address="alice@example.com")
        runner.wait()
        assert len(email_process.notification_log["1,10"].items) == 0


def test_stops_if_app_initialisation_is_broken(runners: Runners) -> None:
    system = System(pipes=[[BankAccounts, BrokenInitialisation]])
    with pytest.raises(DeliberateError) as caught:
        runners.construct_runner(system)
    assert (
        caught.value.args[0]
        == "Just testing error handling when initialisation is broken"
    )


def test_stop_raises_if_event_processing_is_broken(runners: Runners) -> None:
    system = System(pipes=[[BankAccounts, BrokenProcessing]])
    with (
        pytest.raises(EventProcessingError) as caught,
        runners.construct_runner(system) as runner,
    ):
        accounts = runner.get(BankAccounts)
        assert not runner.has_errored.is_set()
        accounts.open_account(full_name="Alice", email_address="alice@example.com")
        assert runner.has_errored.wait(timeout=WATCH_TIMEOUT)
        assert runner.has_errored.is_set()
    assert (
        "Just testing error handling when processing is broken"
        in (caught.value.args[0])
    )
    # What eventsourcing's error does not say is in its cause.
    cause = caught.value.__cause__
    assert isinstance(cause, ApplicationFailedError)
    assert cause.status.application_name == "BrokenProcessing"
    assert "DeliberateError" in str(cause)
    assert "Traceback" in str(cause)


def test_watch_for_errors_raises_if_runner_errors(runners: Runners) -> None:
    system = System(pipes=[[BankAccounts, BrokenProcessing]])
    runner = runners.construct_runner(system)
    accounts = runner.get(BankAccounts)
    accounts.open_account(full_name="Alice", email_address="alice@example.com")
    with pytest.raises(EventProcessingError) as caught, runner:
        accounts = runner.get(BankAccounts)
        accounts.open_account(full_name="Alice", email_address="alice@example.com")
        runner.watch_for_errors(timeout=WATCH_TIMEOUT)
    assert (
        caught.value.args[0] == "Just testing error handling when processing is broken"
    )
    assert str(caught.value) == caught.value.args[0]


def test_watch_for_errors_without_a_timeout_watches_until_an_error(
    runners: Runners,
) -> None:
    system = System(pipes=[[BankAccounts, BrokenProcessing]])
    with (
        pytest.raises(EventProcessingError),
        runners.construct_runner(system) as runner,
        ThreadPoolExecutor(1) as pool,
    ):
        watching = pool.submit(runner.watch_for_errors)
        with pytest.raises(TimeoutError):  # nothing has failed: still watching
            watching.result(timeout=0.5)
        runner.get(BankAccounts).open_account("Alice", "alice@example.com")
        error = watching.exception(timeout=WATCH_TIMEOUT)
        assert isinstance(error, EventProcessingError)
        assert error.args[0] == "Just testing error handling when processing is broken"


def test_watch_for_errors_exits_without_raising_after_timeout(
    runners: Runners,
) -> None:
    system = System(pipes=[[BankAccounts, EmailProcess]])
    with runners.construct_runner(system) as runner:
        assert runner.watch_for_errors(timeout=0.1) is False
        assert runner.has_errored.wait(timeout=0.1) is False


def test_stops_if_app_processing_is_broken(runners: Runners) -> None:
    system = System(pipes=[[BankAccounts, BrokenProcessing]])
    with (
        pytest.raises(EventProcessingError) as caught,
        runners.construct_runner(system) as runner,
    ):
        accounts = runner.get(BankAccounts)
        accounts.open_account(full_name="Alice", email_address="alice@example.com")
        runner.watch_for_errors(timeout=WATCH_TIMEOUT)
    assert (
        "Just testing error handling when processing is broken"
        in (caught.value.args[0])
    )
