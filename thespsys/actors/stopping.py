"""Orderly stop: parents stop supervising before the actor system shuts down.

Without it, a shutdown that ends children first looks like a crash to their
parents, which would start replacements while the system is going away.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from thespsys.messages import StopRequest, StopResponse


class StoppingMixin:
    """For actors with ``send``: track a StopRequest through the children."""

    stopping: bool = False
    _stop_requester: Any = None
    _stop_waiting: int = 0

    def begin_stop(self, requester: Any, children: Iterable[Any]) -> None:
        self.stopping = True
        self._stop_requester = requester
        children = list(children)
        self._stop_waiting = len(children)
        for child in children:
            self.send(child, StopRequest())  # type: ignore[attr-defined]
        self._maybe_stopped()

    def child_stopped(self) -> None:
        self._stop_waiting -= 1
        self._maybe_stopped()

    def _maybe_stopped(self) -> None:
        if self._stop_waiting <= 0 and self._stop_requester is not None:
            self.send(self._stop_requester, StopResponse())  # type: ignore[attr-defined]
            self._stop_requester = None
