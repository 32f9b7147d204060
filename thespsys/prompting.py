"""Forwards prompts from applications in the user's process to the actors.

``Leader.save()`` notifies its receivers synchronously in the caller's thread;
a command must not wait for actor messaging. Prompts are collected here and a
thread of their own sends them, one per leader name however many saves came
in meanwhile, with the slices of what was recorded.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from eventsourcing.system import RecordingEvent, RecordingEventReceiver

from thespsys.messages import Prompt
from thespsys.partitions import slices_of
from thespsys.thespian_adapter import ActorSystemHandle

log = logging.getLogger(__name__)


class PromptForwarder(RecordingEventReceiver[Any]):
    def __init__(self, actor_system: ActorSystemHandle, target: Any) -> None:
        self._actor_system = actor_system
        self._target = target
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
        with self._actor_system.private() as endpoint:
            while True:
                with self._condition:
                    while not self._pending and not self._stopping:
                        self._condition.wait()
                    if self._stopping:
                        return
                    pending, self._pending = self._pending, {}
                for name, slices in sorted(pending.items()):
                    try:
                        endpoint.tell(self._target, Prompt(name, tuple(sorted(slices))))
                    except Exception:
                        # The masters' poll timer processes what this prompt
                        # was for; the prompt only makes it sooner.
                        log.exception("could not forward a prompt for %s", name)

    def stop(self) -> None:
        with self._condition:
            self._stopping = True
            self._condition.notify()
        self._thread.join(timeout=10)
