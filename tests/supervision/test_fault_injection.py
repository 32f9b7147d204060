"""The orders cycle on 3 pipelines while slaves (and masters) are SIGKILLed.

Afterwards every order is paid and every application holds exactly the events
that eventsourcing's SingleThreadedRunner records for the same commands.
"""

from __future__ import annotations

import os

import pytest
from eventsourcing.system import SingleThreadedRunner

from examples import orders
from tests.support.actors import running
from tests.support.counting import counts_by_application
from tests.support.killing import Killer
from thespsys.core.settings import RunnerSettings
from thespsys.core.supervision import Backoff, RestartPolicy

pytestmark = [pytest.mark.actors, pytest.mark.slow]

ORDERS = int(os.environ.get("THESPSYS_TEST_FAULT_ORDERS", "3000"))
SETTINGS = RunnerSettings(
    poll_interval=0.5,
    restarts=RestartPolicy(
        max_restarts=100_000, within_seconds=60, backoff=Backoff(0.01, 0.1)
    ),
)


def test_no_event_lost_or_duplicated_while_processes_are_killed(
    store_env: dict[str, str],
) -> None:
    with running(
        orders.system, store_env, pipeline_ids=range(3), settings=SETTINGS
    ) as runner:
        with Killer(runner) as killer:
            app = runner.get(orders.Orders)
            order_ids = [app.create_order(f"customer-{i}") for i in range(ORDERS)]
            # Keep killing after the last command, until enough were killed.
            enough = killer.kept_up_until(slaves=10, masters=2, timeout=60)
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
