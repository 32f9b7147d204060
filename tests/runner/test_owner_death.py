"""An actor system ends within seconds of the death of the process that
started it, however it dies: its processes and its port are gone."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.actors import assert_actor_system_gone
from thespsys.core.processes import processes_in_group, wait_for

pytestmark = pytest.mark.actors

ROOT = Path(__file__).parents[2]
OWNER = """
import json, sys, time
from examples.orders import system
from thespsys import ThespianRunner
env = {"PERSISTENCE_MODULE": "thespsys.persistence", "DATABASE_URL": sys.argv[1]}
runner = ThespianRunner(system, env=env, pipeline_ids=range(2))
runner.start()
print(json.dumps({"pgid": runner.pgid, "port": runner.admin_port}), flush=True)
time.sleep(600)
"""


@pytest.mark.parametrize(
    "signal_number", [signal.SIGTERM, signal.SIGHUP, signal.SIGKILL]
)
def test_the_actor_system_ends_with_its_owner(
    sqlite_url: str, signal_number: int
) -> None:
    owner = subprocess.Popen(
        [sys.executable, "-c", OWNER, sqlite_url],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert owner.stdout is not None
    started = json.loads(owner.stdout.readline())
    pgid, port = started["pgid"], started["port"]
    try:
        assert len(processes_in_group(pgid)) >= 10
        owner.send_signal(signal_number)
        owner.wait(timeout=10)
        # The owner's end of the pipe is closed; the actors hold none of it.
        assert owner.stdout.read() == ""
        assert wait_for(lambda: not processes_in_group(pgid), 10, interval=0.05)
    finally:
        owner.kill()
        if processes_in_group(pgid):
            os.killpg(pgid, signal.SIGKILL)
    assert_actor_system_gone(pgid, port)
