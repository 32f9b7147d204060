"""The messages actors exchange: small, frozen, picklable data.

Applications and systems travel as topics, never as objects. Messages carry
prompts and control only; events travel through the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from thespsys.core.partitions import Partition
from thespsys.core.processes import MONOTONIC_CLOCK
from thespsys.core.settings import RunnerSettings
from thespsys.core.states import FailureKind
from thespsys.core.system_spec import SystemSpec
from thespsys.engine.failures import ParkOrder
from thespsys.engine.status import ProcessStatus

# Runner -> SystemActor


@dataclass(frozen=True, slots=True)
class StartSystemRequest:
    """Create the pipelines and their process actors, then reply."""

    spec: SystemSpec
    env: tuple[tuple[str, str], ...]
    pipeline_ids: tuple[int, ...]
    settings: RunnerSettings
    owner_pid: int | None = None  # the system ends when this process does


@dataclass(frozen=True, slots=True)
class StartSystemResponse:
    """Every master has been created; ``pgid`` is the actor processes' group."""

    pgid: int


@dataclass(frozen=True, slots=True)
class StartSystemFailure:
    reason: str


@dataclass(frozen=True, slots=True)
class StopRequest:
    """Stop processing and supervising (a shutdown follows); the receiver
    passes it to its children and answers ``StopResponse`` once they have."""


@dataclass(frozen=True, slots=True)
class StopResponse:
    pass


# ProcessMaster / the runner's prompt forwarder -> ProcessMaster


@dataclass(frozen=True, slots=True)
class Prompt:
    """``leader_name`` has recorded new events in ``slices`` (empty: in any):
    the followers in pipelines owning those slices should pull. Sent straight
    to those followers' masters, found in the ``Directory``."""

    leader_name: str
    slices: tuple[int, ...] = ()
    # A time (time.monotonic() on ``clock``, the sender's machine) after the
    # new events were committed: when the sender learnt of them. A run its
    # master requested since then reads them already. None: unknown.
    seen_at: float | None = None
    clock: str = MONOTONIC_CLOCK

    def read_before(self, moment: float) -> bool:
        """Were the new events committed before ``moment`` (this machine's
        monotonic time)? False when unknown, or seen on another machine."""
        return (
            self.seen_at is not None
            and self.clock == MONOTONIC_CLOCK
            and self.seen_at <= moment
        )


# SystemActor -> ProcessMaster; Runner <-> SystemActor


@dataclass(frozen=True, slots=True)
class Directory:
    """Where prompts go: the followers of each leader, the pipelines, and the
    address of every master. The SystemActor sends it to every master when it
    changes (a master or a pipeline was restarted); ``version`` grows with
    every change."""

    version: int
    pipeline_ids: tuple[int, ...]
    followers_of: tuple[tuple[str, tuple[str, ...]], ...]
    masters: tuple[tuple[str, int, object], ...] = field(compare=False)


@dataclass(frozen=True, slots=True)
class DirectoryRequest:
    """Answered with the current ``Directory``."""


# SystemActor -> ChangeWatcher (and the Directory, as to masters)


@dataclass(frozen=True, slots=True)
class WatcherCheck:
    """Is the watcher's timer chain still firing? Sent every half second."""


@dataclass(frozen=True, slots=True)
class WatchRequest:
    """Watch the leaders' logs every ``interval`` seconds; prompt the masters."""

    spec: SystemSpec
    env: tuple[tuple[str, str], ...]
    pipeline_ids: tuple[int, ...]
    interval: float


# SystemActor -> PipelineActor


@dataclass(frozen=True, slots=True)
class PipelineConfig:
    """What every actor of one pipeline needs to know."""

    spec: SystemSpec
    env: tuple[tuple[str, str], ...]
    pipeline_id: int
    partition: Partition
    settings: RunnerSettings
    system_actor: object = field(compare=False)


@dataclass(frozen=True, slots=True)
class StartPipelineRequest:
    config: PipelineConfig


@dataclass(frozen=True, slots=True)
class StartPipelineResponse:
    """The pipeline's masters are created: (application name, address)."""

    pipeline_id: int
    masters: tuple[tuple[str, object], ...] = field(default=(), compare=False)


# PipelineActor -> SystemActor


@dataclass(frozen=True, slots=True)
class MasterStarted:
    """A master was re-created: prompts for ``application_name``
    in ``pipeline_id`` go to ``address`` from now on."""

    application_name: str
    pipeline_id: int
    address: object = field(compare=False)


# PipelineActor -> ProcessMaster -> ProcessSlave


@dataclass(frozen=True, slots=True)
class StartProcessRequest:
    """Configure a master (and, through it, its slave) for one application."""

    config: PipelineConfig
    application_name: str


# ProcessMaster <-> ProcessSlave


@dataclass(frozen=True, slots=True)
class SlaveStarted:
    """A slave is up; its pid lets the master end it if it gets stuck."""

    pid: int


@dataclass(frozen=True, slots=True)
class RunRequest:
    """Pull and process what is new, within the slave's time budget."""

    park: ParkOrder | None = None


@dataclass(frozen=True, slots=True)
class RunResponse:
    """A run ended. ``recorded_slices``: of the new events it recorded (empty:
    none); ``more``: the budget ran out before the slave caught up."""

    processed: int
    recorded_slices: tuple[int, ...]
    more: bool


@dataclass(frozen=True, slots=True)
class RunFailure:
    """A run failed; nothing of the failed notification was recorded."""

    kind: FailureKind
    error: str
    traceback: str
    tracking_name: str | None = None
    notification_id: int | None = None
    message: str | None = None  # the original exception's own str()


# ProcessMaster / PipelineActor -> SystemActor; Runner <-> SystemActor


@dataclass(frozen=True, slots=True)
class StatusRequest:
    pass


@dataclass(frozen=True, slots=True)
class StatusResponse:
    processes: tuple[ProcessStatus, ...]
