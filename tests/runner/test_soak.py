"""A steady load for a while: memory stays flat, status() stays fast, Thespian's
queues never overflow, and stop() ends everything without killing anything.

The bounds: the orders cycle at 50 orders/s (250 events/s) on 3 pipelines for
75 s; no actor process's PSS grows by 2 MB or more after the first 20% of the
run; status(), called twice a second, has a p99 under 100 ms (or, on a machine
so busy with other work that status() without any load already takes more
than 33 ms at p99, under three times that); no "tx-only mode" in Thespian's
log; stop() kills no process and takes under 5 s.

The same soak, for any duration and with a table per interval, is
``scripts/soak.py``.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import thespian.system.utilis

from examples.orders import Orders, new_customer, system
from tests.support.actors import running
from thespsys.soak import (
    TABLE_HEADER,
    Soak,
    SoakReport,
    percentile,
    thespian_log_count,
)

pytestmark = [pytest.mark.slow, pytest.mark.actors]

DURATION = 75.0  # seconds of load per database
INTERVAL = 2.5  # seconds between samples
RATE = 50.0  # orders a second: 250 events a second
PIPELINES = 3
WARM_UP = 0.2  # share of the run before memory must stay flat
# RSS growth of any actor process after the warm-up: the pages it touched
# itself. Its PSS rises too when the process it was forked from writes to pages
# they still share (which then count as the actor's alone): no growth of its own.
MAX_GROWTH_KIB = 2048
MAX_STATUS_P99 = 0.100  # seconds; or IDLE_RATIO times the idle p99, if more
# Two cores, 24 actor processes, PostgreSQL and 250 events/s: a status() of
# ~15 indexed queries took 4-4.5 times its idle p99 at its p99 here.
IDLE_RATIO = 5.0
MAX_STOP_SECONDS = 5.0


@pytest.fixture
def thespian_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Thespian's own log (where "tx-only mode" is reported), for this test.

    Thespian reads THESPLOG_FILE once per process, on first use, and forked
    processes inherit what it read: forget it, so that the admin forked for
    this test reads it afresh."""
    path = tmp_path / "thespian.log"
    monkeypatch.setenv("THESPLOG_FILE", str(path))
    monkeypatch.setattr(thespian.system.utilis, "_thesplog_file", None)
    return path


def table(report: SoakReport) -> str:
    rows = [
        sample.row(report.samples[number - 1] if number else None)
        for number, sample in enumerate(report.samples)
    ]
    return "\n".join([TABLE_HEADER, *rows, report.summary(WARM_UP)])


def test_steady_load(
    store_env: dict[str, str],
    database_url: str,
    thespian_log: Path,
    counts_dir: Path,
) -> None:
    with running(system, store_env, pipeline_ids=range(PIPELINES)) as runner:
        orders = runner.get(Orders)
        idle = []
        for number in range(35):  # the first five open connections and such
            began = time.perf_counter()
            runner.status()
            if number >= 5:
                idle.append(time.perf_counter() - began)
        soak = Soak(
            runner,
            lambda: orders.create_order(new_customer()),
            RATE,
            counts_dir,
            database_url,
        )
        report = soak.run(DURATION, INTERVAL, lambda sample: None)
        runner.wait(timeout=120)
        began = time.monotonic()
        runner.stop()
        stop_seconds = time.monotonic() - began
    print(f"status() without load: p99 {percentile(idle, 99) * 1000:.1f} ms")
    print(table(report))  # shown with -s, or -rP

    assert soak.commands >= 0.8 * RATE * DURATION, table(report)
    growth = report.memory_growth_kib(WARM_UP, "rss")
    assert len(growth) == len(report.samples[0].kinds), "a process was replaced"
    grown = {pid: each for pid, each in growth.items() if each[1] >= MAX_GROWTH_KIB}
    assert not grown, table(report)
    assert report.status_failures == 0, table(report)
    status_bound = max(MAX_STATUS_P99, IDLE_RATIO * percentile(idle, 99))
    assert percentile(report.status_seconds(), 99) < status_bound, (
        f"idle p99 {percentile(idle, 99) * 1000:.0f} ms\n{table(report)}"
    )
    assert thespian_log_count(thespian_log, "tx-only mode") == 0
    assert runner.killed_on_stop == ()
    assert stop_seconds < MAX_STOP_SECONDS
