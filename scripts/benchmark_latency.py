"""Prompt-driven latency: from a command on a leader to its downstream effect.

    python -m scripts.benchmark_latency [--commands 200] [--database-url URL]

One command at a time (light load) on the World/Counters system: the time from
``make_it_so()`` returning until Counters' tracking position has reached the
new event. Measured for ThespianRunner and, as the baseline in the same run,
for eventsourcing's MultiThreadedRunner (threads in one process, no actors),
on the same kind of database.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from typing import Any

from eventsourcing.system import MultiThreadedRunner, Runner

from examples.world_counters import Counters, WorldsApplication, system
from thespsys.runner import ThespianRunner


def measure(runner: Runner[Any], commands: int) -> list[float]:
    worlds = runner.get(WorldsApplication)
    counters = runner.get(Counters)
    world_id = worlds.create_world()
    latencies = []
    for i in range(commands):
        worlds.make_it_so(world_id, f"thing-{i % 10}")
        started = time.perf_counter()
        head = worlds.recorder.max_notification_id()
        while (counters.recorder.max_tracking_id(WorldsApplication.name) or 0) < head:
            time.sleep(0.0005)
        latencies.append(time.perf_counter() - started)
    return latencies


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=200)
    parser.add_argument("--database-url", help="default: fresh SQLite files")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, make in (
            ("MultiThreadedRunner", lambda env: MultiThreadedRunner(system, env=env)),
            ("ThespianRunner", lambda env: ThespianRunner(system, env=env)),
        ):
            url = args.database_url or f"sqlite:///{tmp}/{label}.db"
            env = {"PERSISTENCE_MODULE": "thespsys.persistence", "DATABASE_URL": url}
            with make(env) as runner:
                measure(runner, 10)  # warm up
                results[label] = measure(runner, args.commands)
    baseline = statistics.median(results["MultiThreadedRunner"])
    print(f"{'runner':<22}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}{'p50 ratio':>11}")
    for label, values in results.items():
        p50 = statistics.median(values)
        print(
            f"{label:<22}{p50 * 1000:>10.1f}{percentile(values, 0.99) * 1000:>10.1f}"
            f"{max(values) * 1000:>10.1f}{p50 / baseline:>10.1f}x"
        )


if __name__ == "__main__":
    main()
