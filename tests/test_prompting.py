"""Where prompts go, decided by a plain object from the SystemActor's directory."""

from __future__ import annotations

import dataclasses

from thespsys.actors.messages import Directory, Prompt
from thespsys.actors.prompts import PromptRoutes
from thespsys.core.partitions import Partition

# Orders -> Reservations -> Orders -> Payments -> Orders, on pipelines 5 and 7.
FOLLOWERS_OF = (
    ("Orders", ("Reservations", "Payments")),
    ("Payments", ("Orders",)),
    ("Reservations", ("Orders",)),
)
MASTERS = tuple(
    (name, pipeline_id, f"{name}@{pipeline_id}")
    for name in ("Orders", "Payments", "Reservations")
    for pipeline_id in (5, 7)
)
FIRST = Partition(0, 2).slices
SECOND = Partition(1, 2).slices


def routes(masters: tuple[tuple[str, int, object], ...] = MASTERS) -> PromptRoutes:
    return PromptRoutes(Directory(1, (5, 7), FOLLOWERS_OF, masters))


def test_each_follower_in_the_pipeline_owning_the_slices_is_prompted() -> None:
    prompts = routes().prompts({"Orders": {FIRST[3]}})
    assert prompts == [
        ("Reservations@5", Prompt("Orders", (FIRST[3],))),
        ("Payments@5", Prompt("Orders", (FIRST[3],))),
    ]


def test_each_prompt_names_only_the_slices_of_its_pipeline() -> None:
    prompts = dict(routes().prompts({"Payments": [SECOND[0], FIRST[1], FIRST[0]]}))
    assert prompts == {
        "Orders@5": Prompt("Payments", (FIRST[0], FIRST[1])),
        "Orders@7": Prompt("Payments", (SECOND[0],)),
    }


def test_no_slices_prompts_every_pipeline() -> None:
    addresses = [address for address, _ in routes().prompts({"Reservations": ()})]
    assert addresses == ["Orders@5", "Orders@7"]


def test_one_prompt_per_master_however_many_of_its_leaders_recorded() -> None:
    pending = {"Payments": [FIRST[0]], "Reservations": [FIRST[1]]}
    addresses = [address for address, _ in routes().prompts(pending)]
    assert addresses == ["Orders@5"]


def test_leaders_without_followers_and_unknown_masters_prompt_nobody() -> None:
    assert routes().prompts({"Elsewhere": [FIRST[0]]}) == []
    without_pipeline_5 = tuple(m for m in MASTERS if m[1] != 5)
    assert routes(without_pipeline_5).prompts({"Orders": [FIRST[0]]}) == []


def test_prompts_say_when_their_sender_learnt_of_the_events() -> None:
    prompts = routes().prompts({"Orders": {FIRST[3]}}, seen_at=12.5)
    assert {prompt.seen_at for _, prompt in prompts} == {12.5}
    assert {prompt.seen_at for _, prompt in routes().prompts({"Orders": ()})} == {None}


def test_a_prompt_is_taken_for_read_only_on_the_machine_that_saw_the_events() -> None:
    (_, prompt), *_ = routes().prompts({"Orders": {FIRST[3]}}, seen_at=12.5)
    assert prompt.read_before(13.0)
    assert not prompt.read_before(12.0)
    elsewhere = dataclasses.replace(prompt, clock="another machine's boot")
    assert not elsewhere.read_before(13.0)  # monotonic clocks of two machines
    unknown = dataclasses.replace(prompt, seen_at=None)
    assert not unknown.read_before(13.0)


def test_the_change_watcher_prompts_a_master_at_most_once_per_interval() -> None:
    from thespsys.actors.watcher import PROMPT_INTERVAL, ChangeWatcher

    sent: list[tuple[str, Prompt]] = []
    watcher = ChangeWatcher.__new__(ChangeWatcher)  # its logic, not an actor
    watcher.held, watcher.last_sent, watcher.sent_at = {}, {}, float("-inf")
    watcher.send = lambda address, prompt: sent.append((address, prompt))  # type: ignore[method-assign]
    first, second, third = (Prompt("Orders", (1,), at) for at in (1.0, 1.001, 1.002))
    watcher.held["m"] = ("m", first)
    assert watcher._send_due(1.0)
    watcher.held["m"] = ("m", second)
    watcher.held["m"] = ("m", third)  # the latest replaces what was held
    assert not watcher._send_due(1.0 + PROMPT_INTERVAL / 2)
    assert watcher._send_due(1.0 + PROMPT_INTERVAL)
    assert sent == [("m", first), ("m", third)]
