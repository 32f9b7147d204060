"""The main job: the orders cycle on a ThespianRunner, end to end, with progress.

    python -m examples.orders_demo [--orders 300] [--pipelines 2] [--database-url URL]

By default it runs on an embedded SQLite file, ``var/orders-demo.db``, made
afresh each run.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from examples.orders import Orders, Payments, system
from thespsys.runner import ThespianRunner

DEFAULT_DATABASE = Path("var/orders-demo.db")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=300, help="orders to create")
    parser.add_argument("--pipelines", type=int, default=2, help="pipelines to run")
    parser.add_argument(
        "--database-url", help="SQLAlchemy URL (default: a fresh SQLite file)"
    )
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="seconds to wait at most"
    )
    args = parser.parse_args(argv)
    if args.orders < 1 or args.pipelines < 1:
        parser.error("--orders and --pipelines must be at least 1")
    return args


def fresh_sqlite_url(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console()
    url = args.database_url or fresh_sqlite_url(DEFAULT_DATABASE)
    env = {"PERSISTENCE_MODULE": "thespsys.persistence", "DATABASE_URL": url}
    console.print(
        f"[bold]thespsys[/] orders cycle: {args.orders} orders, "
        f"{args.pipelines} pipelines, database {url}"
    )
    with ThespianRunner(system, env=env, pipeline_ids=range(args.pipelines)) as runner:
        console.print(f"actor system up on 127.0.0.1:{runner.admin_port}")
        orders = runner.get(Orders)
        payments = runner.get(Payments)
        started = time.monotonic()
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            created = progress.add_task("orders created", total=args.orders)
            paid = progress.add_task("orders paid   ", total=args.orders)
            order_ids = []
            for _ in range(args.orders):
                order_ids.append(orders.create_order())
                progress.advance(created)
                progress.update(
                    paid, completed=payments.recorder.max_notification_id() or 0
                )
            deadline = started + args.timeout
            while (done := payments.recorder.max_notification_id() or 0) < args.orders:
                progress.update(paid, completed=done)
                if time.monotonic() > deadline:
                    console.print(f"[red]only {done} of {args.orders} paid in time")
                    return 1
                time.sleep(0.1)
            progress.update(paid, completed=args.orders)
        runner.wait(timeout=args.timeout)
        elapsed = time.monotonic() - started
        unpaid = [i for i in order_ids if not orders.get_order(i).is_paid]
        table = Table(title="Result")
        table.add_column("application")
        table.add_column("events", justify="right")
        for name in system.nodes:
            app = runner.get(system.get_app_cls(name))
            table.add_row(name, str(app.recorder.max_notification_id() or 0))
        console.print(table)
        console.print(
            f"{args.orders} orders reserved and paid in {elapsed:.2f} s "
            f"({args.orders / elapsed:.0f} orders/s), {len(unpaid)} unpaid"
        )
        return 0 if not unpaid else 1


if __name__ == "__main__":
    sys.exit(main())
