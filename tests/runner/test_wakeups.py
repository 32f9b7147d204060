"""Writes by other processes wake the followers at once, not at the next poll.

The poll interval is 30 s in these tests, so that only the change watcher
can make the deadlines.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import sqlalchemy

from examples.orders import Orders, Payments, system
from tests.support.actors import running
from tests.support.scripts import ROOT, run_script
from thespsys.actors.watcher import ChangeWatcher
from thespsys.core.processes import actor_processes, wait_for
from thespsys.core.settings import RunnerSettings
from thespsys.persistence.changes import APPLICATION_NAME

pytestmark = pytest.mark.actors

POLL = 30.0
SETTINGS = RunnerSettings(poll_interval=POLL)

CREATE_ORDERS = textwrap.dedent(
    """
    import json, sys
    from examples.orders import Orders
    orders = Orders(env=json.loads(sys.argv[1]))
    for _ in range(int(sys.argv[2])):
        orders.create_order("elsewhere")
    orders.close()
    """
)


def create_orders_elsewhere(env: dict[str, str], count: int) -> None:
    """``count`` orders created by the plain application class in a process
    of its own, as a web worker would."""
    subprocess.run(
        [sys.executable, "-c", CREATE_ORDERS, json.dumps(env), str(count)],
        check=True,
        timeout=60,
        cwd=ROOT,
    )


def paid(payments: Payments) -> int:
    return payments.recorder.max_notification_id() or 0


@pytest.mark.parametrize("pipelines", [1, 2])
def test_commands_from_another_process_are_processed_long_before_the_poll(
    store_env: dict[str, str], pipelines: int
) -> None:
    with running(
        system, store_env, settings=SETTINGS, pipeline_ids=range(pipelines)
    ) as runner:
        payments = runner.get(Payments)
        for count, total in ((1, 1), (4, 5)):
            create_orders_elsewhere(store_env, count)
            assert wait_for(lambda t=total: paid(payments) == t, timeout=5)
        runner.wait(timeout=5)
        orders = runner.get(Orders)
        assert orders.recorder.max_notification_id() == 5 * 3  # created, reserved, paid


def watcher_pid(pgid: int) -> int:
    (found,) = [pid for pid, kind in actor_processes(pgid).items() if kind == "watcher"]
    return found


def test_a_killed_watcher_is_restarted_and_wakes_the_followers(
    sqlite_url: str,
) -> None:
    env = {"PERSISTENCE_MODULE": "thespsys.persistence", "DATABASE_URL": sqlite_url}
    with running(system, env, settings=SETTINGS) as runner:
        assert runner.pgid is not None
        payments = runner.get(Payments)
        # admin, logger, SystemActor, watcher, pipeline, 3 masters, 3 slaves
        assert wait_for(lambda: len(actor_processes(runner.pgid or 0)) == 11, 10)
        first = watcher_pid(runner.pgid)
        os.kill(first, signal.SIGKILL)
        create_orders_elsewhere(env, 2)  # maybe before the new watcher looks
        assert wait_for(lambda: paid(payments) == 2, timeout=10)
        assert watcher_pid(runner.pgid) != first


def listener_pids(url: str) -> set[int]:
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sqlalchemy.text(
                    "SELECT pid FROM pg_stat_activity WHERE application_name = :name"
                    " AND datname = current_database()"
                ),
                {"name": APPLICATION_NAME},
            )
            return {row[0] for row in rows}
    finally:
        engine.dispose()


def terminate(url: str, pids: set[int]) -> None:
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            for pid in pids:
                connection.execute(
                    sqlalchemy.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}
                )
    finally:
        engine.dispose()


BROKEN_LISTENER = textwrap.dedent(
    """
    import sys
    from tests.runner.test_wakeups import broken_listener
    broken_listener(sys.argv[1])
    """
)


def broken_listener(url: str) -> None:
    """Run in a process of its own, whose stderr the test reads: the actors'
    warnings go there."""
    env = {"PERSISTENCE_MODULE": "thespsys.persistence", "DATABASE_URL": url}
    with running(system, env, settings=SETTINGS, pipeline_ids=range(2)) as runner:
        payments = runner.get(Payments)
        assert wait_for(lambda: len(listener_pids(url)) == 1, timeout=10)
        # One listening connection for the whole actor system.
        first = listener_pids(url)

        terminate(url, first)
        create_orders_elsewhere(env, 2)  # maybe while no one listens

        assert wait_for(lambda: paid(payments) == 2, timeout=10)
        replaced = listener_pids(url)
        assert len(replaced) == 1 and replaced != first

        create_orders_elsewhere(env, 1)  # heard by the new connection
        assert wait_for(lambda: paid(payments) == 3, timeout=5)
        print("ok", flush=True)


def test_a_broken_listening_connection_is_reported_and_replaced(
    postgres_url: str, tmp_path: Path
) -> None:
    output = tmp_path / "output.txt"
    code, logged = run_script(BROKEN_LISTENER, postgres_url, output=output)
    assert code == 0, logged
    assert "ok" in logged.split()
    # The actors' log reaches the starter's stderr at the latest as they stop.
    assert wait_for(lambda: "is back" in output.read_text(), timeout=5)
    logged = output.read_text()
    assert "no change feed on" in logged
    assert "is back; waking the followers of Orders, Payments, Reservations" in logged


def test_a_watcher_whose_timer_stalled_is_started_again(
    store_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once the flag is set, the watcher's next timer never fires, as seen under
    load (its processes inherit the patch: Thespian forks them from here)."""
    flag = tmp_path / "lose-the-next-timer"
    lost: list[object] = []
    set_timer = ChangeWatcher.wakeupAfter

    def losing_one(self: ChangeWatcher, period: object, payload: object = None) -> None:
        if flag.exists() and not lost:
            lost.append(period)
            return
        set_timer(self, period, payload=payload)

    monkeypatch.setattr(ChangeWatcher, "wakeupAfter", losing_one)
    with running(system, store_env, settings=SETTINGS) as runner:
        payments = runner.get(Payments)
        create_orders_elsewhere(store_env, 1)
        assert wait_for(lambda: paid(payments) == 1, timeout=5)
        flag.touch()
        create_orders_elsewhere(store_env, 1)
        assert wait_for(lambda: paid(payments) == 2, timeout=5)
