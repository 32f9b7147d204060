"""A subscription that polls the notification log (no LISTEN/NOTIFY needed).

It pulls at once when the recorder it came from records events in this
process, and otherwise every ``poll_interval`` seconds, so events written by
other processes arrive within that delay.
"""

from __future__ import annotations

from collections.abc import Sequence

from eventsourcing.persistence import ApplicationRecorder, ListenNotifySubscription

DEFAULT_POLL_INTERVAL = 0.1


class PollingSubscription(ListenNotifySubscription[ApplicationRecorder]):
    def __init__(
        self,
        recorder: ApplicationRecorder,
        gt: int | None = None,
        topics: Sequence[str] = (),
        *,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
    ) -> None:
        self._poll_interval = poll_interval
        super().__init__(recorder=recorder, gt=gt, topics=topics)

    def notify(self) -> None:
        """New events were recorded: pull now rather than at the next poll."""
        self._has_been_notified.set()

    def _loop_on_pull(self) -> None:
        try:
            self._pull()
            while not self._has_been_stopped:
                self._has_been_notified.wait(self._poll_interval)
                self._pull()
        except BaseException as error:
            if self._thread_error is None:
                self._thread_error = error
            self.stop()
