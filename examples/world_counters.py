"""The World / Counters system of eventsourcing's "system of applications" page."""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    ProcessingEvent,
)
from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.domain import Aggregate, AggregateCreated, AggregateEvent
from eventsourcing.system import ProcessApplication, System


class World(Aggregate):
    def __init__(self) -> None:
        self.history: list[str] = []

    @classmethod
    def create(cls) -> World:
        return cls._create(event_class=cls.Created, id=uuid4())

    class Created(AggregateCreated):
        pass

    def make_it_so(self, what: str) -> None:
        self.trigger_event(self.SomethingHappened, what=what)

    class SomethingHappened(AggregateEvent):
        what: str

        def apply(self, world: World) -> None:  # type: ignore[override]
            world.history.append(self.what)


class WorldsApplication(Application[UUID]):
    def create_world(self) -> UUID:
        world = World.create()
        self.save(world)
        return world.id

    def make_it_so(self, world_id: UUID, what: str) -> None:
        world = self.repository.get(world_id)
        world.make_it_so(what)
        self.save(world)

    def get_world_history(self, world_id: UUID) -> list[str]:
        world = self.repository.get(world_id)
        return list(world.history)


class Counter(Aggregate):
    def __init__(self) -> None:
        self.count = 0

    @classmethod
    def create_id(cls, name: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"/counters/{name}")

    @classmethod
    def create(cls, name: str) -> Counter:
        return cls._create(event_class=cls.Created, id=cls.create_id(name))

    class Created(AggregateCreated):
        pass

    def increment(self) -> None:
        self.trigger_event(self.Incremented)

    class Incremented(AggregateEvent):
        def apply(self, counter: Counter) -> None:  # type: ignore[override]
            counter.count += 1


class Counters(ProcessApplication[UUID]):
    @singledispatchmethod
    def policy(self, domain_event: Any, processing_event: ProcessingEvent[Any]) -> None:
        """Default policy"""

    @policy.register(World.SomethingHappened)
    def _(self, domain_event: Any, processing_event: ProcessingEvent[Any]) -> None:
        what = domain_event.what
        counter_id = Counter.create_id(what)
        try:
            counter = self.repository.get(counter_id)
        except AggregateNotFoundError:
            counter = Counter.create(what)
        counter.increment()
        processing_event.collect_events(counter)

    def get_count(self, what: str) -> int:
        counter_id = Counter.create_id(what)
        try:
            counter = self.repository.get(counter_id)
        except AggregateNotFoundError:
            return 0
        return counter.count


system = System(pipes=[[WorldsApplication, Counters]])


def main() -> None:
    """The page's example, run by a ThespianRunner on a fresh SQLite file."""
    import tempfile

    from thespsys import ThespianRunner

    with tempfile.TemporaryDirectory() as tmp:
        env = {
            "PERSISTENCE_MODULE": "thespsys.persistence",
            "DATABASE_URL": f"sqlite:///{tmp}/worlds.db",
        }
        with ThespianRunner(system, env=env) as runner:
            worlds = runner.get(WorldsApplication)
            counters = runner.get(Counters)
            world_ids = [worlds.create_world() for _ in range(3)]
            for world_id in world_ids:
                worlds.make_it_so(world_id, "dinosaurs")
            worlds.make_it_so(world_ids[0], "trucks")
            worlds.make_it_so(world_ids[1], "trucks")
            worlds.make_it_so(world_ids[0], "internet")
            runner.wait(timeout=30)
            counts = {
                what: counters.get_count(what)
                for what in ("dinosaurs", "trucks", "internet")
            }
    assert counts == {"dinosaurs": 3, "trucks": 2, "internet": 1}, counts
    print(counts)


if __name__ == "__main__":
    main()
