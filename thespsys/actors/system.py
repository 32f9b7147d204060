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
from datetime import timedelta
from typing import Any

from thespian.actors import ActorTypeDispatcher

from thespsys.actors.messages import (
    Directory,
    DirectoryRequest,
    MasterStarted,
    PipelineConfig,
    StartPipelineRequest,
    StartPipelineResponse,
    StartSystemFailure,
    StartSystemRequest,
    StartSystemResponse,
    StatusRequest,
    StatusResponse,
    WatcherCheck,
    WatchRequest,
)
from thespsys.actors.pipeline import PipelineActor
from thespsys.actors.supervisor import Supervisor
from thespsys.actors.watcher import ChangeWatcher
from thespsys.core.partitions import Partition
from thespsys.core.processes import die_with_parent, process_alive
from thespsys.core.states import ProcessState
from thespsys.engine.restarts import SupervisedChildren
from thespsys.engine.status import ProcessStatus

log = logging.getLogger(__name__)

GLOBAL_NAME = "thespsys.SystemActor"
WATCHER = "watcher"  # the ChangeWatcher's key among the supervised children
OWNER_CHECK = "owner"
OWNER_CHECK_INTERVAL = timedelta(seconds=0.5)
WATCHER_CHECK = "watcher check"
WATCHER_CHECK_INTERVAL = timedelta(seconds=0.5)


class SystemActor(Supervisor, ActorTypeDispatcher):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        die_with_parent()
        self.request: StartSystemRequest | None = None
        self.statuses: dict[tuple[str, int], ProcessStatus] = {}
        self.requester: Any = None
        self.starting: set[int] = set()
        self.followers_of: tuple[tuple[str, tuple[str, ...]], ...] = ()
        self.masters: dict[tuple[str, int], Any] = {}
        self.directory_version = 0
        self.watcher: Any = None

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
        self.children = SupervisedChildren(request.settings.restarts)
        for pipeline_id in request.pipeline_ids:
            for name in followers:
                self.statuses[name, pipeline_id] = ProcessStatus(
                    name, pipeline_id, ProcessState.STARTING
                )
            self._start_pipeline(pipeline_id)
        if request.settings.wakeup_interval > 0:
            self._start_watcher()
            self.wakeupAfter(WATCHER_CHECK_INTERVAL, payload=WATCHER_CHECK)

    def _start_watcher(self) -> None:
        assert self.request is not None and self.children is not None
        request = self.request
        self.watcher = self.createActor(ChangeWatcher)
        self.children.started(WATCHER, self.watcher)
        self.send(
            self.watcher,
            WatchRequest(
                request.spec,
                request.env,
                request.pipeline_ids,
                request.settings.wakeup_interval,
            ),
        )
        if not self.starting:
            self.send(self.watcher, self._directory())

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
        assert self.request is not None and self.children is not None
        request = self.request
        pipeline = self.createActor(PipelineActor)
        self.children.started(pipeline_id, pipeline)
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
        if self.watcher is not None:
            self.send(self.watcher, directory)

    def child_exited(self, key: Any, delay: float | None) -> None:
        if key == WATCHER:
            # Only wake-ups are late meanwhile: the masters poll.
            self.watcher = None
            if delay is None:
                log.error("the change watcher kept exiting; not restarting it")
            return
        pipeline_id = key
        # Its masters die with it: no prompts to them until it is back.
        for each in [each for each in self.masters if each[1] == pipeline_id]:
            del self.masters[each]
        self.directory_version += 1
        self._publish_directory()
        state = ProcessState.FAILED if delay is None else ProcessState.RESTARTING
        for (name, each_id), status in list(self.statuses.items()):
            if each_id == pipeline_id:
                self.statuses[name, each_id] = ProcessStatus(
                    name, pipeline_id, state, status.restarts, "pipeline actor exited"
                )

    def restart_child(self, key: Any) -> None:
        if key == WATCHER:
            self._start_watcher()
        else:
            self._start_pipeline(key)

    def woken(self, payload: Any) -> None:
        if payload == OWNER_CHECK:
            self._check_owner()
        elif payload == WATCHER_CHECK and not self.stopping:
            if self.watcher is not None:
                self.send(self.watcher, WatcherCheck())
            self.wakeupAfter(WATCHER_CHECK_INTERVAL, payload=WATCHER_CHECK)

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
