"""Parked notifications of one process application: list, retry, skip.

Retrying processes a parked notification exactly once: its new events are
recorded and its letter marked ``retried`` in one guarded transaction. The
notifications of one originator are retried in their original order; retrying
one also retries the earlier parked ones of the same originator, and a
failure stops that originator's retry there (the attempt is recorded).
"""

from __future__ import annotations

import functools
import traceback
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

from eventsourcing.system import Follower

from thespsys.core.capabilities import require_dead_letters
from thespsys.core.partitions import Partition
from thespsys.engine.processor import process_once
from thespsys.engine.upstreams import Upstream, connect_upstream
from thespsys.persistence.dead_letters import (
    PARKED,
    DeadLetter,
    DeadLetterTracking,
)


@dataclass(slots=True)
class RetryReport:
    retried: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    held: list[int] = field(default_factory=list)  # behind a failure, not tried


class DeadLetterQueue:
    def __init__(
        self, app: Follower[Any], leader_names: Iterable[str], env: Mapping[str, str]
    ) -> None:
        self.app = app
        self.recorder = require_dead_letters(app.recorder, app.name).dead_letters
        self._upstreams = {
            name: connect_upstream(app, name, env, Partition(0, 1))
            for name in leader_names
        }

    def letters(self, status: str | None = PARKED) -> list[DeadLetter]:
        """Letters with ``status`` (all of them for None), oldest first."""
        return self.recorder.select(status)

    def retry(self, letter_ids: Iterable[int] | None = None) -> RetryReport:
        """Retry the given parked letters (all parked ones for None)."""
        parked = self.letters(PARKED)
        wanted = (
            {letter.id for letter in parked} if letter_ids is None else set(letter_ids)
        )
        self._check_known(wanted, parked)
        chosen = [
            letter
            for letter in parked
            if any(
                other.id in wanted
                and (other.tracking_name, other.originator_id)
                == (letter.tracking_name, letter.originator_id)
                and other.notification_id >= letter.notification_id
                for other in parked
            )
        ]
        report = RetryReport()

        def originator(letter: DeadLetter) -> tuple[str, str]:
            return letter.tracking_name, letter.originator_id

        chosen.sort(key=lambda letter: (originator(letter), letter.notification_id))
        for _, letters in groupby(chosen, key=originator):
            self._retry_in_order(list(letters), report)
        return report

    def _retry_in_order(self, letters: list[DeadLetter], report: RetryReport) -> None:
        for index, letter in enumerate(letters):
            upstream = self._upstream(letter)
            try:
                notification = upstream.notification(letter.notification_id)
                process_once(
                    self.app,
                    upstream.domain_event(notification),
                    DeadLetterTracking(
                        letter.tracking_name, letter.notification_id, letter.id
                    ),
                    f"dead letter {letter.id}",
                    is_done=functools.partial(self._is_resolved, letter.id),
                )
            except Exception as error:
                description = f"{type(error).__name__}: {error}"
                self.recorder.record_attempt(
                    letter.id, description, traceback.format_exc()
                )
                report.failed[letter.id] = description
                report.held.extend(later.id for later in letters[index + 1 :])
                return
            report.retried.append(letter.id)

    def _is_resolved(self, letter_id: int) -> bool:
        return self.recorder.status(letter_id) != PARKED

    def skip(self, letter_ids: Iterable[int]) -> None:
        """Mark parked letters skipped: they will never be processed."""
        ids = list(letter_ids)
        self._check_known(set(ids), self.letters(PARKED))
        for letter_id in ids:
            self.recorder.skip(letter_id)

    def _upstream(self, letter: DeadLetter) -> Upstream:
        return self._upstreams[letter.leader_name]

    @staticmethod
    def _check_known(wanted: set[int], parked: list[DeadLetter]) -> None:
        unknown = wanted - {letter.id for letter in parked}
        if unknown:
            msg = f"not parked dead letters: {sorted(unknown)}"
            raise LookupError(msg)
