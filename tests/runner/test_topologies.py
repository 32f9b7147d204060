"""Topic filtering, a follower of two leaders, pipeline expressions."""

from __future__ import annotations

import pytest
from eventsourcing.system import Runner, RunnerAlreadyStartedError, System

from examples.orders import Orders, Payments, Reservations
from examples.orders import system as orders_system
from tests.runner.apps import AmendmentTallies, Notes, OtherNotes, Tallies
from tests.support.actors import assert_actor_system_gone, listening_addresses, running
from thespsys.core.partitions import Partition, parse_tracking_name, tracking_name
from thespsys.core.settings import RunnerSettings
from thespsys.core.system_spec import SystemSpec, as_system, pipe
from thespsys.errors import ConfigurationError, RunnerNotStartedError
from thespsys.runner import ThespianRunner

pytestmark = pytest.mark.actors


def test_follower_topics_are_honoured(store_env: dict[str, str]) -> None:
    system = System(pipes=[[Notes, AmendmentTallies]])
    with running(system, store_env, pipeline_ids=range(2)) as runner:
        notes = runner.get(Notes)
        note_ids = [notes.write(f"note {i}") for i in range(5)]
        notes.amend(note_ids[0], "amended")
        notes.amend(note_ids[1], "amended")
        runner.wait(timeout=20)
        tallies = runner.get(AmendmentTallies)
        assert tallies.count("Note.Amended") == 2
        assert tallies.count("Note.Written") == 0


def test_write_conflicts_between_pipelines_are_retried_not_skipped(
    store_env: dict[str, str],
) -> None:
    # Every note, whatever its partition, increments the same Tally aggregate:
    # the three pipelines keep conflicting on it.
    system = System(pipes=[[Notes, Tallies]])
    with running(system, store_env, pipeline_ids=range(3)) as runner:
        notes = runner.get(Notes)
        for i in range(60):
            notes.write(f"note {i}")
        runner.wait(timeout=60)
        assert runner.get(Tallies).count("Note.Written") == 60


def test_follower_of_two_leaders(store_env: dict[str, str]) -> None:
    system = System(pipes=[[Notes, Tallies], [OtherNotes, Tallies]])
    with running(system, store_env) as runner:
        for i in range(3):
            runner.get(Notes).write(f"note {i}")
        runner.get(OtherNotes).write("other")
        runner.wait(timeout=20)
        assert runner.get(Tallies).count("Note.Written") == 4


def test_actor_ports_listen_on_loopback_only(sqlite_url: str) -> None:
    env = {"PERSISTENCE_MODULE": "thespsys.persistence", "DATABASE_URL": sqlite_url}
    with running(System(pipes=[[Notes, Tallies]]), env) as runner:
        assert runner.pgid is not None
        addresses = listening_addresses(runner.pgid)
        assert (("127.0.0.1", runner.admin_port)) in addresses
        assert {host for host, _ in addresses} == {"127.0.0.1"}


def test_pipeline_expressions_build_the_same_system() -> None:
    cycle = pipe(Orders) | Reservations | Orders | Payments | Orders
    assert SystemSpec.of(as_system(cycle)) == SystemSpec.of(orders_system)
    both = as_system((pipe(Notes) | Tallies, pipe(OtherNotes) | Tallies))
    assert SystemSpec.of(both) == SystemSpec.of(
        System(pipes=[[Notes, Tallies], [OtherNotes, Tallies]])
    )
    with pytest.raises(TypeError, match="pipe"):
        as_system(Notes | Tallies)  # type: ignore[arg-type]


def test_multiproc_queue_base_runs_too(sqlite_url: str) -> None:
    env = {"PERSISTENCE_MODULE": "thespsys.persistence", "DATABASE_URL": sqlite_url}
    settings = RunnerSettings(base="multiprocQueueBase")
    with running(System(pipes=[[Notes, Tallies]]), env, settings=settings) as runner:
        runner.get(Notes).write("queued")
        runner.wait(timeout=20)
        assert runner.get(Tallies).count("Note.Written") == 1


def test_unsupported_base_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="base"):
        RunnerSettings(base="simpleSystemBase")


@pytest.mark.parametrize(("index", "count"), [(0, 1), (0, 3), (2, 3)])
def test_tracking_names_parse_back(index: int, count: int) -> None:
    name = tracking_name("Orders", Partition(index, count))
    assert parse_tracking_name(name) == ("Orders", Partition(index, count))


def test_runner_contract(sqlite_url: str) -> None:
    env = {"PERSISTENCE_MODULE": "thespsys.persistence", "DATABASE_URL": sqlite_url}
    runner = ThespianRunner(System(pipes=[[Notes, Tallies]]), env=env)
    assert isinstance(runner, Runner)
    assert isinstance(runner.get(Notes), Notes)  # constructed with the runner
    with pytest.raises(RunnerNotStartedError):
        runner.wait()
    with runner:
        assert runner.is_started
        pgid, port = runner.pgid, runner.admin_port
        with pytest.raises(RunnerAlreadyStartedError):
            runner.start()
        assert isinstance(runner.get(Notes), Notes)
    assert not runner.is_started
    assert_actor_system_gone(pgid, port)
