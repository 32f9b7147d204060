"""PipelineActor: one per pipeline id; creates and supervises its masters.

Every master it creates is announced to the SystemActor, whose ``Directory``
tells the other masters and the runner where to send prompts.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from thespian.actors import ActorTypeDispatcher, ChildActorExited, WakeupMessage

from thespsys.actors.master import ProcessMaster
from thespsys.actors.stopping import StoppingMixin
from thespsys.messages import (
    MasterStarted,
    PipelineConfig,
    ProcessState,
    ProcessStatus,
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

    def receiveMsg_StartPipelineRequest(
        self, request: StartPipelineRequest, sender: Any
    ) -> None:
        self.config = config = request.config
        system = config.spec.to_system()
        self.masters = SupervisedChildren(config.settings.restarts)
        masters = tuple((name, self._start_master(name)) for name in system.followers)
        self.send(sender, StartPipelineResponse(config.pipeline_id, masters))

    def _start_master(self, name: str) -> Any:
        assert self.config is not None and self.masters is not None
        master = self.createActor(ProcessMaster)
        self.masters.started(name, master)
        self.send(master, StartProcessRequest(self.config, name))
        return master

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
            assert self.config is not None
            name = message.payload
            master = self._start_master(name)
            self.send(
                self.config.system_actor,
                MasterStarted(name, self.config.pipeline_id, master),
            )

    def _publish(self, name: str, state: str, restarts: int, error: str) -> None:
        assert self.config is not None
        self.send(
            self.config.system_actor,
            ProcessStatus(name, self.config.pipeline_id, state, restarts, error),
        )

    def supervised_children(self) -> list[Any]:
        return self.masters.addresses() if self.masters else []
