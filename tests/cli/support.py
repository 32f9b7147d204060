"""Run the real ``thespsys`` command in subprocesses, and clean up after it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.actors import assert_actor_system_gone
from thespsys.core.processes import processes_in_group, wait_for
from thespsys.state_file import SystemRecord, read_record

ROOT = Path(__file__).parents[2]
ORDERS = "examples.orders:system"


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


class Cli:
    """``thespsys`` with this test's data directory and database."""

    def __init__(self, data_dir: Path, database_url: str) -> None:
        self.data_dir = data_dir
        self.database_url = database_url
        self.env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("THESPSYS_") or key.startswith("THESPSYS_TEST_")
        }

    def arguments(self, command: str, *extra: str) -> list[str]:
        common = ["--data-dir", str(self.data_dir)]
        common += ["--database-url", self.database_url]
        return [sys.executable, "-m", "thespsys", command, *common, *extra]

    def __call__(self, command: str, *extra: str, timeout: float = 90) -> Result:
        completed = subprocess.run(
            self.arguments(command, *extra),
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return Result(completed.returncode, completed.stdout, completed.stderr)

    def popen(self, command: str, *extra: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.arguments(command, *extra),
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def start(self, started: list[SystemRecord], *extra: str) -> SystemRecord:
        """``thespsys start``, which must succeed; its record joins ``started``
        (see ``nothing_left_behind``)."""
        result = self("start", *extra)
        assert result.code == 0, result.stderr
        record = self.record()
        assert record is not None
        started.append(record)
        return record

    def record(self) -> SystemRecord | None:
        return read_record(self.data_dir)

    def wait_for_record(self, timeout: float = 60) -> SystemRecord:
        assert wait_for(lambda: self.record() is not None, timeout, interval=0.05)
        record = self.record()
        assert record is not None
        return record


def kill_everything(record: SystemRecord) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(record.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(record.pgid, signal.SIGKILL)
    wait_for(lambda: not processes_in_group(record.pgid), 10)


@contextlib.contextmanager
def nothing_left_behind(cli: Cli) -> Iterator[list[SystemRecord]]:
    """Every system the test started (it appends their records) is gone at the
    end, and so is any still in the data directory; the test fails if one
    had to be killed here."""
    records: list[SystemRecord] = []
    try:
        yield records
    finally:
        last = cli.record()
        if last is not None:
            records.append(last)
        leftovers = [r for r in records if processes_in_group(r.pgid)]
        for record in records:
            kill_everything(record)
        for record in records:
            assert_actor_system_gone(record.pgid, record.admin_port)
            assert not record.owner_alive
    assert not leftovers, f"systems left running: {leftovers}"


def one_error_line(result: Result, *fragments: str) -> None:
    assert result.code != 0, result
    assert len(result.error_lines) == 1, result.stderr
    line = result.error_lines[0]
    assert line.startswith("thespsys: error: "), line
    for fragment in fragments:
        assert fragment in line, line
