"""Prompt-driven latency: from a command on a leader to its downstream effect.

    python -m scripts.benchmark_latency [--commands 200] [--database-url URL]

One command at a time (light load) on the World/Counters system: the time from
``make_it_so()`` returning until Counters' tracking position has reached the
new event. Measured for ThespianRunner, with its messages sealed (the
default) and unsealed (``authenticate = false``), and, as the baseline in the
same run, for eventsourcing's MultiThreadedRunner (threads in one process, no
actors), on the same kind of database. Then what sealing and opening one
prompt costs, alone.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from typing import Any

from eventsourcing.system import MultiThreadedRunner, Runner

from examples.world_counters import Counters, WorldsApplication, system
from thespsys.actors.messages import Prompt
from thespsys.actors.sealing import Opener, SenderIdentity, seal
from thespsys.core.settings import RunnerSettings
from thespsys.runner import ThespianRunner

UNSEALED = RunnerSettings(authenticate=False)


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
            (
                "ThespianRunner unsealed",
                lambda env: ThespianRunner(system, env=env, settings=UNSEALED),
            ),
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
    print_sealing_cost()


def print_sealing_cost(rounds: int = 20_000) -> None:
    """One prompt, as the transport frames it, sealed and opened."""
    secret, port = b"s" * 64, 1900
    message = ("ActorAddr-(T|:41234)", Prompt("WorldsApplication", (3, 17)))
    identity = SenderIdentity()
    opener = Opener(secret, lambda: {port}, max_age=360.0)
    sealed = [seal(secret, identity, port, message) for _ in range(rounds)]
    started = time.perf_counter()
    for _ in range(rounds):
        seal(secret, identity, port, message)
    sealing = (time.perf_counter() - started) / rounds
    started = time.perf_counter()
    for data in sealed:
        opener.open(data)
    opening = (time.perf_counter() - started) / rounds
    print(
        f"one prompt ({len(sealed[0])} bytes sealed): seal {sealing * 1e6:.1f} µs, "
        f"open {opening * 1e6:.1f} µs (MAC, header, replay window, unpickling)"
    )


if __name__ == "__main__":
    main()
