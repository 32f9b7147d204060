"""A script that ends without stop() leaves no actor process behind."""

from __future__ import annotations

import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from examples.world_counters import system
from tests.support.actors import assert_actor_system_gone, running
from tests.support.scripts import run_script
from thespsys import ActorSystemError, ConfigurationError, ThespianRunner
from thespsys.actors.thespian_adapter import ActorSystemHandle
from thespsys.core.processes import KINDS, actor_processes, processes_in_group, wait_for
from thespsys.core.secret import process_secret

pytestmark = pytest.mark.actors

SCRIPT = textwrap.dedent(
    """
    import sys
    from examples.world_counters import WorldsApplication, system
    from thespsys import ThespianRunner

    env = {"PERSISTENCE_MODULE": "thespsys.persistence", "DATABASE_URL": sys.argv[1]}
    runner = ThespianRunner(system, env=env)
    runner.start()
    worlds = runner.get(WorldsApplication)
    worlds.make_it_so(worlds.create_world(), "forgotten")
    print(runner.pgid, runner.admin_port, flush=True)
    # ends without runner.stop()
    """
)


def test_script_without_stop_leaves_nothing_running(
    sqlite_url: str, tmp_path: Path
) -> None:
    code, printed = run_script(SCRIPT, sqlite_url, output=tmp_path / "output.txt")
    assert code == 0, printed
    pgid, port = (int(word) for word in printed.split()[-2:])
    wait_for(lambda: not processes_in_group(pgid), timeout=10)
    assert_actor_system_gone(pgid, port)


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("DATABASE_URL", "nonsense://"),
        ("COUNTERS_ERROR_POLICY", "ignore"),
        ("PARK_AFTER_ATTEMPTS", "-1"),
    ],
)
def test_bad_settings_fail_clearly_before_any_actor(
    sqlite_url: str, setting: str, value: str
) -> None:
    """The database's settings when the applications are constructed (with
    the runner, as eventsourcing's runners do), the others at start()."""
    env = {
        "PERSISTENCE_MODULE": "thespsys.persistence",
        "DATABASE_URL": sqlite_url,
        setting: value,
    }
    runner: ThespianRunner | None = None
    with pytest.raises(ConfigurationError) as raised:
        runner = ThespianRunner(system, env=env)
        runner.start()
    assert raised.value.setting == setting
    assert runner is None or (runner.admin_port is None and not runner.is_started)


def test_status_from_several_threads_at_once(sqlite_url: str) -> None:
    env = {"PERSISTENCE_MODULE": "thespsys.persistence", "DATABASE_URL": sqlite_url}
    with running(system, env) as runner, ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: runner.status(), range(40)))
    assert all([s.application_name for s in rows] == ["Counters"] for rows in results)


def test_processes_are_told_apart_and_a_clean_stop_kills_none(sqlite_url: str) -> None:
    env = {"PERSISTENCE_MODULE": "thespsys.persistence", "DATABASE_URL": sqlite_url}
    with running(system, env, pipeline_ids=range(2)) as runner:
        assert runner.pgid is not None
        assert wait_for(lambda: all(s.slave_pid for s in runner.status()), 30)
        statuses = runner.status()
        kinds = actor_processes(runner.pgid)
        assert sorted(kinds.values()).count("master") == len(statuses)
        assert {kinds[s.master_pid] for s in statuses} == {"master"}
        assert {kinds[s.slave_pid] for s in statuses} == {"slave"}
        assert sorted(set(kinds.values())) == sorted(KINDS)
        assert list(kinds.values()).count("pipeline") == 2
        runner.stop()
        assert runner.killed_on_stop == ()


def test_a_runner_notices_its_actor_system_gone(sqlite_url: str) -> None:
    env = {"PERSISTENCE_MODULE": "thespsys.persistence", "DATABASE_URL": sqlite_url}
    runner = ThespianRunner(system, env=env)
    runner.start()
    pgid, port = runner.pgid, runner.admin_port
    assert port is not None
    try:
        ActorSystemHandle.join("multiprocTCPBase", port, process_secret()).shutdown()
        assert wait_for(lambda: not runner.actor_system_alive(), 10)
        began = time.monotonic()
        with pytest.raises(ActorSystemError, match="is gone"):
            runner.status()
        with pytest.raises(ActorSystemError, match="is gone"):
            runner.wait(timeout=10)
        assert time.monotonic() - began < 2
    finally:
        began = time.monotonic()
        runner.stop()
        assert time.monotonic() - began < 5
    assert_actor_system_gone(pgid, port)
