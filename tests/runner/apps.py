"""Small applications for topology tests."""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    ProcessingEvent,
)
from eventsourcing.domain import Aggregate, DomainEventProtocol, event
from eventsourcing.system import ProcessApplication
from eventsourcing.utils import get_topic


class Note(Aggregate):
    @event("Written")
    def __init__(self, text: str) -> None:
        self.text = text

    @event("Amended")
    def amend(self, text: str) -> None:
        self.text = text


class Tally(Aggregate):
    """Counts what a follower was given, per leader."""

    @staticmethod
    def create_id(name: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"/tally/{name}")

    @event("Started")
    def __init__(self, name: str) -> None:
        self.count = 0

    @event("Counted")
    def count_one(self) -> None:
        self.count += 1


class Notes(Application[UUID]):
    def write(self, text: str) -> UUID:
        note = Note(text)
        self.save(note)
        return note.id

    def amend(self, note_id: UUID, text: str) -> None:
        note = self.repository.get(note_id)
        note.amend(text)
        self.save(note)


class OtherNotes(Notes):
    pass


class Tallies(ProcessApplication[UUID]):
    """Counts every event it is given, under the name of its leader."""

    def policy(
        self,
        domain_event: DomainEventProtocol[Any],
        processing_event: ProcessingEvent[Any],
    ) -> None:
        name = type(domain_event).__qualname__
        try:
            tally = self.repository.get(Tally.create_id(name))
        except AggregateNotFoundError:
            tally = Tally(name)
        tally.count_one()
        processing_event.collect_events(tally)

    def count(self, name: str) -> int:
        try:
            return int(self.repository.get(Tally.create_id(name)).count)
        except AggregateNotFoundError:
            return 0


class AmendmentTallies(Tallies):
    topics = (get_topic(Note.Amended),)
