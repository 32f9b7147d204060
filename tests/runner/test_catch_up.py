"""Events recorded without a prompt are processed: before start, while
stopped, and by another process while running."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from examples.world_counters import Counters, WorldsApplication, system
from tests.support.actors import running
from thespsys.core.settings import RunnerSettings

pytestmark = pytest.mark.actors


def test_events_recorded_before_start_and_while_stopped(
    store_env: dict[str, str],
) -> None:
    worlds = WorldsApplication(env=store_env)
    world_id = worlds.create_world()
    worlds.make_it_so(world_id, "before start")

    with running(system, store_env) as runner:
        runner.wait(timeout=20)
        assert runner.get(Counters).get_count("before start") == 1

    worlds.make_it_so(world_id, "while stopped")
    worlds.make_it_so(world_id, "while stopped")

    with running(system, store_env) as runner:
        runner.wait(timeout=20)
        counters = runner.get(Counters)
        assert counters.get_count("while stopped") == 2
        assert counters.get_count("before start") == 1
    worlds.close()


def test_event_from_another_process_is_processed_by_polling(
    store_env: dict[str, str],
) -> None:
    settings = RunnerSettings(poll_interval=0.5, wakeup_interval=0)
    with running(system, store_env, settings=settings) as runner:
        script = textwrap.dedent(
            """
            import json, sys
            from examples.world_counters import WorldsApplication
            worlds = WorldsApplication(env=json.loads(sys.argv[1]))
            worlds.make_it_so(worlds.create_world(), "elsewhere")
            """
        )
        subprocess.run(
            [sys.executable, "-c", script, json.dumps(store_env)],
            check=True,
            timeout=60,
            cwd=Path(__file__).parents[2],
        )
        # No prompt reached the actors, and nothing watches for changes:
        # only the poll timer can do this.
        runner.wait(timeout=5 * settings.poll_interval + 5)
        assert runner.get(Counters).get_count("elsewhere") == 1
