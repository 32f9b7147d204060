"""Soak: the orders cycle under a steady load, with what to watch before an upgrade.

    python -m scripts.soak [--duration 600] [--rate 50] [--pipelines 3]
                           [--interval 10] [--postgres ADMIN_URL]

Creates ``--rate`` orders a second for ``--duration`` seconds on a fresh
database (a SQLite file, or a PostgreSQL database made through ADMIN_URL and
dropped afterwards), calls status() twice a second, and prints a row per
interval: seconds, orders created, events recorded per second, notification
ids the followers are behind, messages per second through the SystemActor,
actor messages per recorded event, status() p99, the largest PSS of one
process of each kind, open file descriptors of all actor processes and
database connections. At the end: memory growth per process after a warm-up,
status() latency, Thespian's "tx-only mode" warnings (its transmit queue
overflowing), and how long stop() took and whether it had to kill anything.
Exit status 1 if any of those bounds is broken.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from examples.orders import Orders, new_customer, system
from tests.support.databases import fresh_database
from thespsys.actors.message_counts import count_messages
from thespsys.runner import ThespianRunner
from thespsys.soak import TABLE_HEADER, Sample, Soak, percentile, thespian_log_count

WARM_UP = 0.2  # share of the run before memory must stay flat
MAX_GROWTH_KIB = 2048
MAX_STATUS_P99 = 0.1
MAX_STOP_SECONDS = 5.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=600.0, help="seconds")
    parser.add_argument("--rate", type=float, default=50.0, help="orders/s")
    parser.add_argument("--pipelines", type=int, default=3)
    parser.add_argument("--interval", type=float, default=10.0, help="seconds")
    parser.add_argument(
        "--status-every", type=float, default=0.5, help="seconds between status()"
    )
    parser.add_argument(
        "--postgres",
        metavar="ADMIN_URL",
        help="make a fresh PostgreSQL database through this URL (e.g. "
        "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres); "
        "default: a fresh SQLite file",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="thespsys-soak-") as tmp:
        directory = Path(tmp)
        thespian_log = directory / "thespian.log"
        os.environ["THESPLOG_FILE"] = str(thespian_log)  # before any actor
        count_messages(directory / "counts")
        with fresh_database(args.postgres, directory / "soak.db") as url:
            env = {"PERSISTENCE_MODULE": "thespsys.persistence", "DATABASE_URL": url}
            runner = ThespianRunner(system, env=env, pipeline_ids=range(args.pipelines))
            runner.start()
            try:
                orders = runner.get(Orders)
                print(
                    f"orders cycle, {args.rate:g} orders/s for {args.duration:g} s, "
                    f"{args.pipelines} pipelines, {url}\n{TABLE_HEADER}",
                    flush=True,
                )
                rows: list[Sample] = []

                def show(sample: Sample) -> None:
                    print(sample.row(rows[-1] if rows else None), flush=True)
                    rows.append(sample)

                soak = Soak(
                    runner,
                    lambda: orders.create_order(new_customer()),
                    args.rate,
                    directory / "counts",
                    url,
                    args.status_every,
                )
                report = soak.run(args.duration, args.interval, show)
                runner.wait(timeout=max(60.0, args.duration))
            finally:
                began = time.monotonic()
                runner.stop()
                stop_seconds = time.monotonic() - began
        tx_only = thespian_log_count(thespian_log, "tx-only mode")

    print(report.summary(WARM_UP))
    print(f"Thespian 'tx-only mode' warnings: {tx_only}")
    print(
        f"stop(): {stop_seconds:.2f} s, killed {list(runner.killed_on_stop) or 'none'}"
    )
    growth = max(
        (kib for _, kib in report.memory_growth_kib(WARM_UP, "rss").values()),
        default=0,
    )
    ok = (
        growth < MAX_GROWTH_KIB
        and percentile(report.status_seconds(), 99) < MAX_STATUS_P99
        and report.status_failures == 0
        and tx_only == 0
        and not runner.killed_on_stop
        and stop_seconds < MAX_STOP_SECONDS
    )
    print("within bounds" if ok else "OUT OF BOUNDS")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
