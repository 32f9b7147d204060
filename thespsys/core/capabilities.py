"""What thespsys needs of a persistence module beyond eventsourcing's recorders.

``thespsys.persistence`` has every capability here. Another persistence module
(eventsourcing's own, say) serves what needs none: one pipeline, the retry and
stop error policies. Each capability is a named protocol, checked once, where
a setting first needs it, by the ``require_*`` functions, which raise a
``ConfigurationError`` naming ``PERSISTENCE_MODULE`` and what needed it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from eventsourcing.persistence import Notification, StoredEvent, Tracking
from eventsourcing.popo import POPORecorder

from thespsys.core.partitions import SLICE_COUNT
from thespsys.errors import ConfigurationError

if TYPE_CHECKING:
    from thespsys.core.partitionings import Partitioning, PartitioningChange
    from thespsys.persistence.dead_letters import DeadLetter

THESPSYS_STORE = "thespsys.persistence"


@runtime_checkable
class PartitionedNotificationLog(Protocol):
    """An application recorder whose events carry their slice
    (``thespsys.core.partitions.slice_of``), so that a pipeline reads only its own
    partition. ``slice_count`` says the slicing is thespsys's."""

    slice_count: int

    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
        slices: range | None = None,
    ) -> Sequence[Notification]: ...

    def max_notification_id(
        self, *, slices: range | None = None, topics: Sequence[str] = ()
    ) -> int | None: ...


@dataclass(frozen=True)
class TrackingRange(Tracking):
    """The position after processing notifications ``first_notification_id``
    to ``notification_id`` of one upstream in one transaction: recorded only
    if the position is still before ``first_notification_id``, so that no
    notification of the range can have been processed already."""

    first_notification_id: int = 0


@runtime_checkable
class BatchStore(Protocol):
    """A process recorder that records the new events of several
    notifications and each upstream's position in one transaction."""

    def insert_batch(
        self, stored_events: Sequence[StoredEvent], trackings: Sequence[TrackingRange]
    ) -> Sequence[int]: ...


class DeadLetters(Protocol):
    """The dead letters of one process application (see ``DeadLetterQueue``)."""

    def select(self, status: str | None = None) -> list[DeadLetter]: ...

    def status(self, letter_id: int) -> str | None: ...

    def skip(self, letter_id: int) -> None: ...

    def record_attempt(self, letter_id: int, error: str, traceback: str) -> None: ...

    def parked_originators(self, tracking_name: str) -> set[str]: ...

    def is_parked(self, tracking_name: str, originator_id: str) -> bool: ...

    def parked_counts(self) -> dict[str, int]: ...


@runtime_checkable
class DeadLetterStore(Protocol):
    """A process recorder that sets notifications aside (the park policy)."""

    @property
    def dead_letters(self) -> DeadLetters: ...

    def park(
        self,
        tracking: Tracking,
        notification: Notification,
        error: str,
        traceback: str,
        attempts: int,
    ) -> None: ...


@runtime_checkable
class PartitioningStore(Protocol):
    """A process recorder that records the partitioning it reads each leader
    in, so that the pipeline count can change (``thespsys.engine.rescaling``)."""

    def partitioning(self, leader_name: str) -> Partitioning | None: ...

    def tracking_positions(self) -> dict[str, int]: ...

    def unresolved_dead_letters(self) -> dict[str, int]: ...

    def record_partitioning(self, change: PartitioningChange) -> None: ...


def is_partitioned(recorder: Any) -> bool:
    return (
        isinstance(recorder, PartitionedNotificationLog)
        and recorder.slice_count == SLICE_COUNT
    )


def require_partitioned(recorder: Any, who: str) -> PartitionedNotificationLog:
    if not is_partitioned(recorder):
        raise _missing(recorder, who, "cannot select notifications by partition")
    assert isinstance(recorder, PartitionedNotificationLog)
    return recorder


def require_shared(recorder: Any, who: str) -> None:
    """Events kept in one process's memory (eventsourcing's default ``POPO``
    persistence, an in-memory SQLite database) cannot reach the actor
    processes: nothing would ever be processed."""
    pool = getattr(getattr(recorder, "datastore", None), "pool", None)
    if isinstance(recorder, POPORecorder) or getattr(
        pool, "is_sqlite_memory_mode", False
    ):
        raise ConfigurationError(
            "PERSISTENCE_MODULE",
            f"{who}: {type(recorder).__qualname__} keeps the events in this "
            "process's memory, where the actor processes that run the "
            f"followers cannot read them; use {THESPSYS_STORE} with a "
            "DATABASE_URL (a SQLite file or PostgreSQL)",
        )


def require_dead_letters(recorder: Any, who: str) -> DeadLetterStore:
    if not isinstance(recorder, DeadLetterStore):
        raise _missing(recorder, who, "keeps no dead letters")
    return recorder


def require_partitionings(recorder: Any, who: str) -> PartitioningStore:
    if not isinstance(recorder, PartitioningStore):
        raise _missing(recorder, who, "cannot record partitionings")
    return recorder


def _missing(recorder: Any, who: str, what: str) -> ConfigurationError:
    return ConfigurationError(
        "PERSISTENCE_MODULE",
        f"{who}: {type(recorder).__qualname__} {what}; use {THESPSYS_STORE}",
    )
