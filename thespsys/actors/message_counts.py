"""Count the messages every actor receives and sends, for soak tests and tuning.

``count_messages(directory)``, called before the actor system starts, makes
every actor process forked afterwards keep a count of what it received and
sent by message type, and write it to ``directory/<pid>.json`` at most every
``FLUSH_INTERVAL`` seconds (after handling a message, so a count is never more
than that interval old while the actor is busy) and when it exits.
``read_counts(directory)`` gathers the files. Thespian has no hook for this,
hence the patch; it changes nothing but the counting, and costs a dictionary
update per message.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from thespian.actors import ActorExitRequest, ActorTypeDispatcher

FLUSH_INTERVAL = 0.2

_original_receive = ActorTypeDispatcher.receiveMessage
_original_send = ActorTypeDispatcher.send


@dataclass
class ActorCounts:
    """What one actor process received and sent, by message type."""

    pid: int
    actor: str
    received: Counter[str] = field(default_factory=Counter)
    sent: Counter[str] = field(default_factory=Counter)


class _Recorder:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.counts: ActorCounts | None = None
        self.flushed = 0.0

    def of(self, actor: Any) -> ActorCounts:
        pid = os.getpid()
        if self.counts is None or self.counts.pid != pid:  # a newly forked actor
            self.counts = ActorCounts(pid, type(actor).__name__)
        return self.counts

    def flush(self, now: float) -> None:
        if self.counts is None or now - self.flushed < FLUSH_INTERVAL:
            return
        self.flushed = now
        counts = self.counts
        path = self.directory / f"{counts.pid}.json"
        temporary = path.with_suffix(".tmp")
        temporary.write_text(
            json.dumps(
                {
                    "pid": counts.pid,
                    "actor": counts.actor,
                    "received": counts.received,
                    "sent": counts.sent,
                }
            )
        )
        temporary.replace(path)


_recorder: _Recorder | None = None


def _counting_receive(self: Any, message: Any, sender: Any) -> Any:
    recorder = _recorder
    if recorder is None:
        return _original_receive(self, message, sender)
    recorder.of(self).received[type(message).__name__] += 1
    try:
        return _original_receive(self, message, sender)
    finally:
        # The last message an actor gets: its final counts are written.
        final = isinstance(message, ActorExitRequest)
        recorder.flush(math.inf if final else time.monotonic())


def _counting_send(self: Any, target: Any, message: Any) -> Any:
    if _recorder is not None:
        _recorder.of(self).sent[type(message).__name__] += 1
    return _original_send(self, target, message)


def count_messages(directory: Path) -> None:
    """Count in every actor process forked from now on, into ``directory``."""
    global _recorder
    directory.mkdir(parents=True, exist_ok=True)
    _recorder = _Recorder(directory)
    ActorTypeDispatcher.receiveMessage = _counting_receive
    ActorTypeDispatcher.send = _counting_send


def stop_counting() -> None:
    """Actor processes forked from now on count nothing."""
    global _recorder
    _recorder = None
    ActorTypeDispatcher.receiveMessage = _original_receive
    ActorTypeDispatcher.send = _original_send


def read_counts(directory: Path) -> list[ActorCounts]:
    """The latest counts of every actor process that has counted so far."""
    found = []
    for path in sorted(directory.glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        found.append(
            ActorCounts(
                data["pid"],
                data["actor"],
                Counter(data["received"]),
                Counter(data["sent"]),
            )
        )
    return found
