"""End-to-end throughput of the orders cycle: ThespianRunner against a baseline.

    python -m scripts.benchmark_orders [--orders 500] [--postgres ADMIN_URL]
        [--batch-size N]

Creates the orders, then waits until every one is paid (5 events and 5
transactions per order). The baseline, measured in the same run on the same
kind of database and the same store, is eventsourcing's MultiThreadedRunner
(one process, a thread per application).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eventsourcing.system import MultiThreadedRunner, Runner

from examples.orders import Orders, Payments, system
from tests.support.databases import fresh_database
from thespsys.core.settings import RunnerSettings
from thespsys.runner import ThespianRunner


def orders_per_second(runner: Runner[Any], count: int) -> float:
    orders = runner.get(Orders)
    payments = runner.get(Payments)
    started = time.perf_counter()
    for i in range(count):
        orders.create_order(f"customer-{i}")
    while (payments.recorder.max_notification_id() or 0) < count:
        time.sleep(0.01)
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument(
        "--postgres",
        metavar="ADMIN_URL",
        help="make a fresh PostgreSQL database per runner through this URL "
        "(e.g. postgresql+psycopg2://postgres@127.0.0.1:5432/postgres); "
        "default: fresh SQLite files",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=RunnerSettings().batch_size,
        help="the ThespianRunner's notifications per transaction (1: one at a time)",
    )
    args = parser.parse_args()
    settings = RunnerSettings(batch_size=args.batch_size)
    runners: dict[str, Callable[[dict[str, str]], Runner[Any]]] = {
        "MultiThreadedRunner": lambda env: MultiThreadedRunner(system, env=env),
        "ThespianRunner, 1 pipeline": lambda env: ThespianRunner(
            system, env=env, settings=settings
        ),
        "ThespianRunner, 3 pipelines": lambda env: ThespianRunner(
            system, env=env, pipeline_ids=range(3), settings=settings
        ),
    }
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for number, (label, make) in enumerate(runners.items()):
            with fresh_database(
                args.postgres, Path(tmp) / f"orders-{number}.db"
            ) as url:
                env = {
                    "PERSISTENCE_MODULE": "thespsys.persistence",
                    "DATABASE_URL": url,
                }
                with make(env) as runner:
                    results[label] = orders_per_second(runner, args.orders)
    baseline = results["MultiThreadedRunner"]
    print(f"{'runner':<30}{'orders/s':>10}{'ratio':>8}")
    for label, rate in results.items():
        print(f"{label:<30}{rate:>10.0f}{rate / baseline:>7.2f}x")


if __name__ == "__main__":
    main()
