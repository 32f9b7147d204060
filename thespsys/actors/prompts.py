"""Prompts: who is told that a leader recorded new events, and how.

Prompts go straight to the masters that follow the leader in the pipelines
owning the new events' slices (``PromptRoutes``, from the SystemActor's
``Directory``): one message per master to prompt, with no actor in between to
queue them. A master sends at most one prompt per downstream master per run of
its slave, so its prompts never outpace its own processing.

``Leader.save()`` notifies its receivers synchronously in the caller's thread;
a command must not wait for actor messaging. ``PromptForwarder`` collects the
prompts of the applications in the user's process and a thread of its own
sends them, one per master to prompt however many saves came in meanwhile,
with the slices of what was recorded. Sending a prompt costs the user's
process far more than a save, so while saves keep coming the thread sends at
most once per ``min_interval`` (2 ms): the first save after a quiet spell is
prompted at once, and a burst of saves costs a few prompts, not one each.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

from eventsourcing.system import RecordingEvent, RecordingEventReceiver

from thespsys.actors.messages import Directory, DirectoryRequest, Prompt
from thespsys.actors.thespian_adapter import ActorSystemHandle
from thespsys.core.partitions import Partition, slices_of

log = logging.getLogger(__name__)


class PromptRoutes:
    """Which masters a leader's new events in some slices concern."""

    def __init__(self, directory: Directory) -> None:
        self.version = directory.version
        self._followers_of = dict(directory.followers_of)
        self._masters = {
            (name, pid): address for name, pid, address in directory.masters
        }
        count = len(directory.pipeline_ids)
        self._owned = [
            (pipeline_id, Partition(index, count).slices)
            for index, pipeline_id in enumerate(directory.pipeline_ids)
        ]

    def prompts(
        self, pending: Mapping[str, Iterable[int]], seen_at: float | None = None
    ) -> list[tuple[Any, Prompt]]:
        """One (master address, prompt) per master concerned by ``pending``
        (leader name -> slices with new events; empty: any slice), each prompt
        naming the slices of that master's pipeline; ``seen_at``: a time after
        those events were committed (see ``Prompt``)."""
        found: dict[tuple[str, int], Prompt] = {}
        for leader_name, slices in sorted(pending.items()):
            slices = sorted(slices)
            for pipeline_id, owned in self._owned:
                mine = tuple(s for s in slices if owned.start <= s < owned.stop)
                if slices and not mine:
                    continue
                for name in self._followers_of.get(leader_name, ()):
                    # A master that follows several leaders needs one prompt.
                    found.setdefault(
                        (name, pipeline_id), Prompt(leader_name, mine, seen_at)
                    )
        return [
            (self._masters[key], prompt)
            for key, prompt in found.items()
            if key in self._masters
        ]


class PromptForwarder(RecordingEventReceiver[Any]):
    """Prompts the masters for saves in the user's process, from a thread.

    The ``Directory`` is asked of the SystemActor before the first prompt and
    again, while prompts flow, once ``refresh_interval`` seconds have passed,
    so that restarted masters are found; until then the masters' poll timer
    covers what a prompt to a gone master would have made sooner.
    """

    def __init__(
        self,
        actor_system: ActorSystemHandle,
        system_actor: Any,
        *,
        refresh_interval: float = 1.0,
        ask_timeout: float = 10.0,
        min_interval: float = 0.002,
    ) -> None:
        self._actor_system = actor_system
        self._system_actor = system_actor
        self._refresh_interval = refresh_interval
        self._ask_timeout = ask_timeout
        self._min_interval = min_interval
        self._pending: dict[str, set[int]] = {}
        self._condition = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(
            target=self._forward, name="thespsys-prompts", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def receive_recording_event(self, new_recording_event: RecordingEvent[Any]) -> None:
        slices = slices_of(
            recording.notification.originator_id
            for recording in new_recording_event.recordings
        )
        with self._condition:
            self._pending.setdefault(
                new_recording_event.application_name, set()
            ).update(slices)
            self._condition.notify()

    def _forward(self) -> None:
        routes: PromptRoutes | None = None
        fetched = sent = 0.0
        with self._actor_system.private() as endpoint:
            while True:
                with self._condition:
                    while not self._pending and not self._stopping:
                        self._condition.wait()
                    # Let a burst of saves gather into one prompt per master.
                    rest = sent + self._min_interval - time.monotonic()
                    if rest > 0 and not self._stopping:
                        self._condition.wait_for(lambda: self._stopping, rest)
                    if self._stopping:
                        return
                    pending, self._pending = self._pending, {}
                seen_at = time.monotonic()  # after every save in ``pending``
                try:
                    if routes is None or (
                        time.monotonic() - fetched > self._refresh_interval
                    ):
                        routes = self._fetch_routes(endpoint, routes)
                        fetched = time.monotonic()
                    for address, prompt in routes.prompts(pending, seen_at):
                        endpoint.tell(address, prompt)
                    sent = time.monotonic()
                except Exception:
                    # The masters' poll timer processes what these prompts
                    # were for; prompts only make it sooner.
                    log.exception("could not forward prompts for %s", sorted(pending))

    def _fetch_routes(
        self, endpoint: ActorSystemHandle, known: PromptRoutes | None
    ) -> PromptRoutes:
        directory = endpoint.ask(
            self._system_actor, DirectoryRequest(), self._ask_timeout, Directory
        )
        if known is not None and known.version == directory.version:
            return known
        return PromptRoutes(directory)

    def stop(self) -> None:
        with self._condition:
            self._stopping = True
            self._condition.notify()
        self._thread.join(timeout=10)
