"""The orders cycle on 3 pipelines while slaves (and masters) are SIGKILLed.

Afterwards every order is paid and every application holds exactly the events
that eventsourcing's SingleThreadedRunner records for the same commands.
"""

from __future__ import annotations

import os
import random
import signal
import threading

import pytest
from eventsourcing.system import SingleThreadedRunner

from examples import orders
from tests.support.actors import running
from tests.support.counting import counts_by_application
from thespsys.processes import wait_for
from thespsys.runner import ThespianRunner
from thespsys.settings import RunnerSettings
from thespsys.supervision import Backoff, RestartPolicy
from thespsys.thespian_adapter import ActorTimeoutError

pytestmark = [pytest.mark.actors, pytest.mark.slow]

ORDERS = int(os.environ.get("THESPSYS_FAULT_ORDERS", "3000"))
SETTINGS = RunnerSettings(
    poll_interval=0.5,
    restarts=RestartPolicy(
        max_restarts=100_000, within_seconds=60, backoff=Backoff(0.01, 0.1)
    ),
)


class Killer(threading.Thread):
    """SIGKILLs a random slave every ``interval`` s, and every fifth time a master."""

    def __init__(self, runner: ThespianRunner, interval: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.runner = runner
        self.interval = interval
        self.stopping = threading.Event()
        self.killed = {"slave": 0, "master": 0}
        self.slow_status = 0
        self.random = random.Random(1)

    def run(self) -> None:
        round_number = 0
        while not self.stopping.wait(self.interval):
            round_number += 1
            kind = "master" if round_number % 5 == 0 else "slave"
            try:
                statuses = self.runner.status()
            except ActorTimeoutError:
                # Two cores saturated by the system and the kills: the actors
                # may answer late. Kill the next time round.
                self.slow_status += 1
                continue
            pids = [
                getattr(status, f"{kind}_pid")
                for status in statuses
                if getattr(status, f"{kind}_pid")
            ]
            if pids:
                try:
                    os.kill(self.random.choice(pids), signal.SIGKILL)
                    self.killed[kind] += 1
                except ProcessLookupError:
                    pass


def test_no_event_lost_or_duplicated_while_processes_are_killed(
    store_env: dict[str, str],
) -> None:
    with running(
        orders.system, store_env, pipeline_ids=range(3), settings=SETTINGS
    ) as runner:
        killer = Killer(runner)
        killer.start()
        try:
            app = runner.get(orders.Orders)
            order_ids = [app.create_order(f"customer-{i}") for i in range(ORDERS)]
            # Keep killing after the last command, until enough were killed.
            enough = wait_for(
                lambda: killer.killed["slave"] >= 10 and killer.killed["master"] >= 2,
                60,
            )
        finally:
            killer.stopping.set()
            killer.join()
        assert enough, killer.killed
        runner.wait(timeout=600)
        unpaid = [i for i in order_ids if not app.get_order(i).is_paid]
        assert unpaid == []
        actual = counts_by_application(runner)

    baseline = SingleThreadedRunner(
        orders.system, env={"PERSISTENCE_MODULE": "eventsourcing.popo"}
    )
    baseline.start()
    try:
        baseline_orders = baseline.get(orders.Orders)
        for i in range(ORDERS):
            baseline_orders.create_order(f"customer-{i}")
        expected = counts_by_application(baseline)
    finally:
        baseline.stop()
    assert actual == expected
