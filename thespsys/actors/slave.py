"""ProcessSlave: does the blocking pull-and-process for its master."""

from __future__ import annotations

import logging
import os
import traceback
from typing import Any

from thespian.actors import ActorExitRequest, ActorTypeDispatcher

from thespsys.actors.messages import (
    RunFailure,
    RunRequest,
    RunResponse,
    SlaveStarted,
    StartProcessRequest,
)
from thespsys.actors.stopping import DropsUnknownMessages
from thespsys.core.processes import die_with_parent
from thespsys.core.states import FailureKind
from thespsys.engine.processor import (
    BatchSettings,
    PartitionProcessor,
    is_database_error,
)
from thespsys.errors import NotificationError
from thespsys.persistence.settings import without_notify

log = logging.getLogger(__name__)


class ProcessSlave(DropsUnknownMessages, ActorTypeDispatcher):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        die_with_parent()
        self.request: StartProcessRequest | None = None
        self.processor: PartitionProcessor | None = None

    def receiveMsg_StartProcessRequest(
        self, request: StartProcessRequest, sender: Any
    ) -> None:
        self.request = request
        self.send(sender, SlaveStarted(os.getpid()))

    def receiveMsg_RunRequest(self, run: RunRequest, sender: Any) -> None:
        assert self.request is not None
        try:
            if self.processor is None:
                self.processor = self._construct(self.request)
        except Exception as error:
            kind = (
                FailureKind.DATABASE if is_database_error(error) else FailureKind.START
            )
            self.send(
                sender,
                RunFailure(
                    kind,
                    _describe(error),
                    traceback.format_exc(),
                    message=str(error),
                ),
            )
            if kind == FailureKind.START:
                self.send(self.myAddress, ActorExitRequest())
            return
        try:
            if run.park is not None:
                self.processor.park(run.park)
            outcome = self.processor.run(self.request.config.settings.run_budget)
        except NotificationError as error:
            self.send(
                sender,
                RunFailure(
                    FailureKind.NOTIFICATION,
                    str(error),
                    traceback.format_exc(),
                    error.tracking_name,
                    error.notification_id,
                    message=str(error.__cause__ or error),
                ),
            )
        except Exception as error:
            self.send(
                sender,
                RunFailure(
                    FailureKind.DATABASE,
                    _describe(error),
                    traceback.format_exc(),
                    message=str(error),
                ),
            )
        else:
            self.send(
                sender,
                RunResponse(outcome.processed, outcome.recorded_slices, outcome.more),
            )

    @staticmethod
    def _construct(request: StartProcessRequest) -> PartitionProcessor:
        settings = request.config.settings
        return PartitionProcessor(
            system=request.config.spec.to_system(),
            name=request.application_name,
            # The master prompts the followers after a run: no NOTIFY.
            env=without_notify(request.application_name, dict(request.config.env)),
            partition=request.config.partition,
            batch=BatchSettings(
                size=settings.batch_size,
                max_delay=settings.batch_max_delay,
                read_size=settings.read_size,
            ),
        )

    def receiveMsg_ActorExitRequest(self, message: Any, sender: Any) -> None:
        if self.processor is not None:
            self.processor.close()


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"
