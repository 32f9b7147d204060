"""Applications for the scenarios of eventsourcing's own runner tests.

``BankAccounts`` is eventsourcing's test application; the followers here are
written after the ones its runner tests use. They live in a module (not in
the tests) because the actor processes find them by topic.
"""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Iterable, Iterator, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.application import ProcessingEvent
from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.domain import Aggregate, AggregateEvent, DomainEventProtocol, event
from eventsourcing.persistence import JSONTranscoder, Notification, Tracking
from eventsourcing.system import ProcessApplication, ProcessingJob
from eventsourcing.tests.application import BankAccounts, EmailAddressAsStr
from eventsourcing.tests.domain import BankAccount
from eventsourcing.utils import get_topic

__all__ = ["BankAccounts"]


class EmailNotification(Aggregate):
    @event("Created")
    def __init__(self, to: Any, subject: str, message: str) -> None:
        self.to = to
        self.subject = subject
        self.message = message


class EmailProcess(ProcessApplication[UUID]):
    """An email for every account opened."""

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(EmailAddressAsStr())

    @singledispatchmethod
    def policy(
        self,
        domain_event: DomainEventProtocol[Any],
        processing_event: ProcessingEvent[Any],
    ) -> None:
        """Other events need nothing."""

    @policy.register
    def _(
        self, domain_event: BankAccount.Opened, processing_event: ProcessingEvent[Any]
    ) -> None:
        processing_event.collect_events(
            EmailNotification(
                to=domain_event.email_address,
                subject="Your New Account",
                message=f"Dear {domain_event.full_name}, ...",
            )
        )


class EmailProcess2(EmailProcess):
    pass


class AggregateEventEmailProcess(EmailProcess):
    """Follows only the topic of ``AggregateEvent`` itself, which no stored
    event has."""

    topics = (get_topic(AggregateEvent),)


class OpenedOnlyEmailProcess(EmailProcess):
    """Follows only ``BankAccount.Opened``, by eventsourcing's older name."""

    follow_topics = (get_topic(BankAccount.Opened),)


class DeliberateError(Exception):
    pass


class BrokenInitialisation(EmailProcess):
    def __init__(self, *_: Any, **__: Any) -> None:
        msg = "Just testing error handling when initialisation is broken"
        raise DeliberateError(msg)


class BrokenProcessing(EmailProcess):
    def process_event(
        self, domain_event: DomainEventProtocol[Any], tracking: Tracking
    ) -> None:
        msg = "Just testing error handling when processing is broken"
        raise DeliberateError(msg)


# Followers overriding the hooks a ThespianRunner does not call.


class CustomPulling(EmailProcess):
    def pull_notifications(
        self,
        leader_name: str,
        start: int | None,
        stop: int | None = None,
        *,
        inclusive_of_start: bool = True,
    ) -> Iterator[Sequence[Notification]]:
        return super().pull_notifications(
            leader_name, start, stop, inclusive_of_start=inclusive_of_start
        )


class CustomFiltering(EmailProcess):
    def filter_received_notifications(
        self, notifications: Sequence[Notification]
    ) -> Sequence[Notification]:
        return [n for n in notifications if "Opened" in n.topic]


class CustomConverting(EmailProcess):
    def convert_notifications(
        self, leader_name: str, notifications: Iterable[Notification]
    ) -> list[ProcessingJob[UUID]]:
        return super().convert_notifications(leader_name, notifications)


class CustomPullAndProcess(EmailProcess):
    def pull_and_process(
        self, leader_name: str, start: int | None = None, stop: int | None = None
    ) -> None:
        super().pull_and_process(leader_name, start, stop)


# A processing loop: Commands -> Results -> Commands.


class Command(Aggregate):
    @event("Created")
    def __init__(self, text: str) -> None:
        self.text = text
        self.output: str | None = None
        self.error: str | None = None

    @event("Done")
    def done(self, output: str, error: str) -> None:
        self.output = output
        self.error = error


class Result(Aggregate):
    @event("Created")
    def __init__(self, command_id: UUID, output: str, error: str) -> None:
        self.command_id = command_id
        self.output = output
        self.error = error


class Commands(ProcessApplication[UUID]):
    def create_command(self, text: str) -> UUID:
        command = Command(text=text)
        self.save(command)
        return command.id

    def get_result(self, command_id: UUID) -> tuple[str | None, str | None]:
        command = self.repository.get(command_id)
        assert isinstance(command, Command)
        return command.output, command.error

    @singledispatchmethod
    def policy(
        self,
        domain_event: DomainEventProtocol[Any],
        processing_event: ProcessingEvent[Any],
    ) -> None:
        """Other events need nothing."""

    @policy.register
    def _(
        self, domain_event: Result.Created, processing_event: ProcessingEvent[Any]
    ) -> None:
        command = self.repository.get(domain_event.command_id)
        assert isinstance(command, Command)
        command.done(output=domain_event.output, error=domain_event.error)
        processing_event.collect_events(command)


class Results(ProcessApplication[UUID]):
    @singledispatchmethod
    def policy(
        self,
        domain_event: DomainEventProtocol[Any],
        processing_event: ProcessingEvent[Any],
    ) -> None:
        """Other events need nothing."""

    @policy.register
    def _(
        self, domain_event: Command.Created, processing_event: ProcessingEvent[Any]
    ) -> None:
        try:
            output = subprocess.check_output(shlex.split(domain_event.text))
            error = ""
        except Exception as caught:  # the error is the result
            output, error = b"", str(caught)
        processing_event.collect_events(
            Result(
                command_id=domain_event.originator_id,
                output=output.decode("utf8"),
                error=error,
            )
        )
