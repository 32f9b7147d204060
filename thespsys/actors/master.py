"""ProcessMaster: stays responsive, coalesces prompts, polls, supervises its slave."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from thespian.actors import ActorTypeDispatcher, ChildActorExited, WakeupMessage

from thespsys.actors.slave import ProcessSlave
from thespsys.actors.stopping import StoppingMixin
from thespsys.messages import (
    Prompt,
    RunFailure,
    RunRequest,
    RunResponse,
    StartProcessRequest,
    StopRequest,
)
from thespsys.scheduling import RunScheduler

log = logging.getLogger(__name__)

POLL = "poll"
RETRY = "retry"


class ProcessMaster(StoppingMixin, ActorTypeDispatcher):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request: StartProcessRequest | None = None
        self.slave: Any = None
        self.scheduler = RunScheduler()

    def receiveMsg_StartProcessRequest(self, request: StartProcessRequest, sender: Any) -> None:
        self.request = request
        self._start_slave()
        self._run_if_due()  # catch up on what was recorded before start
        self.wakeupAfter(timedelta(seconds=request.settings.poll_interval), payload=POLL)

    def _start_slave(self) -> None:
        assert self.request is not None
        self.slave = self.createActor(ProcessSlave)
        self.send(self.slave, self.request)

    def _run_if_due(self) -> None:
        if not self.stopping and self.scheduler.request():
            self.send(self.slave, RunRequest())

    def receiveMsg_Prompt(self, _: Prompt, sender: Any) -> None:
        self._run_if_due()

    def receiveMsg_RunResponse(self, response: RunResponse, sender: Any) -> None:
        assert self.request is not None
        if response.recorded:
            self.send(self.request.system_actor, Prompt(self.request.application_name))
        if self.scheduler.finished(more=response.more) and not self.stopping:
            self.send(self.slave, RunRequest())

    def receiveMsg_RunFailure(self, failure: RunFailure, sender: Any) -> None:
        assert self.request is not None
        log.error(
            "%s (pipeline %d) failed: %s\n%s",
            self.request.application_name,
            self.request.pipeline_id,
            failure.error,
            failure.traceback,
        )
        self.scheduler.failed()
        self.wakeupAfter(timedelta(seconds=self.request.settings.poll_interval), payload=RETRY)

    def receiveMsg_WakeupMessage(self, message: WakeupMessage, sender: Any) -> None:
        assert self.request is not None
        if self.stopping:
            return
        if message.payload == RETRY:
            if self.scheduler.retry():
                self.send(self.slave, RunRequest())
            return
        self._run_if_due()
        self.wakeupAfter(timedelta(seconds=self.request.settings.poll_interval), payload=POLL)

    def receiveMsg_ChildActorExited(self, message: ChildActorExited, sender: Any) -> None:
        if self.stopping or message.childAddress != self.slave:
            return
        assert self.request is not None
        log.warning("slave of %s exited; restarting it", self.request.application_name)
        self.scheduler.interrupted()
        self._start_slave()
        self._run_if_due()

    def receiveMsg_StopRequest(self, _: StopRequest, sender: Any) -> None:
        self.begin_stop(sender, children=())

    def receiveMsg_ActorExitRequest(self, message: Any, sender: Any) -> None:
        pass

    def receiveUnrecognizedMessage(self, message: Any, sender: Any) -> None:
        log.warning("ProcessMaster dropped unexpected %r from %s", message, sender)
