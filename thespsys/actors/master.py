"""ProcessMaster: stays responsive, coalesces prompts, polls, supervises its slave.

Decisions live in plain objects (``RunScheduler``, ``SupervisedChildren``,
``FailureDecider``, ``PromptRoutes``); this actor applies them, prompts the
downstream masters itself after a run that recorded events, and reports its
state to the SystemActor whenever it changes.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time
from datetime import timedelta
from typing import Any

from thespian.actors import ActorTypeDispatcher

from thespsys.actors.messages import (
    Directory,
    Prompt,
    RunFailure,
    RunRequest,
    RunResponse,
    SlaveStarted,
    StartProcessRequest,
)
from thespsys.actors.prompts import PromptRoutes
from thespsys.actors.slave import ProcessSlave
from thespsys.actors.supervisor import Supervisor
from thespsys.core.processes import die_with_parent
from thespsys.core.states import ProcessState
from thespsys.core.supervision import ErrorHandling
from thespsys.engine.failures import Action, FailureDecider
from thespsys.engine.restarts import SupervisedChildren
from thespsys.engine.scheduling import RunScheduler
from thespsys.engine.status import ProcessStatus

log = logging.getLogger(__name__)

POLL = "poll"
RETRY = "retry"
SLAVE = "slave"


class ProcessMaster(Supervisor, ActorTypeDispatcher):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        die_with_parent()
        self.request: StartProcessRequest | None = None
        self.failures = FailureDecider()
        self.scheduler = RunScheduler()
        self.slave: Any = None
        self.slave_pid: int | None = None
        self.run_started: float | None = None  # while a run is outstanding
        self.last_run_requested = 0.0
        self.run_ended = 0.0
        self.state = ProcessState.STARTING
        self.last_error: str | None = None
        self.last_traceback: str | None = None
        self.last_error_message: str | None = None  # the exception's own str()
        self.attempts = 0  # failed runs in a row
        self.retry_in: float | None = None  # while retrying: the backoff
        self.routes: PromptRoutes | None = None
        self.unrouted: set[int] = set()  # recorded before the routes came

    # Start and slave supervision

    def receiveMsg_StartProcessRequest(
        self, request: StartProcessRequest, sender: Any
    ) -> None:
        self.request = request
        self.failures = FailureDecider(
            ErrorHandling.from_env(
                request.application_name, {**os.environ, **dict(request.config.env)}
            )
        )
        self.children = SupervisedChildren(request.config.settings.restarts)
        self._start_slave()
        self._run_if_due()  # catch up on what was recorded before start
        self._wake(request.config.settings.poll_interval, POLL)

    def _start_slave(self) -> None:
        assert self.request is not None and self.children is not None
        self.slave = self.createActor(ProcessSlave)
        self.children.started(SLAVE, self.slave)
        self.send(self.slave, self.request)

    def receiveMsg_SlaveStarted(self, message: SlaveStarted, sender: Any) -> None:
        self.slave_pid = message.pid
        if self.state in (ProcessState.STARTING, ProcessState.RESTARTING):
            self._set_state(ProcessState.RUNNING)
        else:
            self._publish()

    def child_exited(self, key: Any, delay: float | None) -> None:
        assert self.children is not None
        self.slave = self.slave_pid = self.run_started = None
        self.scheduler.interrupted()
        if delay is None:
            policy = self.children.policy
            self._set_state(
                ProcessState.FAILED,
                f"slave exited {policy.max_restarts} times within "
                f"{policy.within_seconds:g} s; not restarting it again"
                + (f" (last error: {self.last_error})" if self.last_error else ""),
            )
        else:
            self._set_state(ProcessState.RESTARTING)

    def restart_child(self, key: Any) -> None:
        self._start_slave()
        self._run_if_due()

    def supervised_children(self) -> list[Any]:
        return []  # a slave is stopped with its actor system; it has no children

    # Runs

    def _run_if_due(self) -> None:
        if self._can_run() and self.scheduler.request():
            self._send_run()

    def _can_run(self) -> bool:
        return (
            not self.stopping
            and self.slave is not None
            and self.state != ProcessState.FAILED
        )

    def _send_run(self) -> None:
        assert self.request is not None
        self.run_started = self.last_run_requested = time.monotonic()
        self.send(self.slave, RunRequest(park=self.failures.park))

    def receiveMsg_Prompt(self, prompt: Prompt, sender: Any) -> None:
        if prompt.read_before(self.last_run_requested):
            return  # a run requested after they were committed reads them
        self._run_if_due()

    def receiveMsg_RunResponse(self, response: RunResponse, sender: Any) -> None:
        assert self.request is not None
        self.run_ended = time.monotonic()  # after whatever the run committed
        self.run_started = None
        self.failures.succeeded()
        if self.state == ProcessState.RETRYING:
            log.warning(
                "%s recovered after %d failed attempt(s)", self._name, self.attempts
            )
            self.attempts, self.retry_in = 0, None
            self._set_state(ProcessState.RUNNING)
        if response.recorded_slices:
            self._prompt_followers(response.recorded_slices)
        if self.scheduler.finished(more=response.more) and self._can_run():
            self._send_run()

    def receiveMsg_Directory(self, directory: Directory, sender: Any) -> None:
        if self.routes is None or directory.version > self.routes.version:
            self.routes = PromptRoutes(directory)
        if self.unrouted:
            slices, self.unrouted = tuple(sorted(self.unrouted)), set()
            self._prompt_followers(slices)

    def _prompt_followers(self, slices: tuple[int, ...]) -> None:
        """One prompt per downstream master concerned, straight to it."""
        assert self.request is not None
        if self.routes is None:
            self.unrouted.update(slices)
            return
        pending = {self.request.application_name: slices}
        for address, prompt in self.routes.prompts(pending, seen_at=self.run_ended):
            self.send(address, prompt)

    def receiveMsg_RunFailure(self, failure: RunFailure, sender: Any) -> None:
        self.run_started = None
        self.last_error, self.last_traceback = failure.error, failure.traceback
        self.last_error_message = failure.message
        decision = self.failures.decide(
            failure.kind,
            failure.error,
            failure.traceback,
            failure.tracking_name,
            failure.notification_id,
        )
        self.attempts = decision.attempts
        if decision.action is Action.RESTART:
            log.error("%s could not start: %s", self._name, failure.traceback)
            self.scheduler.interrupted()
            self._publish()  # the slave exits; ChildActorExited restarts it
            return
        self.scheduler.failed()
        if decision.action is Action.STOP:
            log.error(
                "%s stopped processing (error policy stop): %s",
                self._name,
                failure.traceback,
            )
            self._set_state(ProcessState.FAILED, failure.error, failure.traceback)
        else:
            self._retry_after(decision.delay, failure)

    def _retry_after(self, delay: float, failure: RunFailure) -> None:
        """One warning per attempt, the traceback with the first only."""
        self.retry_in = delay
        if self.attempts == 1:
            log.warning(
                "%s failed, retrying in %.2g s (attempt 1): %s",
                self._name,
                delay,
                failure.traceback,
            )
        else:
            log.warning(
                "%s failed again, retrying in %.2g s (attempt %d): %s",
                self._name,
                delay,
                self.attempts,
                failure.error,
            )
        self._set_state(ProcessState.RETRYING)
        self._wake(delay, RETRY)

    # Timers

    def woken(self, payload: Any) -> None:
        assert self.request is not None
        if self.stopping:
            return
        if payload == POLL:
            self._end_stuck_slave()
            self._run_if_due()
            self._wake(self.request.config.settings.poll_interval, POLL)
        elif payload == RETRY:
            if not self._can_run():
                self.scheduler.release()
            elif self.scheduler.retry():
                self._send_run()

    def _end_stuck_slave(self) -> None:
        """Checked on every poll tick, so the deadline holds to a poll interval."""
        assert self.request is not None
        deadline = self.request.config.settings.processing_deadline
        if self.run_started is None or not self.slave_pid:
            return
        if time.monotonic() - self.run_started <= deadline:
            return
        self.last_error = self.last_error_message = (
            f"slave busy for more than {deadline:g} s with one run; ended it"
        )
        log.error("%s: %s", self._name, self.last_error)
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.slave_pid, signal.SIGKILL)

    def _wake(self, seconds: float, payload: object) -> None:
        self.wakeupAfter(timedelta(seconds=seconds), payload=payload)

    # Status

    @property
    def _name(self) -> str:
        assert self.request is not None
        request = self.request
        return f"{request.application_name} (pipeline {request.config.pipeline_id})"

    def _set_state(
        self,
        state: ProcessState,
        error: str | None = None,
        traceback: str | None = None,
    ) -> None:
        self.state = state
        if error is not None:
            self.last_error, self.last_traceback = error, traceback
        self._publish()

    def _publish(self) -> None:
        assert self.request is not None
        self.send(
            self.request.config.system_actor,
            ProcessStatus(
                application_name=self.request.application_name,
                pipeline_id=self.request.config.pipeline_id,
                state=self.state,
                restarts=self.children.restarts(SLAVE) if self.children else 0,
                last_error=self.last_error,
                last_traceback=self.last_traceback,
                master_pid=os.getpid(),
                slave_pid=self.slave_pid,
                last_error_message=self.last_error_message,
                attempts=self.attempts,
                retry_in=self.retry_in if self.state == ProcessState.RETRYING else None,
            ),
        )
