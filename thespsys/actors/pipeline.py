"""PipelineActor: one per pipeline id; creates and supervises its masters.

Every master it creates is announced to the SystemActor, whose ``Directory``
tells the other masters and the runner where to send prompts.
"""

from __future__ import annotations

import logging
from typing import Any

from thespian.actors import ActorTypeDispatcher

from thespsys.actors.master import ProcessMaster
from thespsys.actors.messages import (
    MasterStarted,
    PipelineConfig,
    StartPipelineRequest,
    StartPipelineResponse,
    StartProcessRequest,
)
from thespsys.actors.supervisor import Supervisor
from thespsys.core.processes import die_with_parent
from thespsys.core.states import ProcessState
from thespsys.engine.restarts import SupervisedChildren
from thespsys.engine.status import ProcessStatus

log = logging.getLogger(__name__)


class PipelineActor(Supervisor, ActorTypeDispatcher):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        die_with_parent()
        self.config: PipelineConfig | None = None

    def receiveMsg_StartPipelineRequest(
        self, request: StartPipelineRequest, sender: Any
    ) -> None:
        self.config = config = request.config
        system = config.spec.to_system()
        self.children = SupervisedChildren(config.settings.restarts)
        masters = tuple((name, self._start_master(name)) for name in system.followers)
        self.send(sender, StartPipelineResponse(config.pipeline_id, masters))

    def _start_master(self, name: str) -> Any:
        assert self.config is not None and self.children is not None
        master = self.createActor(ProcessMaster)
        self.children.started(name, master)
        self.send(master, StartProcessRequest(self.config, name))
        return master

    def child_exited(self, key: Any, delay: float | None) -> None:
        assert self.children is not None
        restarts = self.children.restarts(key)
        if delay is None:
            self._publish(key, ProcessState.FAILED, restarts, "master kept exiting")
        else:
            self._publish(key, ProcessState.RESTARTING, restarts, "master exited")

    def restart_child(self, key: Any) -> None:
        assert self.config is not None
        master = self._start_master(key)
        self.send(
            self.config.system_actor,
            MasterStarted(key, self.config.pipeline_id, master),
        )

    def _publish(
        self, name: str, state: ProcessState, restarts: int, error: str
    ) -> None:
        assert self.config is not None
        self.send(
            self.config.system_actor,
            ProcessStatus(name, self.config.pipeline_id, state, restarts, error),
        )
