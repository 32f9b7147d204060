"""SystemActor: one per system; creates a PipelineActor per pipeline id."""

from __future__ import annotations

import logging
import os
from typing import Any

from thespian.actors import ActorTypeDispatcher, ChildActorExited

from thespsys.actors.pipeline import PipelineActor
from thespsys.actors.stopping import StoppingMixin
from thespsys.messages import (
    Prompt,
    StartPipelineRequest,
    StartPipelineResponse,
    StartSystemRequest,
    StartSystemResponse,
    StopRequest,
    StopResponse,
)

log = logging.getLogger(__name__)

GLOBAL_NAME = "thespsys.SystemActor"


class SystemActor(StoppingMixin, ActorTypeDispatcher):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request: StartSystemRequest | None = None
        self.requester: Any = None
        self.pipelines: dict[int, Any] = {}
        self.starting: set[int] = set()

    def receiveMsg_StartSystemRequest(self, request: StartSystemRequest, sender: Any) -> None:
        self.request = request
        self.requester = sender
        for pipeline_id in request.pipeline_ids:
            self._start_pipeline(pipeline_id)

    def _start_pipeline(self, pipeline_id: int) -> None:
        assert self.request is not None
        request = self.request
        pipeline = self.createActor(PipelineActor)
        self.pipelines[pipeline_id] = pipeline
        self.starting.add(pipeline_id)
        self.send(
            pipeline,
            StartPipelineRequest(
                spec=request.spec,
                env=request.env,
                pipeline_id=pipeline_id,
                partition_index=request.pipeline_ids.index(pipeline_id),
                partition_count=len(request.pipeline_ids),
                settings=request.settings,
                system_actor=self.myAddress,
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
        for pipeline in self.pipelines.values():
            self.send(pipeline, prompt)

    def receiveMsg_ChildActorExited(self, message: ChildActorExited, sender: Any) -> None:
        if self.stopping:
            return
        for pipeline_id, pipeline in self.pipelines.items():
            if pipeline == message.childAddress:
                log.warning("pipeline %d exited; restarting it", pipeline_id)
                self._start_pipeline(pipeline_id)
                return

    def receiveMsg_StopRequest(self, _: StopRequest, sender: Any) -> None:
        self.begin_stop(sender, children=self.pipelines.values())

    def receiveMsg_StopResponse(self, _: StopResponse, sender: Any) -> None:
        self.child_stopped()

    def receiveMsg_ActorExitRequest(self, message: Any, sender: Any) -> None:
        pass

    def receiveUnrecognizedMessage(self, message: Any, sender: Any) -> None:
        log.warning("SystemActor dropped unexpected %r from %s", message, sender)
