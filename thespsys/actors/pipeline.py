"""PipelineActor: one per pipeline id; creates and routes prompts to its masters."""

from __future__ import annotations

import logging
from typing import Any

from thespian.actors import ActorTypeDispatcher, ChildActorExited

from thespsys.actors.master import ProcessMaster
from thespsys.actors.stopping import StoppingMixin
from thespsys.messages import (
    Prompt,
    StartPipelineRequest,
    StartPipelineResponse,
    StartProcessRequest,
    StopRequest,
    StopResponse,
)

log = logging.getLogger(__name__)


class PipelineActor(StoppingMixin, ActorTypeDispatcher):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request: StartPipelineRequest | None = None
        self.masters: dict[str, Any] = {}
        self.followers_of: dict[str, list[str]] = {}

    def receiveMsg_StartPipelineRequest(
        self, request: StartPipelineRequest, sender: Any
    ) -> None:
        self.request = request
        system = request.spec.to_system()
        self.followers_of = {name: list(names) for name, names in system.leads.items()}
        for name in system.followers:
            self._start_master(name)
        self.send(sender, StartPipelineResponse(request.pipeline_id))

    def _start_master(self, name: str) -> None:
        assert self.request is not None
        request = self.request
        master = self.createActor(ProcessMaster)
        self.masters[name] = master
        self.send(
            master,
            StartProcessRequest(
                spec=request.spec,
                env=request.env,
                application_name=name,
                pipeline_id=request.pipeline_id,
                partition_index=request.partition_index,
                partition_count=request.partition_count,
                settings=request.settings,
                system_actor=request.system_actor,
            ),
        )

    def receiveMsg_Prompt(self, prompt: Prompt, sender: Any) -> None:
        for name in self.followers_of.get(prompt.leader_name, ()):
            self.send(self.masters[name], prompt)

    def receiveMsg_ChildActorExited(self, message: ChildActorExited, sender: Any) -> None:
        if self.stopping:
            return
        for name, master in self.masters.items():
            if master == message.childAddress:
                log.warning("master of %s exited; restarting it", name)
                self._start_master(name)
                return

    def receiveMsg_StopRequest(self, _: StopRequest, sender: Any) -> None:
        self.begin_stop(sender, children=self.masters.values())

    def receiveMsg_StopResponse(self, _: StopResponse, sender: Any) -> None:
        self.child_stopped()

    def receiveMsg_ActorExitRequest(self, message: Any, sender: Any) -> None:
        pass

    def receiveUnrecognizedMessage(self, message: Any, sender: Any) -> None:
        log.warning("PipelineActor dropped unexpected %r from %s", message, sender)
