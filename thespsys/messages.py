"""The messages actors exchange: small, frozen, picklable data.

Applications and systems travel as topics, never as objects. Messages carry
prompts and control only; events travel through the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from thespsys.settings import RunnerSettings
from thespsys.system_spec import SystemSpec

# Runner -> SystemActor


@dataclass(frozen=True, slots=True)
class StartSystemRequest:
    """Create the pipelines and their process actors, then reply."""

    spec: SystemSpec
    env: tuple[tuple[str, str], ...]
    pipeline_ids: tuple[int, ...]
    settings: RunnerSettings


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


# Anyone -> SystemActor -> PipelineActor -> ProcessMaster


@dataclass(frozen=True, slots=True)
class Prompt:
    """``leader_name`` has recorded new events: its followers should pull."""

    leader_name: str


# SystemActor -> PipelineActor


@dataclass(frozen=True, slots=True)
class StartPipelineRequest:
    spec: SystemSpec
    env: tuple[tuple[str, str], ...]
    pipeline_id: int
    partition_index: int
    partition_count: int
    settings: RunnerSettings
    system_actor: object = field(compare=False)


@dataclass(frozen=True, slots=True)
class StartPipelineResponse:
    pipeline_id: int


# PipelineActor -> ProcessMaster -> ProcessSlave


@dataclass(frozen=True, slots=True)
class StartProcessRequest:
    """Configure a master (and, through it, its slave) for one application."""

    spec: SystemSpec
    env: tuple[tuple[str, str], ...]
    application_name: str
    pipeline_id: int
    partition_index: int
    partition_count: int
    settings: RunnerSettings
    system_actor: object = field(compare=False)


# ProcessMaster <-> ProcessSlave


@dataclass(frozen=True, slots=True)
class RunRequest:
    """Pull and process what is new, within the slave's time budget."""


@dataclass(frozen=True, slots=True)
class RunResponse:
    """A run ended. ``recorded``: new events were written; ``more``: the
    budget ran out before the slave caught up."""

    processed: int
    recorded: bool
    more: bool


@dataclass(frozen=True, slots=True)
class RunFailure:
    """A run failed; nothing of the failed notification was recorded."""

    error: str
    traceback: str
