"""Supervision decisions as plain objects, without actors."""

from __future__ import annotations

import pytest

from thespsys.core.supervision import Backoff, ErrorHandling, ErrorPolicy, RestartPolicy
from thespsys.engine.restarts import RestartTracker, SupervisedChildren
from thespsys.engine.scheduling import RunScheduler
from thespsys.errors import ConfigurationError


def test_backoff_doubles_and_is_capped() -> None:
    backoff = Backoff(initial=0.1, maximum=1.0)
    assert [backoff.delay(n) for n in (1, 2, 3, 4, 5)] == [0.1, 0.2, 0.4, 0.8, 1.0]


def test_restarts_give_up_after_too_many_within_the_window() -> None:
    tracker = RestartTracker(
        RestartPolicy(max_restarts=3, within_seconds=10, backoff=Backoff(1, 8))
    )
    assert [tracker.next_delay(t) for t in (0, 1, 2)] == [1, 2, 4]
    assert tracker.next_delay(3) is None
    assert tracker.next_delay(10.5) == 4  # the first restart left the window
    assert tracker.restarts == 4


def test_error_handling_reads_per_application_settings() -> None:
    env = {
        "ERROR_POLICY": "stop",
        "ORDERS_ERROR_POLICY": "park",
        "PARK_AFTER_ATTEMPTS": "5",
    }
    assert ErrorHandling.from_env("Orders", env).policy is ErrorPolicy.PARK
    assert ErrorHandling.from_env("Orders", env).park_after == 5
    assert ErrorHandling.from_env("Payments", env).policy is ErrorPolicy.STOP
    assert ErrorHandling.from_env("Payments", {}).policy is ErrorPolicy.RETRY


@pytest.mark.parametrize(
    ("env", "setting"),
    [
        ({"ORDERS_ERROR_POLICY": "ignore"}, "ORDERS_ERROR_POLICY"),
        ({"PARK_AFTER_ATTEMPTS": "many"}, "PARK_AFTER_ATTEMPTS"),
        ({"PARK_AFTER_ATTEMPTS": "0"}, "PARK_AFTER_ATTEMPTS"),
    ],
)
def test_bad_error_settings_name_the_setting(env: dict[str, str], setting: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        ErrorHandling.from_env("Orders", env)
    assert raised.value.setting == setting
    assert setting in str(raised.value)


def test_scheduler_coalesces_prompts_into_one_follow_up_run() -> None:
    scheduler = RunScheduler()
    assert scheduler.request() is True
    assert [scheduler.request() for _ in range(5)] == [False] * 5
    assert scheduler.finished(more=False) is True  # one run for the five prompts
    assert scheduler.finished(more=False) is False
    assert scheduler.request() is True


def test_scheduler_holds_runs_after_a_failure_until_retry() -> None:
    scheduler = RunScheduler()
    scheduler.request()
    scheduler.failed()
    assert scheduler.request() is False
    assert scheduler.retry() is True
    assert scheduler.retry() is False  # one retry, one run


def test_scheduler_keeps_the_hold_across_a_slave_restart() -> None:
    scheduler = RunScheduler()
    scheduler.request()
    scheduler.failed()
    scheduler.interrupted()  # the slave died during the hold
    assert scheduler.request() is False  # the restarted slave waits for the retry
    assert scheduler.retry() is True
    assert scheduler.request() is False  # and only one run is outstanding


def test_scheduler_reruns_after_a_slave_died_mid_run() -> None:
    scheduler = RunScheduler()
    scheduler.request()
    scheduler.interrupted()
    assert scheduler.request() is True


def test_supervised_children_restart_each_child_on_its_own_count() -> None:
    children: SupervisedChildren[str] = SupervisedChildren(
        RestartPolicy(max_restarts=1, within_seconds=60, backoff=Backoff(0.5, 1))
    )
    children.started("a", "address-a")
    children.started("b", "address-b")
    assert children.exited("someone else", now=0) is None
    assert children.exited("address-a", now=0) == ("a", 0.5)
    children.started("a", "address-a2")  # restarted under a new address
    assert children.exited("address-a2", now=1) == ("a", None)  # gives up on a
    assert children.exited("address-b", now=1) == ("b", 0.5)  # b has its own count
    assert children.restarts("a") == 1
