"""scripts/benchmark_orders.py runs end to end with tiny numbers: it prints its
table and writes valid JSON and a PNG. (What it measures is not checked here:
speed belongs in the benchmark, not in tests.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.actors import assert_actor_system_gone

pytestmark = pytest.mark.actors

ROOT = Path(__file__).parents[1]


def test_the_orders_benchmark_runs_and_writes_its_report(tmp_path: Path) -> None:
    report, chart = tmp_path / "bench.json", tmp_path / "bench.png"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "scripts.benchmark_orders",
            "--orders=3",
            "--latency-commands=2",
            "--database=sqlite",
            "--only=MultiThreadedRunner, thespsys",
            "--only=1 pipeline",
            f"--json={report}",
            f"--chart={chart}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ratio" in result.stdout and "PSS MB" in result.stdout

    results = json.loads(report.read_text())["results"]
    labels = [r["label"] for r in results]
    assert labels == [
        "MultiThreadedRunner, thespsys store",
        "ThespianRunner, 1 pipeline, unbatched",
        "ThespianRunner, 1 pipeline, batched",
    ]
    baseline, thespian = results[0], results[1]
    assert baseline["ratio_to_best_multithreaded"] == 1.0
    assert baseline["latency_ms"]["other_process"] is None  # never sees them
    assert thespian["orders_per_second"] > 0
    assert thespian["peak_pss_mb"] > baseline["peak_pss_mb"]  # the actors count
    for where in ("runner_process", "other_process"):
        figures = thespian["latency_ms"][where]
        assert 0 < figures["p50"] <= figures["p99"]
    # Measured or skipped with a reason, never silently absent.
    assert "orders_per_second" in results[2] or results[2]["skipped"]
    assert chart.read_bytes().startswith(b"\x89PNG")
    actors = thespian["actor_system"]
    assert actors["pgid"] and actors["admin_port"]
    assert_actor_system_gone(actors["pgid"], actors["admin_port"])
