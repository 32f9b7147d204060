"""A system whose every aggregate id follows from the commands, so that two
runners given the same commands must record exactly the same events.

Accounts -> Statements -> Rewards -> Accounts is a cycle; Tallies follows
Accounts and Statements and counts every event in a few shared aggregates, so
pipelines conflict on them. Statement lines carry a running balance: a
deposit processed twice, skipped or out of order changes the events.
"""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import ProcessingEvent
from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.domain import Aggregate, DomainEventProtocol, event
from eventsourcing.system import ProcessApplication, System

from tests.runner.apps import Tallies

REWARD_EVERY = 3


def _id(*parts: object) -> UUID:
    return uuid5(NAMESPACE_URL, "/ledger/" + "/".join(map(str, parts)))


class Account(Aggregate):
    @staticmethod
    def create_id(name: str) -> UUID:
        return _id("account", name)

    @event("Opened")
    def __init__(self, name: str) -> None:
        self.name = name

    @event("Deposited")
    def deposit(self, amount: int) -> None:
        pass


class Statement(Aggregate):
    @staticmethod
    def create_id(account_id: UUID) -> UUID:
        return _id("statement", account_id)

    @event("Started")
    def __init__(self, account_id: UUID) -> None:
        self.lines = 0
        self.balance = 0

    @event("LineAdded")
    def add_line(self, amount: int, line: int, balance: int) -> None:
        self.lines = line
        self.balance = balance


class Reward(Aggregate):
    @staticmethod
    def create_id(statement_id: UUID, line: int) -> UUID:
        return _id("reward", statement_id, line)

    @event("Granted")
    def __init__(self, statement_id: UUID, line: int) -> None:
        self.line = line


class Bonus(Aggregate):
    @staticmethod
    def create_id(reward_id: UUID) -> UUID:
        return _id("bonus", reward_id)

    @event("Paid")
    def __init__(self, reward_id: UUID) -> None:
        self.reward_id = reward_id


class Accounts(ProcessApplication[UUID]):
    def open(self, name: str) -> None:
        self.save(Account(name))

    def deposit(self, name: str, amount: int) -> None:
        account = self.repository.get(Account.create_id(name))
        account.deposit(amount)
        self.save(account)

    @singledispatchmethod
    def policy(
        self,
        domain_event: DomainEventProtocol[Any],
        processing_event: ProcessingEvent[Any],
    ) -> None:
        """Only rewards are for Accounts."""

    @policy.register
    def _(
        self, domain_event: Reward.Granted, processing_event: ProcessingEvent[Any]
    ) -> None:  # type: ignore[name-defined]
        processing_event.collect_events(Bonus(domain_event.originator_id))


class Statements(ProcessApplication[UUID]):
    @singledispatchmethod
    def policy(
        self,
        domain_event: DomainEventProtocol[Any],
        processing_event: ProcessingEvent[Any],
    ) -> None:
        """Bonuses are not on statements."""

    @policy.register
    def _(
        self, domain_event: Account.Opened, processing_event: ProcessingEvent[Any]
    ) -> None:  # type: ignore[name-defined]
        processing_event.collect_events(Statement(domain_event.originator_id))

    @policy.register
    def _(
        self, domain_event: Account.Deposited, processing_event: ProcessingEvent[Any]
    ) -> None:  # type: ignore[name-defined]
        statement = self.repository.get(Statement.create_id(domain_event.originator_id))
        statement.add_line(
            domain_event.amount,
            statement.lines + 1,
            statement.balance + domain_event.amount,
        )
        processing_event.collect_events(statement)


class Rewards(ProcessApplication[UUID]):
    @singledispatchmethod
    def policy(
        self,
        domain_event: DomainEventProtocol[Any],
        processing_event: ProcessingEvent[Any],
    ) -> None:
        """Only statement lines earn rewards."""

    @policy.register
    def _(
        self, domain_event: Statement.LineAdded, processing_event: ProcessingEvent[Any]
    ) -> None:  # type: ignore[name-defined]
        if domain_event.line % REWARD_EVERY == 0:
            reward = Reward(domain_event.originator_id, domain_event.line)
            processing_event.collect_events(reward)


system = System(
    pipes=[
        [Accounts, Statements, Rewards, Accounts],
        [Accounts, Tallies],
        [Statements, Tallies],
    ]
)
