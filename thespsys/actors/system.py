"""SystemActor: one per system; creates a PipelineActor per pipeline id."""

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
    PipelineConfig,
    ProcessState,
    ProcessStatus,
    Prompt,
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
        followers = request.spec.to_system().followers
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
        self.starting.discard(response.pipeline_id)
        if not self.starting and self.requester is not None:
            self.send(self.requester, StartSystemResponse(pgid=os.getpgid(0)))
            self.requester = None

    def receiveMsg_Prompt(self, prompt: Prompt, sender: Any) -> None:
        assert self.request is not None and self.pipelines is not None
        pipeline_ids = self.request.pipeline_ids
        for index, pipeline_id in enumerate(pipeline_ids):
            owned = Partition(index, len(pipeline_ids)).slices
            if not prompt.slices or any(s in owned for s in prompt.slices):
                self.send(self.pipelines[pipeline_id], prompt)

    def receiveMsg_ChildActorExited(
        self, message: ChildActorExited, sender: Any
    ) -> None:
        if self.stopping or self.pipelines is None:
            return
        exited = self.pipelines.exited(message.childAddress, time.monotonic())
        if exited is None:
            return
        pipeline_id, delay = exited
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
