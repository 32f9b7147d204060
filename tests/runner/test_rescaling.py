"""Changing the pipeline count between runs: exact, or refused with what to do."""

from __future__ import annotations

import pytest
from eventsourcing.persistence import Tracking
from eventsourcing.system import SingleThreadedRunner, System

from examples import orders
from tests.runner.apps import Notes, Tallies
from tests.supervision.apps import Faulty
from tests.support.actors import running, wait_for_status
from tests.support.counting import topic_counts
from thespsys.core.partitions import Partition, slice_of
from thespsys.core.processes import wait_for
from thespsys.core.settings import RunnerSettings
from thespsys.errors import RescaleRefusedError
from thespsys.runner import ThespianRunner

pytestmark = pytest.mark.actors

SETTINGS = RunnerSettings(poll_interval=0.2)
NOTES = System(pipes=[[Notes, Tallies]])


def test_the_orders_cycle_through_changes_of_the_pipeline_count(
    store_env: dict[str, str],
) -> None:
    order_ids = []
    for count in (3, 1, 4, 2):
        with running(orders.system, store_env, pipeline_ids=range(count)) as runner:
            app = runner.get(orders.Orders)
            order_ids += [app.create_order(f"customer-{i}") for i in range(10)]
            runner.wait(timeout=60)
            assert {app.get_order(i).version for i in order_ids} == {3}
            assert sum(topic_counts(app).values()) == 3 * len(order_ids)
            statuses = runner.status()
            assert [s for s in statuses if s.state != "running" or s.rescaling] == []
            assert {s.partition for s in statuses} == {
                Partition(i, count) for i in range(count)
            }


@pytest.mark.parametrize(("before", "after"), [(3, 1), (1, 3)])
def test_parked_dead_letters_hold_a_change_until_resolved(
    faults_env: dict[str, str], before: int, after: int
) -> None:
    env = {**faults_env, "FAULTY_ERROR_POLICY": "park", "PARK_AFTER_ATTEMPTS": "1"}
    system = System(pipes=[[Notes, Faulty]])
    with running(system, env, pipeline_ids=range(before), settings=SETTINGS) as runner:
        runner.get(Notes).write("fail-always")
        runner.get(Notes).write("fine")
        runner.wait(timeout=30)
        assert len(runner.dead_letters(Faulty).letters()) == 1

    refused = ThespianRunner(system, env=env, pipeline_ids=range(after))
    with pytest.raises(RescaleRefusedError) as caught:
        refused.start()
    message = str(caught.value)
    assert message.startswith("pipeline_ids: Faulty: ")
    assert f"recorded for {before} pipeline(s), asked for {after}" in message
    assert "1 notification(s) of Notes are parked" in message
    assert "retry or skip them" in message
    assert not refused.is_started
    assert refused.admin_port is None  # refused before any actor started

    with running(system, env, pipeline_ids=range(before), settings=SETTINGS) as runner:
        queue = runner.dead_letters(Faulty)
        queue.skip([letter.id for letter in queue.letters()])
    with running(system, env, pipeline_ids=range(after), settings=SETTINGS) as runner:
        runner.get(Notes).write("after the change")
        runner.wait(timeout=30)
        assert runner.get(Faulty).count("Note.Written") == 2


def test_positions_of_eventsourcing_runners_are_taken_over_exactly(
    store_env: dict[str, str],
) -> None:
    with SingleThreadedRunner(NOTES, env=store_env) as single:
        for i in range(6):
            single.get(Notes).write(f"before {i}")
    with running(NOTES, store_env, pipeline_ids=range(3)) as runner:
        for i in range(6):
            runner.get(Notes).write(f"after {i}")
        runner.wait(timeout=30)
        assert runner.get(Tallies).count("Note.Written") == 12


def test_positions_under_several_counts_and_no_record_are_refused(
    store_env: dict[str, str],
) -> None:
    """What changing the count did before thespsys recorded partitionings."""
    with SingleThreadedRunner(NOTES, env=store_env) as single:
        single.get(Notes).write("a note")
        single.get(Tallies).recorder.insert_tracking(Tracking("Notes@2/3", 1))
    runner = ThespianRunner(NOTES, env=store_env, pipeline_ids=range(2))
    with pytest.raises(RescaleRefusedError, match=r"under 1 and 3 pipelines"):
        runner.start()
    assert runner.admin_port is None


def test_status_shows_a_rescale_still_being_caught_up(
    faults_env: dict[str, str],
) -> None:
    """A notification that keeps failing holds its partition back; after a
    change to one pipeline, that pipeline has still to pass what the other
    old partition processed."""
    system, env = System(pipes=[[Notes, Faulty]]), faults_env
    with running(system, env, pipeline_ids=range(2), settings=SETTINGS) as runner:
        notes = runner.get(Notes)
        stuck_slice = slice_of(notes.write("fail-times-100000"))
        other = next(
            Partition(i, 2) for i in (0, 1) if stuck_slice not in Partition(i, 2).slices
        )
        while slice_of(notes.write("fine")) not in other.slices:
            pass
        assert wait_for(
            lambda: runner.get(Faulty).count("Note.Written") >= 1, 30, interval=0.02
        )
    with running(system, env, pipeline_ids=range(1), settings=SETTINGS) as runner:
        status = wait_for_status(runner, "Faulty", lambda s: s.state == "retrying")
        assert status.rescaling
        assert status.partition == Partition(0, 1)
