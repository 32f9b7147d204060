"""SystemActor: one per system; creates a PipelineActor per pipeline id.

It keeps the ``Directory`` (every master's address) and sends it to every
master whenever it changes, so that prompts go from master to master, and
from the runner to the masters, without passing through here. What it still
receives is rare: start and stop, state changes, and the runner's asks for the
status and the directory, which it answers from what it holds.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from datetime import timedelta
from typing import Any

from thespian.actors import ActorTypeDispatcher, ChildActorExited, WakeupMessage

from thespsys.actors.pipeline import PipelineActor
from thespsys.actors.stopping import StoppingMixin
from thespsys.messages import (
    Directory,
    DirectoryRequest,
    MasterStarted,
    PipelineConfig,
    ProcessState,
    ProcessStatus,
    StartPipelineRequest,
    StartPipelineResponse,
    StartSystemFailure,
    StartSystemRequest,
    StartSystemResponse,
    StatusRequest,
    StatusResponse,
)
from thespsys.partitions import Partition
from thespsys.processes import die_with_parent, process_alive
from thespsys.supervision import SupervisedChildren

log = logging.getLogger(__name__)

GLOBAL_NAME = "thespsys.SystemActor"
OWNER_CHECK = "owner"
OWNER_CHECK_INTERVAL = timedelta(seconds=0.5)


class SystemActor(StoppingMixin, ActorTypeDispatcher):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        die_with_parent()
        self.request: StartSystemRequest | None = None
        self.statuses: dict[tuple[str, int], ProcessStatus] = {}
        self.requester: Any = None
        self.pipelines: SupervisedChildren[int] | None = None
        self.starting: set[int] = set()
        self.followers_of: tuple[tuple[str, tuple[str, ...]], ...] = ()
        self.masters: dict[tuple[str, int], Any] = {}
        self.directory_version = 0

    def receiveMsg_StartSystemRequest(
        self, request: StartSystemRequest, sender: Any
    ) -> None:
        if self.request is not None:
            self._attach(request, sender)
            return
        self.request = request
        self.requester = sender
        if request.owner_pid is not None:
            self.wakeupAfter(OWNER_CHECK_INTERVAL, payload=OWNER_CHECK)
        system = request.spec.to_system()
        followers = system.followers
        self.followers_of = tuple(
            (name, tuple(names)) for name, names in sorted(system.leads.items())
        )
        self.pipelines = SupervisedChildren(request.settings.restarts)
        for pipeline_id in request.pipeline_ids:
            for name in followers:
                self.statuses[name, pipeline_id] = ProcessStatus(
                    name, pipeline_id, ProcessState.STARTING
                )
            self._start_pipeline(pipeline_id)

    def _attach(self, request: StartSystemRequest, sender: Any) -> None:
        """Another runner joins: fine if it runs the same system, the same way."""
        assert self.request is not None
        running = self.request
        if (request.spec, request.pipeline_ids) != (running.spec, running.pipeline_ids):
            self.send(
                sender,
                StartSystemFailure(
                    "this actor system runs another system or other pipelines: "
                    f"{sorted(dict(running.spec.nodes))} "
                    f"on {list(running.pipeline_ids)}"
                ),
            )
        elif self.starting:
            self.send(
                sender, StartSystemFailure("the system is still starting; try again")
            )
        else:
            self.send(sender, StartSystemResponse(pgid=os.getpgid(0)))

    def _start_pipeline(self, pipeline_id: int) -> None:
        assert self.request is not None and self.pipelines is not None
        request = self.request
        pipeline = self.createActor(PipelineActor)
        self.pipelines.started(pipeline_id, pipeline)
        self.starting.add(pipeline_id)
        self.send(
            pipeline,
            StartPipelineRequest(
                PipelineConfig(
                    spec=request.spec,
                    env=request.env,
                    pipeline_id=pipeline_id,
                    partition=Partition(
                        request.pipeline_ids.index(pipeline_id),
                        len(request.pipeline_ids),
                    ),
                    settings=request.settings,
                    system_actor=self.myAddress,
                )
            ),
        )

    def receiveMsg_StartPipelineResponse(
        self, response: StartPipelineResponse, sender: Any
    ) -> None:
        for name, address in response.masters:
            self.masters[name, response.pipeline_id] = address
        self.directory_version += 1
        self.starting.discard(response.pipeline_id)
        if self.starting:
            return
        self._publish_directory()
        if self.requester is not None:
            self.send(self.requester, StartSystemResponse(pgid=os.getpgid(0)))
            self.requester = None

    # The directory of masters

    def receiveMsg_MasterStarted(self, message: MasterStarted, sender: Any) -> None:
        self.masters[message.application_name, message.pipeline_id] = message.address
        self.directory_version += 1
        if not self.starting:  # else once the pipelines have started
            self._publish_directory()

    def receiveMsg_DirectoryRequest(self, _: DirectoryRequest, sender: Any) -> None:
        self.send(sender, self._directory())

    def _directory(self) -> Directory:
        assert self.request is not None
        return Directory(
            version=self.directory_version,
            pipeline_ids=self.request.pipeline_ids,
            followers_of=self.followers_of,
            masters=tuple(
                (name, pipeline_id, address)
                for (name, pipeline_id), address in sorted(
                    self.masters.items(), key=lambda item: item[0]
                )
            ),
        )

    def _publish_directory(self) -> None:
        """To every master: one message each, only when the directory changed."""
        if self.stopping:
            return
        directory = self._directory()
        for address in self.masters.values():
            self.send(address, directory)

    def receiveMsg_ChildActorExited(
        self, message: ChildActorExited, sender: Any
    ) -> None:
        if self.stopping or self.pipelines is None:
            return
        exited = self.pipelines.exited(message.childAddress, time.monotonic())
        if exited is None:
            return
        pipeline_id, delay = exited
        # Its masters die with it: no prompts to them until it is back.
        for key in [key for key in self.masters if key[1] == pipeline_id]:
            del self.masters[key]
        self.directory_version += 1
        self._publish_directory()
        state = ProcessState.FAILED if delay is None else ProcessState.RESTARTING
        for (name, each_id), status in list(self.statuses.items()):
            if each_id == pipeline_id:
                self.statuses[name, each_id] = ProcessStatus(
                    name, pipeline_id, state, status.restarts, "pipeline actor exited"
                )
        if delay is not None:
            log.warning(
                "pipeline %d exited; restarting it in %.2f s", pipeline_id, delay
            )
            self.wakeupAfter(timedelta(seconds=delay), payload=pipeline_id)

    def receiveMsg_WakeupMessage(self, message: WakeupMessage, sender: Any) -> None:
        if message.payload == OWNER_CHECK:
            self._check_owner()
            return
        pipelines = self.pipelines
        if not self.stopping and pipelines is not None and message.payload in pipelines:
            self._start_pipeline(message.payload)

    def _check_owner(self) -> None:
        """The actor system ends with the process that owns it, however that
        dies (Thespian's admin is double-forked, so no parent-death signal
        reaches it): all of its processes share this process group."""
        assert self.request is not None and self.request.owner_pid is not None
        if process_alive(self.request.owner_pid):
            self.wakeupAfter(OWNER_CHECK_INTERVAL, payload=OWNER_CHECK)
            return
        log.error(
            "the owner of this actor system, process %d, is gone; ending the "
            "actor system",
            self.request.owner_pid,
        )
        os.killpg(os.getpgid(0), signal.SIGKILL)

    def receiveMsg_ProcessStatus(self, status: ProcessStatus, sender: Any) -> None:
        self.statuses[status.application_name, status.pipeline_id] = status

    def receiveMsg_StatusRequest(self, _: StatusRequest, sender: Any) -> None:
        self.send(sender, StatusResponse(tuple(self.statuses.values())))

    def supervised_children(self) -> list[Any]:
        return self.pipelines.addresses() if self.pipelines else []
