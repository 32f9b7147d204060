"""The orders cycle end to end: ThespianRunner against eventsourcing's runners.

    python -m scripts.benchmark_orders [--orders 500] [--latency-commands 100]
        [--database sqlite|postgres|both] [--postgres ADMIN_URL]
        [--only TEXT ...] [--json PATH] [--chart PATH]

For each database kind, in one invocation on one machine: eventsourcing's
SingleThreadedRunner and MultiThreadedRunner, each on eventsourcing's own store
(``eventsourcing.sqlite`` / ``eventsourcing.postgres``) and on
``thespsys.persistence``; the ThespianRunner with 1, 2 and 4 pipelines, for
each batching setting in ``BATCHING``. Each runs in a process of its own on a
fresh database, and reports:

- orders/s and events/s: ``--orders`` orders created from the runner's
  process, until every one is paid (5 events, 5 transactions per order);
  the ratio is to the best MultiThreadedRunner figure on that database;
- latency from a command to its order being paid, one command at a time
  (light load), p50 and p99: commands from the runner's process, and, for the
  ThespianRunner, from another process using the plain application class
  (eventsourcing's runners never see those);
- peak memory: the PSS (``/proc/<pid>/smaps_rollup``) of the whole process
  tree, the actor processes included, sampled while the orders are processed.

Writes the figures as JSON and a chart (PNG; needs the ``bench`` extra:
``pip install -e .[bench]``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).parents[1]
DEFAULT_ADMIN_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
EVENTS_PER_ORDER = 5
ORDERS_EVENTS_PER_ORDER = 3  # Created, Reserved, Paid
PSS_SAMPLE_INTERVAL = 0.2

# RunnerSettings overrides per batching variant: extend here. A variant whose
# settings this version of RunnerSettings lacks is skipped, with a note.
BATCHING: dict[str, dict[str, Any]] = {
    "unbatched": {"batch_size": 1},
    "batched": {"batch_size": 100},
}
PIPELINES = (1, 2, 4)


@dataclass(frozen=True)
class Variant:
    runner: str  # SingleThreadedRunner, MultiThreadedRunner, ThespianRunner
    store: str  # eventsourcing, thespsys
    pipelines: int | None = None
    batching: str | None = None

    @property
    def label(self) -> str:
        if self.runner != "ThespianRunner":
            return f"{self.runner}, {self.store} store"
        plural = "" if self.pipelines == 1 else "s"
        return f"ThespianRunner, {self.pipelines} pipeline{plural}, {self.batching}"


def variants() -> list[Variant]:
    found = [
        Variant(runner, store)
        for runner in ("SingleThreadedRunner", "MultiThreadedRunner")
        for store in ("eventsourcing", "thespsys")
    ]
    found += [
        Variant("ThespianRunner", "thespsys", pipelines, batching)
        for batching in BATCHING
        for pipelines in PIPELINES
    ]
    return found


def missing_settings(variant: Variant) -> list[str]:
    if variant.batching is None:
        return []
    from thespsys.core.settings import RunnerSettings

    known = {each.name for each in dataclasses.fields(RunnerSettings)}
    return sorted(set(BATCHING[variant.batching]) - known)


# The databases


def store_env(store: str, url: str) -> dict[str, str]:
    if store == "thespsys":
        return {"PERSISTENCE_MODULE": "thespsys.persistence", "DATABASE_URL": url}
    from tests.support.databases import eventsourcing_store_env

    return eventsourcing_store_env(url)


@contextmanager
def fresh_url(database: str, admin_url: str, tmp: Path, name: str) -> Iterator[str]:
    if database == "sqlite":
        yield f"sqlite:///{tmp / (name + '.db')}"
        return
    from tests.support.databases import temporary_postgres_database

    with temporary_postgres_database(admin_url) as url:
        yield url


# One variant, in a process of its own


def make_runner(variant: Variant, env: dict[str, str]) -> Any:
    from eventsourcing.system import MultiThreadedRunner, SingleThreadedRunner

    from examples.orders import system
    from thespsys.core.settings import RunnerSettings
    from thespsys.runner import ThespianRunner

    if variant.runner == "SingleThreadedRunner":
        return SingleThreadedRunner(system, env=env)
    if variant.runner == "MultiThreadedRunner":
        return MultiThreadedRunner(system, env=env)
    assert variant.pipelines is not None and variant.batching is not None
    settings = RunnerSettings(**BATCHING[variant.batching])
    return ThespianRunner(
        system, env=env, pipeline_ids=range(variant.pipelines), settings=settings
    )


class PeakPss:
    """The largest PSS sum over this process and ``groups()``' processes."""

    def __init__(self, groups: Callable[[], list[int]]) -> None:
        self._groups = groups
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        from thespsys.core.processes import processes_in_group, pss_kib

        while True:
            pids = {os.getpid()}
            for pgid in self._groups():
                pids.update(processes_in_group(pgid))
            total = sum(pss_kib(pid) or 0 for pid in pids)
            self.peak_kib = max(self.peak_kib, total)
            if self._stop.wait(PSS_SAMPLE_INTERVAL):
                return

    def __enter__(self) -> PeakPss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    checked = time.monotonic()
    while not condition():
        now = time.monotonic()
        if now > deadline:
            raise TimeoutError(f"{what}: not within {timeout:g} s")
        if now - checked > 0.5 and _raise_errors is not None:
            checked = now
            _raise_errors()  # a failed runner never gets there
        time.sleep(0.0005)


_raise_errors: Callable[[], object] | None = None


def paid_orders(orders: Any) -> int:
    return int(orders.recorder.max_notification_id() or 0) // ORDERS_EVENTS_PER_ORDER


def throughput(runner: Any, count: int) -> float:
    from examples.orders import Orders

    orders = runner.get(Orders)
    started = time.perf_counter()
    for i in range(count):
        orders.create_order(f"customer-{i}")
    wait_until(lambda: paid_orders(orders) >= count, 600, f"{count} orders paid")
    return count / (time.perf_counter() - started)


def latencies_here(runner: Any, commands: int) -> list[float]:
    from examples.orders import Orders

    orders = runner.get(Orders)
    found = []
    for _ in range(commands):
        done = paid_orders(orders) + 1
        started = time.monotonic()
        orders.create_order("light")
        wait_until(lambda d=done: paid_orders(orders) >= d, 30, "one order paid")
        found.append(time.monotonic() - started)
        time.sleep(0.005)  # light load: the actors are idle again
    return found


WRITER = """
import json, sys, time
from examples.orders import Orders
orders = Orders(env=json.loads(sys.argv[1]))
for line in sys.stdin:
    started = time.monotonic()
    orders.create_order("elsewhere")
    print(started, flush=True)
"""


def latencies_elsewhere(runner: Any, env: dict[str, str], commands: int) -> list[float]:
    """Commands by the plain application class in another process; the clock
    (CLOCK_MONOTONIC) is the machine's, so both processes read the same one."""
    from examples.orders import Orders

    orders = runner.get(Orders)
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, json.dumps(env)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert writer.stdin is not None and writer.stdout is not None
    found = []
    try:
        for _ in range(commands):
            done = paid_orders(orders) + 1
            writer.stdin.write("go\n")
            writer.stdin.flush()
            started = float(writer.stdout.readline())
            wait_until(lambda d=done: paid_orders(orders) >= d, 30, "one order paid")
            found.append(time.monotonic() - started)
            time.sleep(0.005)
    finally:
        writer.stdin.close()
        writer.wait(timeout=30)
    return found


def percentiles_ms(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return {"p50": statistics.median(ordered) * 1000, "p99": p99 * 1000}


def run_one(variant: Variant, env: dict[str, str], orders: int, commands: int) -> dict:
    global _raise_errors
    runner = make_runner(variant, env)
    runner.start()
    if hasattr(runner, "watch_for_errors"):  # not SingleThreadedRunner: it raises
        _raise_errors = lambda: runner.watch_for_errors(0)  # noqa: E731
    try:
        groups = [runner.pgid] if getattr(runner, "pgid", None) else []
        pgid, port = getattr(runner, "pgid", None), getattr(runner, "admin_port", None)
        with PeakPss(lambda: groups) as peak:
            rate = throughput(runner, orders)
        warm_up = min(5, commands)
        latencies_here(runner, warm_up)
        here = latencies_here(runner, commands)
        elsewhere: list[float] = []
        if variant.runner == "ThespianRunner":
            elsewhere = latencies_elsewhere(runner, env, warm_up + commands)
            elsewhere = elsewhere[warm_up:]
    finally:
        runner.stop()
    return {
        "orders_per_second": rate,
        "events_per_second": rate * EVENTS_PER_ORDER,
        "latency_ms": {
            "runner_process": percentiles_ms(here),
            "other_process": percentiles_ms(elsewhere),
        },
        "peak_pss_mb": peak.peak_kib / 1024,
        # So that whoever ran this can check that the actor system is gone.
        "actor_system": {
            "pgid": pgid,
            "admin_port": port,
        },
    }


# The whole benchmark


def measure(
    variant: Variant, database: str, args: argparse.Namespace, tmp: Path, number: int
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "database": database,
        "label": variant.label,
        **dataclasses.asdict(variant),
    }
    missing = missing_settings(variant)
    if missing:
        result["skipped"] = (
            f"RunnerSettings has no {', '.join(missing)} in this version"
        )
        return result
    with fresh_url(database, args.postgres, tmp, f"orders-{number}") as url:
        command = [
            sys.executable,
            "-m",
            "scripts.benchmark_orders",
            "--run-one",
            json.dumps([dataclasses.asdict(variant), store_env(variant.store, url)]),
            "--orders",
            str(args.orders),
            "--latency-commands",
            str(args.latency_commands),
        ]
        try:
            completed = subprocess.run(
                command, cwd=ROOT, capture_output=True, text=True, timeout=args.timeout
            )
        except subprocess.TimeoutExpired as error:
            log_child(args, variant, database, error.stderr)
            result["failed"] = f"no result within {args.timeout:g} s"
            return result
    log_child(args, variant, database, completed.stderr)
    if completed.returncode != 0:
        lines = completed.stderr.strip().splitlines()
        result["failed"] = lines[-1] if lines else f"exit code {completed.returncode}"
        return result
    result.update(json.loads(completed.stdout.strip().splitlines()[-1]))
    return result


def log_child(
    args: argparse.Namespace, variant: Variant, database: str, stderr: Any
) -> None:
    """What each run wrote to stderr (the actors' warnings, a traceback)."""
    if isinstance(stderr, bytes):
        stderr = stderr.decode(errors="replace")
    with args.json.with_suffix(".log").open("a") as log:
        log.write(f"== {database}: {variant.label}\n{stderr or ''}\n")


def add_ratios(results: list[dict[str, Any]]) -> None:
    for database in {r["database"] for r in results}:
        baseline = max(
            (
                r["orders_per_second"]
                for r in results
                if r["database"] == database
                and r["runner"] == "MultiThreadedRunner"
                and "orders_per_second" in r
            ),
            default=None,
        )
        for r in results:
            if r["database"] == database and "orders_per_second" in r and baseline:
                r["ratio_to_best_multithreaded"] = r["orders_per_second"] / baseline


def table(results: list[dict[str, Any]]) -> str:
    def latency(r: dict[str, Any], where: str) -> str:
        figures = r.get("latency_ms", {}).get(where)
        return f"{figures['p50']:.1f} / {figures['p99']:.1f}" if figures else "-"

    head = (
        f"{'database':<9}{'runner':<44}{'orders/s':>9}{'events/s':>10}{'ratio':>8}"
        f"{'ms here p50/p99':>18}{'ms elsewhere':>16}{'PSS MB':>8}"
    )
    lines = [head]
    for r in results:
        start = f"{r['database']:<9}{r['label']:<44}"
        if "orders_per_second" not in r:
            lines.append(start + f"  {r.get('skipped') or r.get('failed')}")
            continue
        ratio = r.get("ratio_to_best_multithreaded")
        lines.append(
            start
            + f"{r['orders_per_second']:>9.0f}{r['events_per_second']:>10.0f}"
            + (f"{ratio:>7.2f}x" if ratio else f"{'-':>8}")
            + f"{latency(r, 'runner_process'):>18}{latency(r, 'other_process'):>16}"
            + f"{r['peak_pss_mb']:>8.0f}"
        )
    return "\n".join(lines)


def chart(results: list[dict[str, Any]], path: Path, orders: int) -> str | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "no chart: matplotlib is missing (pip install -e .[bench])"
    databases = sorted({r["database"] for r in results if "orders_per_second" in r})
    if not databases:
        return "no chart: nothing was measured"
    figure, axes = plt.subplots(
        1, len(databases), figsize=(7 * len(databases), 6), squeeze=False
    )
    for axis, database in zip(axes[0], databases, strict=True):
        rows = [r for r in results if r["database"] == database]
        labels = [r["label"] for r in rows]
        rates = [r.get("orders_per_second", 0.0) for r in rows]
        colours = [
            "tab:blue" if r["runner"] == "ThespianRunner" else "tab:gray" for r in rows
        ]
        bars = axis.barh(labels, rates, color=colours)
        for bar, r in zip(bars, rows, strict=True):
            ratio = r.get("ratio_to_best_multithreaded")
            note = "skipped" if "skipped" in r else "failed"
            axis.text(
                bar.get_width(),
                bar.get_y() + bar.get_height() / 2,
                f" {ratio:.2f}x" if ratio else f" {note}",
                va="center",
                fontsize=8,
            )
        axis.invert_yaxis()
        axis.set_xlabel(f"orders/s until all paid ({orders} orders)")
        axis.set_title(database)
    figure.suptitle(
        "thespsys: the orders cycle (ratio to the best MultiThreadedRunner)"
    )
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=90)
    plt.close(figure)
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--latency-commands", type=int, default=100)
    parser.add_argument(
        "--database", choices=("sqlite", "postgres", "both"), default="both"
    )
    parser.add_argument(
        "--postgres",
        metavar="ADMIN_URL",
        default=os.environ.get("THESPSYS_TEST_POSTGRES_URL", DEFAULT_ADMIN_URL),
        help="a fresh PostgreSQL database per runner is made through this URL",
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="TEXT",
        help="only the runners whose label contains TEXT (repeatable), e.g. "
        "'MultiThreadedRunner' or '1 pipeline, unbatched'",
    )
    parser.add_argument("--json", type=Path, default=Path("var/benchmark_orders.json"))
    parser.add_argument("--chart", type=Path, default=Path("docs/benchmark_orders.png"))
    parser.add_argument(
        "--timeout",
        type=float,
        default=600.0,
        help="seconds one runner may take before it counts as failed",
    )
    parser.add_argument("--run-one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.run_one:
        fields, env = json.loads(args.run_one)
        result = run_one(Variant(**fields), env, args.orders, args.latency_commands)
        print(json.dumps(result))
        return 0

    databases = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    chosen = [
        v for v in variants() if not args.only or any(t in v.label for t in args.only)
    ]
    plan = [(database, v) for database in databases for v in chosen]
    results = []
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.with_suffix(".log").write_text("")
    with tempfile.TemporaryDirectory() as tmp:
        for number, (database, variant) in enumerate(plan, 1):
            print(f"[{number}/{len(plan)}] {database}: {variant.label} ...", flush=True)
            started = time.monotonic()
            result = measure(variant, database, args, Path(tmp), number)
            note = result.get("skipped") or result.get("failed")
            done = (
                f"{result['orders_per_second']:.0f} orders/s"
                if "orders_per_second" in result
                else f"{'skipped' if 'skipped' in result else 'failed'}: {note}"
            )
            print(f"    {done} ({time.monotonic() - started:.0f} s)", flush=True)
            results.append(result)
    add_ratios(results)
    print()
    print(table(results))
    report = {
        "orders": args.orders,
        "latency_commands": args.latency_commands,
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "results": results,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {args.json}")
    problem = chart(results, args.chart, args.orders)
    print(problem or f"wrote {args.chart}")
    # eventsourcing's own runners may fail on their own store (its
    # MultiThreadedRunner does on SQLite): reported, not this script's failure.
    return 1 if any("failed" in r and r["store"] == "thespsys" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
