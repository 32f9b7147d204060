"""The orders cycle: Orders -> Reservations -> Orders -> Payments -> Orders.

An order is created; Reservations reserves it; Orders marks it reserved;
Payments pays for the reserved order; Orders marks it paid.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4, uuid5

from eventsourcing.application import ProcessingEvent
from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.domain import Aggregate, DomainEventProtocol, event
from eventsourcing.system import ProcessApplication, System


class Order(Aggregate):
    @event("Created")
    def __init__(self, customer: str) -> None:
        self.customer = customer
        self.reservation_id: UUID | None = None
        self.payment_id: UUID | None = None

    @event("Reserved")
    def set_reserved(self, reservation_id: UUID) -> None:
        self.reservation_id = reservation_id

    @event("Paid")
    def set_paid(self, payment_id: UUID) -> None:
        self.payment_id = payment_id

    @property
    def is_reserved(self) -> bool:
        return self.reservation_id is not None

    @property
    def is_paid(self) -> bool:
        return self.payment_id is not None


class Reservation(Aggregate):
    @staticmethod
    def create_id(order_id: UUID) -> UUID:
        return uuid5(order_id, "reservation")

    @event("Created")
    def __init__(self, order_id: UUID) -> None:
        self.order_id = order_id


class Payment(Aggregate):
    @staticmethod
    def create_id(order_id: UUID) -> UUID:
        return uuid5(order_id, "payment")

    @event("Created")
    def __init__(self, order_id: UUID) -> None:
        self.order_id = order_id


class Orders(ProcessApplication[UUID]):
    def create_order(self, customer: str = "anyone") -> UUID:
        order = Order(customer)
        self.save(order)
        return order.id

    def get_order(self, order_id: UUID) -> Order:
        order = self.repository.get(order_id)
        assert isinstance(order, Order)
        return order

    @singledispatchmethod
    def policy(
        self,
        domain_event: DomainEventProtocol[Any],
        processing_event: ProcessingEvent[Any],
    ) -> None:
        """Other events are not for Orders."""

    @policy.register
    def _(
        self, domain_event: Reservation.Created, processing_event: ProcessingEvent[Any]
    ) -> None:  # type: ignore[name-defined]
        order = self.get_order(domain_event.order_id)
        order.set_reserved(domain_event.originator_id)
        processing_event.collect_events(order)

    @policy.register
    def _(
        self, domain_event: Payment.Created, processing_event: ProcessingEvent[Any]
    ) -> None:  # type: ignore[name-defined]
        order = self.get_order(domain_event.order_id)
        order.set_paid(domain_event.originator_id)
        processing_event.collect_events(order)


class Reservations(ProcessApplication[UUID]):
    @singledispatchmethod
    def policy(
        self,
        domain_event: DomainEventProtocol[Any],
        processing_event: ProcessingEvent[Any],
    ) -> None:
        """Other events are not for Reservations."""

    @policy.register
    def _(
        self, domain_event: Order.Created, processing_event: ProcessingEvent[Any]
    ) -> None:  # type: ignore[name-defined]
        reservation = Reservation(domain_event.originator_id)
        processing_event.collect_events(reservation)


class Payments(ProcessApplication[UUID]):
    @singledispatchmethod
    def policy(
        self,
        domain_event: DomainEventProtocol[Any],
        processing_event: ProcessingEvent[Any],
    ) -> None:
        """Other events are not for Payments."""

    @policy.register
    def _(
        self, domain_event: Order.Reserved, processing_event: ProcessingEvent[Any]
    ) -> None:  # type: ignore[name-defined]
        payment = Payment(domain_event.originator_id)
        processing_event.collect_events(payment)


system = System(pipes=[[Orders, Reservations, Orders, Payments, Orders]])


def new_customer() -> str:
    return f"customer-{uuid4().hex[:8]}"
