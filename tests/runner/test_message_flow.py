"""Which actor messages a processed event costs, counted in every actor."""

from __future__ import annotations

import os
import signal
from collections import Counter
from pathlib import Path

import pytest

from examples.orders import Orders, system
from tests.support.actors import running, status_of, wait_for_status
from thespsys.actors.message_counts import (
    ActorCounts,
    read_counts,
)
from thespsys.core.processes import wait_for
from thespsys.core.settings import RunnerSettings

pytestmark = pytest.mark.actors

ORDERS = 200


def received_by(counts: list[ActorCounts], actor: str) -> Counter[str]:
    total: Counter[str] = Counter()
    for each in counts:
        if each.actor == actor:
            total.update(each.received)
    return total


def test_prompts_go_from_master_to_master(
    store_env: dict[str, str], counts_dir: Path
) -> None:
    with running(system, store_env, pipeline_ids=range(3)) as runner:
        orders = runner.get(Orders)
        order_ids = [orders.create_order() for _ in range(ORDERS)]
        runner.wait(timeout=60)
        assert all(orders.get_order(i).is_paid for i in order_ids)
        runner.status()
    counts = read_counts(counts_dir)  # final: every actor wrote its own on exit

    system_actor = received_by(counts, "SystemActor")
    pipelines = received_by(counts, "PipelineActor")
    masters = received_by(counts, "ProcessMaster")
    assert system_actor["Prompt"] == pipelines["Prompt"] == 0
    assert masters["Prompt"] > 0
    # What the SystemActor still gets does not grow with the events: start,
    # stop, state changes and the runner's asks.
    assert set(system_actor) <= {
        "ActorExitRequest",
        "DirectoryRequest",
        "ProcessStatus",
        "StartPipelineResponse",
        "StartSystemRequest",
        "StatusRequest",
        "StopRequest",
        "StopResponse",
        "WakeupMessage",  # its watch on the owner process, twice a second
    }
    assert system_actor["ProcessStatus"] <= 2 * 9  # starting, running
    assert set(pipelines) <= {
        "ActorExitRequest",
        "StartPipelineRequest",
        "StopRequest",
        "StopResponse",
    }


def test_restarted_masters_are_prompted_without_the_poll_timer(
    store_env: dict[str, str],
) -> None:
    """With a poll interval longer than the test, only prompts can make the
    restarted masters process: the directory must have told the other
    masters, and the runner, where they are now."""
    settings = RunnerSettings(poll_interval=600)
    with running(system, store_env, settings=settings) as runner:
        orders = runner.get(Orders)
        orders.create_order()
        runner.wait(timeout=20)
        for name in ("Orders", "Reservations"):
            before = status_of(runner, name).master_pid
            os.kill(before, signal.SIGKILL)
            wait_for_status(
                runner,
                name,
                lambda s, before=before: (
                    s.state == "running" and s.master_pid not in (None, before)
                ),
            )

        # A prompt sent in the moment before the news arrived is lost (the
        # poll timer would cover it); the next order's prompts are not.
        created = []

        def all_paid() -> bool:
            created.append(orders.create_order())
            return all(orders.get_order(i).is_paid for i in created[:-1]) and (
                len(created) > 1
            )

        assert wait_for(all_paid, timeout=20, interval=0.2)
