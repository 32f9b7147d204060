"""A System as picklable data, and pipeline expressions that build Systems.

Actors receive a ``SystemSpec`` (names, application topics, edges) and rebuild
the unmodified ``eventsourcing.system.System`` from it, so a System need not
be a module attribute to travel to other processes.

Pipeline expressions: eventsourcing 9 application classes have no ``|``
operator of their own (``A | B`` is a ``types.UnionType``, which drops repeated
classes and so cannot express the cycle ``A | B | A``). ``pipe(A) | B | A``
builds the expression instead; tuples of expressions are accepted too.
"""

from __future__ import annotations

import importlib
import operator
import os
import sys
import types
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from eventsourcing.application import Application
from eventsourcing.system import System
from eventsourcing.utils import get_topic, resolve_topic

from thespsys.errors import ConfigurationError


class Pipe:
    """A pipeline expression: ``pipe(Orders) | Reservations | Orders``."""

    __slots__ = ("classes",)

    def __init__(self, classes: tuple[type[Application[Any]], ...]) -> None:
        self.classes = classes

    def __or__(self, other: type[Application[Any]] | Pipe) -> Pipe:
        if isinstance(other, Pipe):
            return Pipe(self.classes + other.classes)
        return Pipe((*self.classes, _application_class(other)))

    def __repr__(self) -> str:
        return " | ".join(cls.name for cls in self.classes)


def pipe(*classes: type[Application[Any]]) -> Pipe:
    """Start a pipeline expression with one or more application classes."""
    return Pipe(tuple(_application_class(cls) for cls in classes))


def _application_class(obj: object) -> type[Application[Any]]:
    if isinstance(obj, type) and issubclass(obj, Application):
        return obj
    msg = f"not an eventsourcing application class: {obj!r}"
    raise TypeError(msg)


EXPECTED = (
    "an eventsourcing System (System(pipes=[[A, B]])), a pipeline expression "
    "(pipe(A) | B) or a tuple of them"
)


def as_system(definition: System | Pipe | Iterable[Pipe]) -> System:
    """Accept a System, a pipeline expression, or a tuple of expressions."""
    if isinstance(definition, System):
        return definition
    if isinstance(definition, type):
        raise TypeError(_class_given(definition))
    if isinstance(definition, types.UnionType):
        msg = (
            "'A | B' on plain classes is a typing union, which drops repeated "
            "classes (cycles); write pipe(A) | B | A instead"
        )
        raise TypeError(msg)
    if isinstance(definition, Pipe):
        return System(pipes=[definition.classes])
    if isinstance(definition, str | bytes) or not isinstance(definition, Iterable):
        msg = f"expected {EXPECTED}; got {_shown(definition)}"
        raise TypeError(msg)
    pipes = list(definition)
    for each in pipes:
        if not isinstance(each, Pipe):
            msg = (
                f"expected {EXPECTED}; got {_shown(definition)}, in which "
                f"{_shown(each)} is not a pipeline expression (use pipe(A) | B)"
            )
            raise TypeError(msg)
    if not pipes:
        msg = f"expected {EXPECTED}; got an empty {type(definition).__name__}"
        raise TypeError(msg)
    return System(pipes=[each.classes for each in pipes])


def _class_given(cls: type) -> str:
    if issubclass(cls, System):
        return (
            f"expected {EXPECTED}; got the class System itself: construct one, "
            "System(pipes=[[A, B]])"
        )
    if issubclass(cls, Application):
        return (
            f"expected {EXPECTED}; got the application class {cls.__name__}: "
            f"a system of it alone is pipe({cls.__name__}), or "
            f"System(pipes=[[{cls.__name__}]])"
        )
    return f"expected {EXPECTED}; got the class {cls.__qualname__}"


def _shown(value: object, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True, slots=True)
class SystemSpec:
    """What actors need to rebuild a System: topics and edges."""

    nodes: tuple[tuple[str, str], ...]
    edges: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, system: System) -> SystemSpec:
        return cls(
            nodes=tuple(system.nodes.items()),
            edges=tuple(system.edges),
        )

    def to_system(self) -> System:
        classes = {name: resolve_topic(topic) for name, topic in self.nodes}
        pipes: list[list[type[Application[Any]]]] = [
            [classes[leader], classes[follower]] for leader, follower in self.edges
        ]
        linked = {name for edge in self.edges for name in edge}
        pipes.extend([classes[name]] for name in classes if name not in linked)
        return System(pipes=pipes)


def system_topic_check(system: System) -> None:
    """Fail early, in the caller's process, if a class cannot travel by topic."""
    for name, topic in system.nodes.items():
        try:
            resolved = resolve_topic(topic)
        except Exception as error:
            msg = f"application {name!r} cannot be found by its topic {topic!r}"
            raise TypeError(msg) from error
        if get_topic(resolved) != topic:
            msg = f"application {name!r}: topic {topic!r} is ambiguous"
            raise TypeError(msg)


def load_system(topic: str, setting: str = "system") -> System:
    """The system at ``topic`` (``package.module:attribute``): a System, a
    pipeline expression or a tuple of them. Modules are looked for in the
    current directory too, as ``python -m`` does."""
    module_name, _, attribute = topic.partition(":")
    if not module_name or not attribute:
        msg = f"{topic!r} is not package.module:attribute"
        raise ConfigurationError(setting, msg)
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except Exception as error:
        msg = f"cannot import {module_name!r}: {type(error).__name__}: {error}"
        raise ConfigurationError(setting, msg) from None
    try:
        definition = operator.attrgetter(attribute)(module)
    except AttributeError:
        msg = f"{module_name!r} has no attribute {attribute!r}"
        raise ConfigurationError(setting, msg) from None
    try:
        return as_system(definition)
    except TypeError as error:
        msg = f"{topic!r} is not a System or pipeline expression: {error}"
        raise ConfigurationError(setting, msg) from None
