"""Orderly stop: parents stop supervising before the actor system shuts down.

Without it, a shutdown that ends children first looks like a crash to their
parents, which would start replacements while the system is going away.
The supervising actors (system, pipeline, master) share these handlers.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from thespsys.actors.messages import StopRequest, StopResponse

log = logging.getLogger(__name__)


class DropsUnknownMessages:
    """Every actor: a message nobody handles is logged and dropped."""

    if TYPE_CHECKING:  # provided by Thespian's Actor, which these are mixed into

        def send(self, target: Any, message: Any) -> None: ...

        def wakeupAfter(self, timePeriod: timedelta, payload: Any = None) -> None: ...

    def receiveUnrecognizedMessage(self, message: Any, sender: Any) -> None:
        log.warning(
            "%s dropped unexpected %r from %s", type(self).__name__, message, sender
        )


class StoppingMixin(DropsUnknownMessages):
    """For supervising actors: pass a StopRequest through the children and
    answer once they have; drop (and log) messages nobody handles."""

    stopping: bool = False
    _stop_requester: Any = None
    _stop_waiting: int = 0

    def supervised_children(self) -> list[Any]:
        """The addresses of the children that must stop first."""
        return []

    def receiveMsg_StopRequest(self, _: StopRequest, sender: Any) -> None:
        self.stopping = True
        self._stop_requester = sender
        children = self.supervised_children()
        self._stop_waiting = len(children)
        for child in children:
            self.send(child, StopRequest())
        self._maybe_stopped()

    def receiveMsg_StopResponse(self, _: StopResponse, sender: Any) -> None:
        self._stop_waiting -= 1
        self._maybe_stopped()

    def _maybe_stopped(self) -> None:
        if self._stop_waiting <= 0 and self._stop_requester is not None:
            self.send(self._stop_requester, StopResponse())
            self._stop_requester = None

    def receiveMsg_ActorExitRequest(self, message: Any, sender: Any) -> None:
        """Thespian's own exit: nothing to clean up here."""
