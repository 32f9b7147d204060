"""Code written for eventsourcing's runners, with only the runner class
swapped: applications before start(), overridden Follower hooks, topics, and
errors that say what was given and what was expected."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.application import Application
from eventsourcing.persistence import OperationalError
from eventsourcing.system import RunnerAlreadyStartedError, System

from examples.orders import Orders
from tests.runner.apps import Notes, Tallies
from tests.runner.eventsourcing_apps import (
    BankAccounts,
    CustomConverting,
    CustomFiltering,
    CustomPullAndProcess,
    CustomPulling,
    OpenedOnlyEmailProcess,
)
from tests.support.actors import assert_actor_system_gone, running
from thespsys import (
    ApplicationNotInSystemError,
    ConfigurationError,
    RunnerNotStartedError,
    ThespianRunner,
    pipe,
)


class NotInSystem(Application[Any]):
    pass


@pytest.mark.actors
def test_applications_exist_before_start_and_stay_the_same_after(
    store_env: dict[str, str],
) -> None:
    runner = ThespianRunner(System(pipes=[[Notes, Tallies]]), env=store_env)
    notes = runner.get(Notes)
    notes.write("before start")  # no actor runs yet: nothing processes it
    assert runner.get(Tallies).recorder.max_tracking_id("Notes") is None
    runner.start()
    pgid, port = runner.pgid, runner.admin_port
    try:
        assert runner.get(Notes) is notes
        notes.write("after start")
        runner.wait(timeout=30)
        assert runner.get(Tallies).count("Note.Written") == 2
    finally:
        runner.stop()
    assert_actor_system_gone(pgid, port)
    with pytest.raises(RunnerNotStartedError, match="stopped"):
        runner.get(Notes)
    # Started again, it constructs its applications afresh.
    runner.start()
    pgid, port = runner.pgid, runner.admin_port
    try:
        assert runner.get(Notes) is not notes
        runner.get(Notes).write("started again")
        runner.wait(timeout=30)
        assert runner.get(Tallies).count("Note.Written") == 3
    finally:
        runner.stop()
    assert_actor_system_gone(pgid, port)


@pytest.mark.parametrize(
    ("follower", "method"),
    [
        (CustomPulling, "pull_notifications"),
        (CustomFiltering, "filter_received_notifications"),
        (CustomConverting, "convert_notifications"),
        (CustomPullAndProcess, "pull_and_process"),
    ],
)
def test_a_follower_overriding_a_hook_that_would_not_run_is_refused(
    store_env: dict[str, str], follower: type[Any], method: str
) -> None:
    with pytest.raises(ConfigurationError) as raised:
        ThespianRunner(System(pipes=[[BankAccounts, follower]]), env=store_env)
    message = str(raised.value)
    assert follower.__name__ in message
    assert f"overrides {method}()" in message
    assert "topics" in message  # what to do instead


@pytest.mark.actors
def test_follow_topics_filters_what_a_follower_reads(
    store_env: dict[str, str],
) -> None:
    system = System(pipes=[[BankAccounts, OpenedOnlyEmailProcess]])
    with running(system, store_env) as runner:
        accounts = runner.get(BankAccounts)
        ids = [
            accounts.open_account(f"Alice {n}", f"alice{n}@example.com")
            for n in range(3)
        ]
        accounts.credit_account(ids[0], Decimal("10.00"))
        accounts.credit_account(ids[0], Decimal("5.00"))
        runner.wait(timeout=30)  # caught up with the last Opened event
        emails = runner.get(OpenedOnlyEmailProcess)
        assert accounts.recorder.max_notification_id() == 5
        # Read no further than the last event of its topics: 3, not 5.
        assert emails.recorder.max_tracking_id("BankAccounts") == 3
        assert len(emails.notification_log["1,10"].items) == 3


@pytest.mark.parametrize(
    ("given", "said"),
    [
        (object(), "got <object object at"),
        (Orders, "got the application class Orders: a system of it alone is pipe"),
        (System, "got the class System itself: construct one, System(pipes="),
        ("orders", "got 'orders'"),
        ([[Orders]], "is not a pipeline expression (use pipe(A) | B)"),
    ],
)
def test_what_is_not_a_system_is_refused_saying_what_is_expected(
    store_env: dict[str, str], given: Any, said: str
) -> None:
    with pytest.raises(TypeError) as raised:
        ThespianRunner(given, env=store_env)
    message = str(raised.value)
    assert said in message
    assert message.startswith("expected an eventsourcing System")


def test_get_of_an_application_not_in_the_system_names_both(
    store_env: dict[str, str],
) -> None:
    runner = ThespianRunner(pipe(Notes) | Tallies, env=store_env)
    try:
        with pytest.raises(KeyError) as raised:
            runner.get(NotInSystem)
        assert isinstance(raised.value, ApplicationNotInSystemError)
        assert str(raised.value) == (
            "NotInSystem is not an application of this system (it has Notes, Tallies)"
        )
        with pytest.raises(TypeError, match="takes an application class"):
            runner.get("Notes")  # type: ignore[type-var]
    finally:
        runner.stop()


def test_an_sqlite_file_in_a_missing_directory_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "dir"
    url = f"sqlite:///{missing / 'orders.db'}"
    env = {"PERSISTENCE_MODULE": "thespsys.persistence", "DATABASE_URL": url}
    with pytest.raises(OperationalError) as raised:
        ThespianRunner(pipe(Notes) | Tallies, env=env)
    assert (
        f"unable to open database file {missing / 'orders.db'}: its directory "
        f"{missing} does not exist"
    ) in str(raised.value)


@pytest.mark.actors
def test_starting_twice_says_what_to_do(store_env: dict[str, str]) -> None:
    with running(pipe(Notes) | Tallies, store_env) as runner:
        with pytest.raises(RunnerAlreadyStartedError) as raised:
            runner.start()
        assert "started already; stop() it" in str(raised.value)
        assert runner.is_started
        runner.get(Notes).write("still running")
        runner.wait(timeout=30)


@pytest.mark.parametrize(
    "env",
    [
        None,  # eventsourcing's default: POPO, in this process's memory
        {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": ":memory:"},
    ],
)
def test_events_kept_in_memory_are_refused_where_actors_must_read_them(
    env: dict[str, str] | None,
) -> None:
    with pytest.raises(ConfigurationError) as raised:
        ThespianRunner(pipe(Notes) | Tallies, env=env)
    assert raised.value.setting == "PERSISTENCE_MODULE"
    assert "keeps the events in this process's memory" in str(raised.value)
    assert "thespsys.persistence" in str(raised.value)
    # Without followers, no actor needs to read them.
    runner = ThespianRunner(pipe(Notes), env=env)
    assert runner.get(Notes).write("kept here")
    runner.stop()
