"""A second runner joins a running actor system instead of starting one."""

from __future__ import annotations

import pytest
from eventsourcing.system import System

from examples.world_counters import Counters, WorldsApplication, system
from tests.runner.apps import Notes, Tallies
from tests.support.actors import running
from thespsys.actors.thespian_adapter import free_port, port_accepts_connections
from thespsys.core.settings import RunnerSettings
from thespsys.errors import ConfigurationError, RunnerStartError
from thespsys.runner import ThespianRunner

pytestmark = pytest.mark.actors


def test_joined_runner_prompts_and_leaves_the_system_running(sqlite_url: str) -> None:
    env = {"PERSISTENCE_MODULE": "thespsys.persistence", "DATABASE_URL": sqlite_url}
    with running(system, env) as owner:
        joined = ThespianRunner(
            system, env=env, settings=RunnerSettings(admin_port=owner.admin_port)
        )
        joined.start()
        try:
            assert not joined.owns_actor_system
            worlds = joined.get(WorldsApplication)
            worlds.make_it_so(worlds.create_world(), "joined")
            joined.wait(timeout=20)
            assert joined.get(Counters).get_count("joined") == 1
        finally:
            joined.stop()
        # The owner's actors still run.
        worlds = owner.get(WorldsApplication)
        worlds.make_it_so(worlds.create_world(), "after")
        owner.wait(timeout=20)
        assert owner.get(Counters).get_count("after") == 1


def test_joining_with_another_system_fails_clearly(sqlite_url: str) -> None:
    env = {"PERSISTENCE_MODULE": "thespsys.persistence", "DATABASE_URL": sqlite_url}
    with running(system, env) as owner:
        other = ThespianRunner(
            System(pipes=[[Notes, Tallies]]),
            env=env,
            settings=RunnerSettings(admin_port=owner.admin_port),
        )
        with pytest.raises(RunnerStartError, match="another system"):
            other.start()
        assert not other.is_started


def test_join_only_never_starts_an_actor_system(sqlite_url: str) -> None:
    env = {"PERSISTENCE_MODULE": "thespsys.persistence", "DATABASE_URL": sqlite_url}
    port = free_port()
    runner = ThespianRunner(
        system, env=env, settings=RunnerSettings(admin_port=port), join=True
    )
    with pytest.raises(
        RunnerStartError, match=f"no actor system runs at admin port {port}"
    ):
        runner.start()
    assert not runner.is_started
    assert not port_accepts_connections(port)
    with pytest.raises(ConfigurationError, match="admin_port"):
        ThespianRunner(system, env=env, join=True)  # joining needs the port
