"""Exactly once across changes of the pipeline count, property style.

Random commands, the system stopped at random points (at once, part-way, or
caught up) and started again with a random count of 1..5 pipelines; after
catching up, every application holds exactly the events eventsourcing's
SingleThreadedRunner records for the same commands. Also with processes
killed during the first run after a change.

``THESPSYS_TEST_RESCALE_SEEDS=1,2,3`` runs other (or more) seeds.
"""

from __future__ import annotations

import itertools
import os
import random
from collections.abc import Sequence
from typing import Any

import pytest
from eventsourcing.system import SingleThreadedRunner

from tests.runner import ledger
from tests.support.actors import running
from tests.support.counting import events_by_application
from tests.support.killing import Killer
from thespsys.core.processes import wait_for
from thespsys.core.settings import RunnerSettings
from thespsys.core.supervision import Backoff, RestartPolicy
from thespsys.runner import ThespianRunner

pytestmark = [pytest.mark.actors, pytest.mark.slow]

SEEDS = [int(s) for s in os.environ.get("THESPSYS_TEST_RESCALE_SEEDS", "11").split(",")]
ACCOUNTS = 10
SETTINGS = RunnerSettings(
    poll_interval=0.2,
    restarts=RestartPolicy(
        max_restarts=100_000, within_seconds=60, backoff=Backoff(0.01, 0.1)
    ),
)

Command = tuple[str, int]  # (account name, amount; 0 opens the account)


def random_commands(rng: random.Random, deposits: int) -> list[Command]:
    names = [f"account-{i}" for i in range(ACCOUNTS)]
    opened = [(name, 0) for name in names]
    return opened + [(rng.choice(names), rng.randint(1, 100)) for _ in range(deposits)]


def apply(accounts: ledger.Accounts, commands: Sequence[Command]) -> None:
    for name, amount in commands:
        if amount:
            accounts.deposit(name, amount)
        else:
            accounts.open(name)


def expected_events(commands: Sequence[Command]) -> dict[str, Any]:
    runner = SingleThreadedRunner(
        ledger.system, env={"PERSISTENCE_MODULE": "eventsourcing.popo"}
    )
    runner.start()
    try:
        apply(runner.get(ledger.Accounts), commands)
        return events_by_application(runner)
    finally:
        runner.stop()


def processed(runner: ThespianRunner) -> int:
    return sum(lag.position or 0 for lag in runner.lags())


def stop_point(runner: ThespianRunner, rng: random.Random) -> str:
    """Let the run go on for a random while before it is stopped."""
    how = rng.choice(["at once", "part-way", "caught up"])
    if how == "part-way":
        target = processed(runner) + rng.randint(1, 40)
        wait_for(lambda: processed(runner) >= target, 10, interval=0.01)
    elif how == "caught up":
        runner.wait(timeout=120)
    return how


def chunks(
    rng: random.Random, commands: list[Command], count: int
) -> list[list[Command]]:
    cuts = sorted(rng.sample(range(ACCOUNTS + 1, len(commands)), count - 1))
    bounds = [0, *cuts, len(commands)]
    return [commands[a:b] for a, b in itertools.pairwise(bounds)]


@pytest.mark.parametrize("seed", SEEDS)
def test_random_changes_of_the_pipeline_count(
    store_env: dict[str, str], seed: int
) -> None:
    rng = random.Random(seed)
    commands = random_commands(rng, 90)
    history = []
    for chunk in chunks(rng, commands, 4):
        count = rng.randint(1, 5)
        with running(
            ledger.system, store_env, pipeline_ids=range(count), settings=SETTINGS
        ) as runner:
            apply(runner.get(ledger.Accounts), chunk)
            history.append((count, stop_point(runner, rng)))
    count = rng.randint(1, 5)
    with running(
        ledger.system, store_env, pipeline_ids=range(count), settings=SETTINGS
    ) as runner:
        runner.wait(timeout=180)
        assert not [s for s in runner.status() if s.rescaling or s.state != "running"]
        actual = events_by_application(runner)
    history.append((count, "caught up"))
    assert actual == expected_events(commands), f"seed {seed}: {history}"


@pytest.mark.parametrize(("before", "after"), [(4, 2), (1, 3)])
def test_kill_storm_in_the_first_run_after_a_change(
    store_env: dict[str, str], before: int, after: int
) -> None:
    rng = random.Random(before * 10 + after)
    commands = random_commands(rng, 120)
    first, second = commands[:60], commands[60:]
    with running(
        ledger.system, store_env, pipeline_ids=range(before), settings=SETTINGS
    ) as runner:
        apply(runner.get(ledger.Accounts), first)
        target = processed(runner) + 30
        wait_for(lambda: processed(runner) >= target, 10, interval=0.01)
    with running(
        ledger.system, store_env, pipeline_ids=range(after), settings=SETTINGS
    ) as runner:
        with Killer(runner, interval=0.2) as killer:
            apply(runner.get(ledger.Accounts), second)
            enough = killer.kept_up_until(slaves=6, masters=1, timeout=60)
        assert enough, killer.killed
        runner.wait(timeout=300)
        actual = events_by_application(runner)
    assert actual == expected_events(commands)
