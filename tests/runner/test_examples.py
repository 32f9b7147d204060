"""The user's examples on a real multiprocTCPBase actor system and database."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from eventsourcing.system import SingleThreadedRunner

from examples import orders, world_counters
from tests.support.actors import running
from tests.support.counting import counts_by_application

pytestmark = pytest.mark.actors


def test_world_counters_gives_the_same_counts(store_env: dict[str, str]) -> None:
    with running(world_counters.system, store_env) as runner:
        worlds = runner.get(world_counters.WorldsApplication)
        counters = runner.get(world_counters.Counters)
        world_ids = [worlds.create_world() for _ in range(3)]
        runner.wait(timeout=20)
        assert counters.get_count("dinosaurs") == 0

        for world_id in world_ids:
            worlds.make_it_so(world_id, "dinosaurs")
        worlds.make_it_so(world_ids[0], "trucks")
        worlds.make_it_so(world_ids[1], "trucks")
        worlds.make_it_so(world_ids[0], "internet")
        runner.wait(timeout=20)

        assert counters.get_count("dinosaurs") == 3
        assert counters.get_count("trucks") == 2
        assert counters.get_count("internet") == 1


def run_orders(runner: object, count: int) -> list[object]:
    app = runner.get(orders.Orders)  # type: ignore[attr-defined]
    return [app.create_order(f"customer-{i}") for i in range(count)]


@pytest.mark.parametrize("pipelines", [1, 3])
def test_orders_cycle_matches_single_threaded_runner(
    store_env: dict[str, str], pipelines: int
) -> None:
    count = 40
    with running(orders.system, store_env, pipeline_ids=range(pipelines)) as runner:
        order_ids = run_orders(runner, count)
        runner.wait(timeout=60)
        orders_app = runner.get(orders.Orders)
        for order_id in order_ids:
            order = orders_app.get_order(order_id)
            assert order.is_reserved and order.is_paid
            reservation = runner.get(orders.Reservations).repository.get(
                order.reservation_id
            )
            payment = runner.get(orders.Payments).repository.get(order.payment_id)
            assert reservation.order_id == order_id == payment.order_id
        actual = counts_by_application(runner)

    baseline = SingleThreadedRunner(
        orders.system, env={"PERSISTENCE_MODULE": "eventsourcing.popo"}
    )
    baseline.start()
    try:
        run_orders(baseline, count)
        expected = counts_by_application(baseline)
    finally:
        baseline.stop()
    assert actual == expected
    assert sum(expected["Orders"].values()) == 3 * count
    assert sum(expected["Reservations"].values()) == count
    assert sum(expected["Payments"].values()) == count


def test_world_counters_runs_as_a_script() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "examples.world_counters"],
        cwd=Path(__file__).parents[2],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "'dinosaurs': 3, 'trucks': 2, 'internet': 1" in result.stdout


def test_orders_demo_runs_as_the_readme_main_job(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "examples.orders_demo",
            "--orders",
            "30",
            "--database-url",
            url,
        ],
        cwd=Path(__file__).parents[2],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "30 orders reserved and paid" in result.stdout
    assert "0 unpaid" in result.stdout
