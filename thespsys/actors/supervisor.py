"""What every supervising actor does: restart an exited child with backoff,
or give up on it; stop its children before itself (``StoppingMixin``).

The bookkeeping (``SupervisedChildren``) is a plain object; a supervisor says
how to record an exit (``child_exited``) and how to create the child again
(``restart_child``).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from thespian.actors import ChildActorExited, WakeupMessage

from thespsys.actors.stopping import StoppingMixin
from thespsys.engine.restarts import SupervisedChildren

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RestartChild:
    """The wake-up payload that restarts the child ``key``."""

    key: Any


class Supervisor(StoppingMixin):
    children: SupervisedChildren[Any] | None = None

    def child_exited(self, key: Any, delay: float | None) -> None:
        """Record that child ``key`` exited; it is restarted in ``delay``
        seconds, or never (None: it exited too often)."""

    def restart_child(self, key: Any) -> None:
        """Create child ``key`` again."""

    def woken(self, payload: Any) -> None:
        """A wake-up of the supervisor's own."""

    def receiveMsg_ChildActorExited(
        self, message: ChildActorExited, sender: Any
    ) -> None:
        if self.stopping or self.children is None:
            return
        exited = self.children.exited(message.childAddress, time.monotonic())
        if exited is None:
            return
        key, delay = exited
        self.child_exited(key, delay)
        if delay is not None:
            log.warning(
                "%s: %s exited; restarting it in %.2f s",
                type(self).__name__,
                key,
                delay,
            )
            self.wakeupAfter(timedelta(seconds=delay), payload=RestartChild(key))

    def receiveMsg_WakeupMessage(self, message: WakeupMessage, sender: Any) -> None:
        payload = message.payload
        if not isinstance(payload, RestartChild):
            self.woken(payload)
        elif (
            not self.stopping
            and self.children is not None
            and payload.key in self.children
        ):
            self.restart_child(payload.key)

    def supervised_children(self) -> list[Any]:
        return self.children.addresses() if self.children else []
