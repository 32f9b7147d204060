"""ThespianRunner: an eventsourcing System run by a Thespian actor system.

The user's process holds ordinary application objects on the shared database
(``get()``); commands on leaders there prompt the actors. The actor system
(SystemActor -> PipelineActor per pipeline id -> ProcessMaster/ProcessSlave per
follower application) does all following and processing.

As eventsourcing's runners do, the constructor constructs the applications of
this process (an application whose constructor raises makes it raise that
error), so events can be recorded before ``start()``; the followers catch up
when the actors start.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from eventsourcing.application import Application
from eventsourcing.persistence import PersistenceError
from eventsourcing.system import (
    EventProcessingError,
    Follower,
    Leader,
    Runner,
    RunnerAlreadyStartedError,
    System,
)

from thespsys.actors.messages import (
    StartSystemFailure,
    StartSystemRequest,
    StartSystemResponse,
    StatusRequest,
    StatusResponse,
    StopRequest,
    StopResponse,
)
from thespsys.actors.prompts import PromptForwarder
from thespsys.actors.system import GLOBAL_NAME, SystemActor
from thespsys.actors.thespian_adapter import (
    ActorSystemHandle,
    listen_on,
    port_accepts_connections,
)
from thespsys.applications import application_of, construct_applications
from thespsys.core.capabilities import (
    DeadLetterStore,
    PartitioningStore,
    require_dead_letters,
)
from thespsys.core.follower_hooks import refuse_unused_hooks
from thespsys.core.partitionings import Partitioning
from thespsys.core.partitions import Partition, parse_tracking_name
from thespsys.core.processes import end_process_group
from thespsys.core.secret import resolve_secret
from thespsys.core.settings import RunnerSettings
from thespsys.core.supervision import ErrorHandling, ErrorPolicy
from thespsys.core.system_spec import Pipe, SystemSpec, as_system, system_topic_check
from thespsys.engine.dead_letter_queue import DeadLetterQueue
from thespsys.engine.lags import Lag, measure_lags, wait_until_caught_up
from thespsys.engine.rescaling import prepare_partitionings
from thespsys.engine.status import ApplicationStatus, ErrorFlag, combine
from thespsys.errors import (
    ActorSystemError,
    ApplicationFailedError,
    ConfigurationError,
    RunnerNotStartedError,
    RunnerStartError,
    ThespsysError,
)

log = logging.getLogger(__name__)

# How long the actor processes may take to end after a stop, before they are
# killed: those of a running system finish what they are recording; those left
# after the admin was shut down from outside, or killed, are only exiting.
STOP_GRACE = 10.0
ORPHAN_GRACE = 2.0

TApplication = TypeVar("TApplication", bound=Application[Any])


class ThespianRunner(Runner[Any]):
    """Runs ``system`` on Thespian, one pipeline per id in ``pipeline_ids``.

    A runner either owns its actor system (starts it, and ``stop()`` ends it,
    as does the death of this process) or joins one that runs already at
    ``settings.admin_port`` (the same system and pipelines, or it fails to
    start) to use it, and ``stop()`` leaves it running. ``join``: True, only
    join (fail if nothing runs there); False, only own (fail if the port is
    taken); None, join if something listens on the port, else own.

    The applications of this process are constructed here, as eventsourcing's
    runners do: ``get()`` works before ``start()``, and an application whose
    constructor raises makes this constructor raise that same error.
    """

    def __init__(
        self,
        system: System | Pipe | Iterable[Pipe],
        env: Mapping[str, str] | None = None,
        *,
        pipeline_ids: Iterable[int] = (0,),
        settings: RunnerSettings | None = None,
        join: bool | None = None,
    ) -> None:
        super().__init__(as_system(system), dict(env) if env is not None else None)
        self.pipeline_ids = tuple(pipeline_ids)
        if not self.pipeline_ids or len(set(self.pipeline_ids)) != len(
            self.pipeline_ids
        ):
            msg = f"pipeline_ids must be distinct and not empty: {self.pipeline_ids}"
            raise ValueError(msg)
        self.settings = settings or RunnerSettings()
        self.join = join
        if join and self.settings.admin_port is None:
            raise ConfigurationError("admin_port", "joining needs the admin port")
        system_topic_check(self.system)
        refuse_unused_hooks(self.system)
        self._partitionings: dict[tuple[str, str], Partitioning | None] = {}
        self.pgid: int | None = None
        # The actor processes the last stop() had to kill: they outlived the
        # actor system's shutdown. Empty after a clean stop.
        self.killed_on_stop: tuple[int, ...] = ()
        self.owns_actor_system = True
        self._actor_system: ActorSystemHandle | None = None
        self._system_actor: Any = None
        self._prompts: PromptForwarder | None = None
        # Thespian's external endpoint is not thread-safe; the prompt thread
        # has one of its own, every other ask goes through this lock.
        self._ask_lock = threading.Lock()
        self.apps: dict[str, Application[Any]] = construct_applications(
            self.system, self.env
        )

    @property
    def admin_port(self) -> int | None:
        return self._actor_system.port if self._actor_system else None

    def start(self) -> None:
        if self.is_started:
            msg = (
                "this runner is started already; stop() it before starting it "
                "again (or construct another runner)"
            )
            raise RunnerAlreadyStartedError(msg)
        super().start()
        try:
            if not self.apps:  # stopped before: construct them afresh
                self.apps = construct_applications(self.system, self.env)
            self._check_error_settings()
            self.owns_actor_system = self._must_own()
            if self.owns_actor_system:
                # A joined system runs already, with these pipelines or none.
                self._prepare_partitionings()
            self._start_actors()
        except BaseException:
            self._stop()
            raise

    def _must_own(self) -> bool:
        port = self.settings.admin_port
        listening = port is not None and port_accepts_connections(port)
        if self.join and not listening:
            raise RunnerStartError(f"no actor system runs at admin port {port}")
        if self.join is False and listening:
            raise RunnerStartError(
                f"port {port} is in use by another program (or actor system)"
            )
        return not listening

    def actor_system_alive(self) -> bool:
        """Does the actor system this runner started or joined still run?
        (Known for multiprocTCPBase, by its admin port.)"""
        if self.settings.base != "multiprocTCPBase":
            return self._actor_system is not None
        port = self.admin_port
        return port is not None and port_accepts_connections(port)

    def _check_alive(self) -> None:
        if not self.actor_system_alive():
            raise ActorSystemError(
                f"the actor system at admin port {self.admin_port} is gone "
                "(shut down from outside, or killed)"
            )

    def _check_error_settings(self) -> None:
        """Bad settings fail here, in the caller's process, not in the actors."""
        for name in self.system.followers:
            handling = ErrorHandling.from_env(name, {**os.environ, **(self.env or {})})
            if handling.policy is ErrorPolicy.PARK:
                require_dead_letters(
                    self.apps[name].recorder, f"{name}: the park error policy"
                )

    def _prepare_partitionings(self) -> None:
        """Record the pipeline count in force; a change is recorded so that
        it is exact (``thespsys.engine.rescaling``), or refused."""
        changes = prepare_partitionings(
            {name: self.apps[name].recorder for name in self.system.followers},
            self.system.follows,
            len(self.pipeline_ids),
        )
        for change in changes:
            if change.is_rescale:
                log.warning("rescaled: %s", change)
            else:
                log.debug("partitioning: %s", change)

    def _start_actors(self) -> None:
        settings = self.settings
        listen_on(all_interfaces=settings.bind_all_interfaces)
        secret = (
            resolve_secret(
                os.environ, settings.secret_file, create=self.owns_actor_system
            )
            if settings.authenticate
            else None
        )
        if self.owns_actor_system:
            self._actor_system = ActorSystemHandle.start(
                settings.base, settings.admin_port, secret
            )
        else:
            assert settings.admin_port is not None
            self._actor_system = ActorSystemHandle.join(
                settings.base, settings.admin_port, secret
            )
        system_actor = self._actor_system.create_actor(SystemActor, GLOBAL_NAME)
        self._system_actor = system_actor
        request = StartSystemRequest(
            spec=SystemSpec.of(self.system),
            env=tuple(sorted((self.env or {}).items())),
            pipeline_ids=self.pipeline_ids,
            settings=settings,
            owner_pid=os.getpid() if self.owns_actor_system else None,
        )
        try:
            reply = self._actor_system.ask(
                system_actor, request, settings.start_timeout
            )
        except ThespsysError as error:
            raise RunnerStartError(
                f"the actor system did not start: {error}"
            ) from error
        if isinstance(reply, StartSystemFailure):
            raise RunnerStartError(reply.reason)
        if not isinstance(reply, StartSystemResponse):
            raise RunnerStartError(f"unexpected answer to start: {reply!r}")
        if self.owns_actor_system:
            self.pgid = reply.pgid
            # Thespian's processes outlive the script that started them: a
            # script that ends without stop() must not leave them behind.
            atexit.register(self._stop)
        self._prompts = PromptForwarder(self._actor_system, system_actor)
        self._prompts.start()
        for name in self.system.leaders:
            leader = self.apps[name]
            assert isinstance(leader, Leader)
            leader.lead(self._prompts)

    def get(self, cls: type[TApplication]) -> TApplication:
        """The application of class ``cls`` in this process: before ``start()``
        too, as with eventsourcing's runners (its events are processed once
        the runner starts)."""
        if not self.apps:
            msg = "the runner was stopped and its applications closed: start() it"
            raise RunnerNotStartedError(msg)
        return application_of(self.apps, cls)

    def lags(self) -> list[Lag]:
        """Every (follower, pipeline, leader) with its position and the head."""
        return measure_lags(self.system, self.apps, self.pipeline_ids)

    def wait(self, timeout: float = 10.0) -> None:
        """Return once every follower has caught up with its leaders, or raise
        ``CatchUpTimeoutError`` naming who is behind and by how much, or, as
        soon as an application has failed (it would never catch up),
        ``EventProcessingError`` as ``watch_for_errors()`` does."""
        if not self.is_started:
            raise RunnerNotStartedError("start the runner before wait()")
        self._check_alive()
        wait_until_caught_up(
            self.system,
            self.apps,
            self.pipeline_ids,
            timeout,
            check=self._raise_failure,
        )

    def status(self) -> list[ApplicationStatus]:
        """State, restarts, last error, positions, lag and parked count of every
        follower application in every pipeline."""
        if not self.is_started or self._actor_system is None:
            raise RunnerNotStartedError("start the runner before status()")
        self._check_alive()
        with self._ask_lock:
            reply = self._actor_system.ask(
                self._system_actor,
                StatusRequest(),
                self.settings.ask_timeout,
                StatusResponse,
            )
        assert isinstance(reply, StatusResponse)
        try:
            lags, parked = self.lags(), self._parked_counts()
            rescaling = self._rescaling(lags)
        except PersistenceError as error:  # the actors' side is still worth having
            log.warning("status without positions: %s", error)
            lags, parked, rescaling = [], {}, set()
        partitions = {
            pipeline_id: Partition(index, len(self.pipeline_ids))
            for index, pipeline_id in enumerate(self.pipeline_ids)
        }
        return combine(reply.processes, lags, parked, partitions, rescaling)

    def _rescaling(self, lags: Iterable[Lag]) -> set[tuple[str, int]]:
        """(follower, pipeline id) still passing what an earlier pipeline
        count processed. Partitionings change only at start: read once."""
        rescaling = set()
        for lag in lags:
            key = (lag.follower, lag.leader)
            if key not in self._partitionings:
                recorder = self.apps[lag.follower].recorder
                self._partitionings[key] = (
                    recorder.partitioning(lag.leader)
                    if isinstance(recorder, PartitioningStore)
                    else None
                )
            partitioning = self._partitionings[key]
            if partitioning and partitioning.is_catching_up(
                lag.partition, lag.position
            ):
                rescaling.add((lag.follower, lag.pipeline_id))
        return rescaling

    def _parked_counts(self) -> dict[tuple[str, int], int]:
        counts: dict[tuple[str, int], int] = {}
        for name in self.system.followers:
            recorder = self.apps[name].recorder
            if not isinstance(recorder, DeadLetterStore):
                continue
            for tracking, count in recorder.dead_letters.parked_counts().items():
                key = (name, self._pipeline_of(tracking))
                counts[key] = counts.get(key, 0) + count
        return counts

    def _pipeline_of(self, tracking: str) -> int:
        return self.pipeline_ids[parse_tracking_name(tracking)[1].index]

    def dead_letters(self, cls: type[Application[Any]]) -> DeadLetterQueue:
        """The parked notifications of a follower application: list, retry, skip."""
        app = self.get(cls)
        assert isinstance(app, Follower)
        return DeadLetterQueue(app, self.system.follows[app.name], self.env or {})

    @property
    def has_errored(self) -> ErrorFlag:
        """As ``MultiThreadedRunner.has_errored``: ``is_set()``, ``wait(timeout)``."""
        return ErrorFlag(self.status)

    def watch_for_errors(self, timeout: float | None = None) -> bool:
        """Raise ``EventProcessingError`` (cause: ``ApplicationFailedError``)
        as soon as an application has failed; False if none did in time.
        Without a timeout, watch until one does, as eventsourcing's runners do."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            self._raise_failure()
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(0.1)

    def _raise_failure(self) -> None:
        """``EventProcessingError`` whose message is the original exception's,
        as eventsourcing's runners make it; where and why it happened, with the
        traceback, is in its cause (``ApplicationFailedError``, with ``.status``)."""
        for status in self.status():
            if status.is_failed:
                cause = ApplicationFailedError(status)
                raise EventProcessingError(
                    status.last_error_message or str(cause)
                ) from cause

    def stop(self) -> None:
        failure: EventProcessingError | None = None
        if self._actor_system is not None and self._system_actor is not None:
            try:
                self._raise_failure()
            except EventProcessingError as error:
                failure = error
            except ThespsysError as error:
                log.warning("could not read the status before stopping: %s", error)
        self._stop()
        if failure is not None:
            raise failure

    def _stop(self) -> None:
        atexit.unregister(self._stop)
        if self._prompts is not None:
            self._prompts.stop()
            self._prompts = None
        if self._actor_system is not None and not self.owns_actor_system:
            self._actor_system = self._system_actor = None  # leave it running
        if self._actor_system is not None:
            # Once the admin is gone, nobody tells what is left of the system to
            # stop: it is waited for briefly, then killed.
            alive = self.actor_system_alive()
            try:
                if alive:
                    self._stop_actors()
                self._actor_system.shutdown()
            finally:
                self._actor_system = self._system_actor = None
                if self.pgid is not None:
                    grace = STOP_GRACE if alive else ORPHAN_GRACE
                    self.killed_on_stop = tuple(end_process_group(self.pgid, grace))
        for app in self.apps.values():
            app.close()
        self.apps.clear()
        self._partitionings.clear()
        self.is_started = False

    close = stop

    def _stop_actors(self) -> None:
        assert self._actor_system is not None
        if self._system_actor is None:
            return
        try:
            with self._ask_lock:
                self._actor_system.ask(
                    self._system_actor,
                    StopRequest(),
                    self.settings.ask_timeout,
                    StopResponse,
                )
        except ThespsysError as error:
            log.warning("actors did not confirm the stop (%s); shutting down", error)
        self._system_actor = None
