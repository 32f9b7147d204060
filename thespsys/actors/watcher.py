"""ChangeWatcher: one per actor system; wakes the masters whose leaders' logs
got new events, whoever wrote them (a web worker, a script, another host).

It watches the change feeds of the system's databases
(``thespsys.engine.wakeups``: one LISTEN connection per PostgreSQL database,
waited on in ``select()``, so woken by the server at once; ``PRAGMA
data_version`` on SQLite, every ``wakeup_interval`` seconds) and sends one
``Prompt`` per master concerned, routed by the ``Directory`` the SystemActor
sends it, as masters prompt each other. It watches inside its wake-up
handler, ``WATCH_SPELL`` at a time: Thespian's timers cost far more than a
look at a feed, and nothing else needs this actor in the meantime.

Writes by the actors and the runner's own applications prompt the masters
themselves; on PostgreSQL they do not NOTIFY
(``DATABASE_NOTIFY=no``); on SQLite they are seen too. Every prompt says
when its sender learnt of the new events (``Prompt.seen_at``), and a master
drops one when it has requested a run since: that run reads them. The
masters' poll timer stays the safety net.

Its watching is a chain of Thespian timers, each handler setting the next.
Under load a timer of that chain was seen not to fire until some message
reached this actor (for 47 s once, writes from other processes waiting for
the poll meanwhile): the SystemActor sends a ``WatcherCheck`` every half
second, whose arrival lets an overdue timer fire, and a chain silent for
``STALLED_AFTER`` seconds is replaced by a new one.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from thespian.actors import ActorTypeDispatcher, WakeupMessage

from thespsys.actors.messages import (
    Directory,
    Prompt,
    StopRequest,
    WatcherCheck,
    WatchRequest,
)
from thespsys.actors.prompts import PromptRoutes
from thespsys.actors.stopping import StoppingMixin
from thespsys.core.processes import die_with_parent
from thespsys.engine.wakeups import ChangeWatch, watched_leaders

log = logging.getLogger(__name__)

# A wake-up handler watches this long (seconds) before it lets Thespian
# deliver what came for this actor: a Directory or a stop waits at most this.
WATCH_SPELL = 0.05
PAUSE = timedelta(seconds=0.001)
AFTER_SENDING = timedelta(seconds=0.002)
# Thespian sends one message at a time per target, in several steps taken only
# between handlers; on SQLite this watcher also sees the actors' own writes,
# hundreds a second under load. Prompting a master on each queues prompts up
# faster than they leave (Thespian blocks a sender, or stops receiving, to
# drain such a queue); watchers that did so were seen handling no message for
# whole runs, writes from other processes waiting for the poll. So: at most
# one prompt per master per PROMPT_INTERVAL (the latest one held back meanwhile:
# a master only needs to know that there is something to read, and since
# when), and short spells while prompts are on their way. With 10 ms, nine
# masters could get 900 prompts a second: a soak run on SQLite found a process
# of the system in Thespian's tx-only mode, its queue at 950, again and again
# (where a timer can be lost). 50 ms keeps a light load's prompts unheld (none
# was sent to that master within it) and a heavy load's to 20 a master a second.
PROMPT_INTERVAL = 0.05
SENDING_SPELL = 0.002
SENDING_FOR = 0.1  # seconds after the last prompt sent
# The chain's next timer is due within milliseconds of being set: one that has
# not fired this long after it stalled.
STALLED_AFTER = 0.5


class ChangeWatcher(StoppingMixin, ActorTypeDispatcher):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        die_with_parent()
        self.watch: ChangeWatch | None = None
        self.routes: PromptRoutes | None = None
        self.interval = 0.0
        self.pending: dict[str, set[int]] = {}
        self.held: dict[Any, tuple[Any, Prompt]] = {}  # str(address) -> latest
        self.last_sent: dict[Any, float] = {}  # str(address) -> when
        self.sent_at = float("-inf")  # the last prompt to any master
        self.chain = 0  # the timer chain in force; older ones end
        self.timer_set_at = float("inf")  # when the chain last set its next timer

    def receiveMsg_WatchRequest(self, request: WatchRequest, sender: Any) -> None:
        env = dict(request.env)
        leaders, unwatched = watched_leaders(request.spec.to_system(), env)
        for name in unwatched:
            log.info(
                "%s is not on thespsys.persistence: its followers see writes "
                "from other processes at their next poll",
                name,
            )
        self.watch = ChangeWatch(leaders, with_slices=len(request.pipeline_ids) > 1)
        self.interval = request.interval
        if not self.watch.is_empty:
            self._start_chain()

    def _start_chain(self) -> None:
        self.chain += 1
        self.timer_set_at = time.monotonic()
        self.wakeupAfter(PAUSE, payload=self.chain)

    def receiveMsg_WatcherCheck(self, _: WatcherCheck, sender: Any) -> None:
        if self.stopping or self.watch is None or self.watch.is_empty:
            return
        silent = time.monotonic() - self.timer_set_at
        if silent > STALLED_AFTER:
            log.warning(
                "change watcher: its timer did not fire for %.1f s; restarted it",
                silent,
            )
            self._start_chain()

    def receiveMsg_Directory(self, directory: Directory, sender: Any) -> None:
        if self.routes is None or directory.version > self.routes.version:
            self.routes = PromptRoutes(directory)

    def receiveMsg_WakeupMessage(self, message: WakeupMessage, sender: Any) -> None:
        if self.stopping or self.watch is None or message.payload != self.chain:
            return
        sent = False
        try:
            sending = self.held or time.monotonic() - self.sent_at < SENDING_FOR
            spell = SENDING_SPELL if sending else WATCH_SPELL
            changes = self.watch.wait(spell, self.interval)
            seen_at = time.monotonic()
            for name, slices in changes.items():
                self.pending.setdefault(name, set()).update(slices)
            if self.pending and self.routes is not None:
                pending, self.pending = self.pending, {}
                for address, prompt in self.routes.prompts(pending, seen_at=seen_at):
                    self.held[str(address)] = (address, prompt)
            sent = self._send_due(time.monotonic())
        except Exception:
            # Never stop looking: a raising handler would end the timer.
            log.exception("change watcher: could not look for changes")
        finally:
            # Back to Thespian for a moment, so that the prompts go out (and
            # their acknowledgements come in: the next message to a master
            # waits for them) and a Directory or a stop gets in. Not at
            # once: an expired timer would come first.
            self.timer_set_at = time.monotonic()  # not before: a handler may block
            self.wakeupAfter(AFTER_SENDING if sent else PAUSE, payload=self.chain)

    def _send_due(self, now: float) -> bool:
        """The held prompts of masters not prompted within PROMPT_INTERVAL."""
        due = [
            key
            for key in self.held
            if now - self.last_sent.get(key, float("-inf")) >= PROMPT_INTERVAL
        ]
        for key in due:
            address, prompt = self.held.pop(key)
            self.send(address, prompt)
            self.last_sent[key] = self.sent_at = now
        return bool(due)

    def receiveMsg_StopRequest(self, request: StopRequest, sender: Any) -> None:
        self._close()
        super().receiveMsg_StopRequest(request, sender)

    def receiveMsg_ActorExitRequest(self, message: Any, sender: Any) -> None:
        self._close()

    def _close(self) -> None:
        if self.watch is not None:
            self.watch.close()
            self.watch = None
