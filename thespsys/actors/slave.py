"""ProcessSlave: does the blocking pull-and-process for its master."""

from __future__ import annotations

import logging
import traceback
from typing import Any

from thespian.actors import ActorTypeDispatcher

from thespsys.messages import RunFailure, RunRequest, RunResponse, StartProcessRequest
from thespsys.partitions import Partition
from thespsys.processing import PartitionProcessor

log = logging.getLogger(__name__)


class ProcessSlave(ActorTypeDispatcher):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request: StartProcessRequest | None = None
        self.processor: PartitionProcessor | None = None

    def receiveMsg_StartProcessRequest(self, request: StartProcessRequest, sender: Any) -> None:
        self.request = request

    def receiveMsg_RunRequest(self, _: RunRequest, sender: Any) -> None:
        assert self.request is not None
        try:
            if self.processor is None:
                self.processor = self._construct(self.request)
            outcome = self.processor.run(self.request.settings.run_budget)
        except Exception as error:
            self.send(sender, RunFailure(f"{type(error).__name__}: {error}", traceback.format_exc()))
        else:
            self.send(sender, RunResponse(outcome.processed, outcome.recorded, outcome.more))

    @staticmethod
    def _construct(request: StartProcessRequest) -> PartitionProcessor:
        return PartitionProcessor(
            system=request.spec.to_system(),
            name=request.application_name,
            env=dict(request.env),
            partition=Partition(request.partition_index, request.partition_count),
            batch_size=request.settings.batch_size,
        )

    def receiveMsg_ActorExitRequest(self, message: Any, sender: Any) -> None:
        if self.processor is not None:
            self.processor.close()

    def receiveUnrecognizedMessage(self, message: Any, sender: Any) -> None:
        log.warning("ProcessSlave dropped unexpected %r from %s", message, sender)
