"""PipelineActor: one per pipeline id; creates and routes prompts to its masters."""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from thespian.actors import ActorTypeDispatcher, ChildActorExited, WakeupMessage

from thespsys.actors.master import ProcessMaster
from thespsys.actors.stopping import StoppingMixin
from thespsys.messages import (
    PipelineConfig,
    ProcessState,
    ProcessStatus,
    Prompt,
    StartPipelineRequest,
    StartPipelineResponse,
    StartProcessRequest,
)
from thespsys.processes import die_with_parent
from thespsys.supervision import SupervisedChildren

log = logging.getLogger(__name__)


class PipelineActor(StoppingMixin, ActorTypeDispatcher):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        die_with_parent()
        self.config: PipelineConfig | None = None
        self.masters: SupervisedChildren[str] | None = None
        self.followers_of: dict[str, list[str]] = {}

    def receiveMsg_StartPipelineRequest(
        self, request: StartPipelineRequest, sender: Any
    ) -> None:
        self.config = config = request.config
        system = config.spec.to_system()
        self.followers_of = {name: list(names) for name, names in system.leads.items()}
        self.masters = SupervisedChildren(config.settings.restarts)
        for name in system.followers:
            self._start_master(name)
        self.send(sender, StartPipelineResponse(config.pipeline_id))

    def _start_master(self, name: str) -> None:
        assert self.config is not None and self.masters is not None
        master = self.createActor(ProcessMaster)
        self.masters.started(name, master)
        self.send(master, StartProcessRequest(self.config, name))

    def receiveMsg_Prompt(self, prompt: Prompt, sender: Any) -> None:
        assert self.masters is not None
        for name in self.followers_of.get(prompt.leader_name, ()):
            self.send(self.masters[name], prompt)

    def receiveMsg_ChildActorExited(
        self, message: ChildActorExited, sender: Any
    ) -> None:
        if self.stopping or self.masters is None:
            return
        exited = self.masters.exited(message.childAddress, time.monotonic())
        if exited is None:
            return
        name, delay = exited
        restarts = self.masters.restarts(name)
        if delay is None:
            self._publish(name, ProcessState.FAILED, restarts, "master kept exiting")
            return
        log.warning("master of %s exited; restarting it in %.2f s", name, delay)
        self._publish(name, ProcessState.RESTARTING, restarts, "master exited")
        self.wakeupAfter(timedelta(seconds=delay), payload=name)

    def receiveMsg_WakeupMessage(self, message: WakeupMessage, sender: Any) -> None:
        masters = self.masters
        if not self.stopping and masters is not None and message.payload in masters:
            self._start_master(message.payload)

    def _publish(self, name: str, state: str, restarts: int, error: str) -> None:
        assert self.config is not None
        self.send(
            self.config.system_actor,
            ProcessStatus(name, self.config.pipeline_id, state, restarts, error),
        )

    def supervised_children(self) -> list[Any]:
        return self.masters.addresses() if self.masters else []
