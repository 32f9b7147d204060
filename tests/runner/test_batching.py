"""Batched processing records exactly what one at a time does, property style.

For random commands on three systems (the orders cycle, World/Counters and
the ledger), a random batch size of 1..64, 1..4 pipelines and, at random, an
aggregate cache: after catching up, every application holds exactly the
events eventsourcing's SingleThreadedRunner records for the same commands
(same aggregates, versions, topics and contents). Part of the commands are
written before the actors start, so that the slaves catch up in full
batches; the rest while they run.

``THESPSYS_TEST_BATCH_SEEDS=1,2,3`` runs other (or more) seeds.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.application import Application
from eventsourcing.system import Runner, SingleThreadedRunner, System

from examples import orders, world_counters
from tests.runner import ledger
from tests.support.actors import running
from tests.support.counting import events_by_application
from thespsys.core.settings import RunnerSettings

pytestmark = [pytest.mark.actors, pytest.mark.slow]

SEEDS = [
    int(s) for s in os.environ.get("THESPSYS_TEST_BATCH_SEEDS", "1,2,3,4,5").split(",")
]

# A command: (application class, what to do with an instance of it).
Command = tuple[type[Application[Any]], Callable[[Any], None]]


def _uuid(rng: random.Random) -> UUID:
    return UUID(int=rng.getrandbits(128), version=4)


def orders_commands(rng: random.Random) -> list[Command]:
    Order = orders.Order

    def create(order_id: UUID, customer: str) -> Callable[[Any], None]:
        return lambda app: app.save(
            Order._create(Order.Created, id=order_id, customer=customer)
        )

    return [
        (orders.Orders, create(_uuid(rng), f"customer-{rng.randint(1, 5)}"))
        for _ in range(rng.randint(20, 60))
    ]


def world_commands(rng: random.Random) -> list[Command]:
    World = world_counters.World

    def create(world_id: UUID) -> Callable[[Any], None]:
        return lambda app: app.save(World._create(World.Created, id=world_id))

    def happen(world_id: UUID, what: str) -> Callable[[Any], None]:
        return lambda app: app.make_it_so(world_id, what)

    worlds = [_uuid(rng) for _ in range(rng.randint(2, 6))]
    whats = ["dinosaurs", "trucks", "internet", "comets"]
    app = world_counters.WorldsApplication
    return [(app, create(world_id)) for world_id in worlds] + [
        (app, happen(rng.choice(worlds), rng.choice(whats)))
        for _ in range(rng.randint(40, 120))
    ]


def ledger_commands(rng: random.Random) -> list[Command]:
    def open_(name: str) -> Callable[[Any], None]:
        return lambda app: app.open(name)

    def deposit(name: str, amount: int) -> Callable[[Any], None]:
        return lambda app: app.deposit(name, amount)

    names = [f"account-{i}" for i in range(rng.randint(2, 8))]
    return [(ledger.Accounts, open_(name)) for name in names] + [
        (ledger.Accounts, deposit(rng.choice(names), rng.randint(1, 100)))
        for _ in range(rng.randint(40, 120))
    ]


SYSTEMS: dict[str, tuple[System, Callable[[random.Random], list[Command]]]] = {
    "orders": (orders.system, orders_commands),
    "world": (world_counters.system, world_commands),
    "ledger": (ledger.system, ledger_commands),
}


def apply(get: Callable[[type[Any]], Any], commands: list[Command]) -> None:
    for cls, command in commands:
        command(get(cls))


@contextmanager
def applications(env: dict[str, str]) -> Iterator[Callable[[type[Any]], Any]]:
    """The leaders as another process would use them, on the same database."""
    apps: dict[type[Any], Any] = {}

    def get(cls: type[Any]) -> Any:
        if cls not in apps:
            apps[cls] = cls(env=env)
        return apps[cls]

    try:
        yield get
    finally:
        for app in apps.values():
            app.close()


def expected_events(system: System, commands: list[Command]) -> dict[str, Any]:
    runner: Runner[Any] = SingleThreadedRunner(
        system, env={"PERSISTENCE_MODULE": "eventsourcing.popo"}
    )
    runner.start()
    try:
        apply(runner.get, commands)
        return events_by_application(runner)
    finally:
        runner.stop()


@dataclass(frozen=True)
class Draw:
    system: str
    batch_size: int
    pipelines: int
    cache: str | None  # AGGREGATE_CACHE_MAXSIZE
    before_start: int  # commands written before the actors start


@pytest.mark.parametrize("name", sorted(SYSTEMS))
@pytest.mark.parametrize("seed", SEEDS)
def test_batches_record_what_one_at_a_time_records(
    store_env: dict[str, str], name: str, seed: int
) -> None:
    rng = random.Random(f"{name}-{seed}")
    system, make_commands = SYSTEMS[name]
    commands = make_commands(rng)
    draw = Draw(
        system=name,
        batch_size=rng.randint(1, 64),
        pipelines=rng.randint(1, 4),
        cache=rng.choice([None, "0", str(rng.randint(1, 5))]),
        before_start=rng.randint(len(commands) // 2, len(commands)),
    )
    env = dict(store_env)
    if draw.cache is not None:
        env["AGGREGATE_CACHE_MAXSIZE"] = draw.cache
    with applications(env) as get:
        apply(get, commands[: draw.before_start])
    settings = RunnerSettings(poll_interval=0.2, batch_size=draw.batch_size)
    with running(
        system, env, pipeline_ids=range(draw.pipelines), settings=settings
    ) as runner:
        apply(runner.get, commands[draw.before_start :])
        runner.wait(timeout=120)
        assert not [s for s in runner.status() if s.state != "running"], draw
        actual = events_by_application(runner)
    assert actual == expected_events(system, commands), draw
