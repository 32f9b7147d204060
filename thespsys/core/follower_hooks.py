"""Which of eventsourcing's ``Follower`` hooks a ThespianRunner honours.

Slaves read their partition's notifications themselves (by slice, under their
own tracking names) and hand each event to ``process_event``, so
``pull_and_process`` and the hooks it calls (``pull_notifications``,
``filter_received_notifications``, ``convert_notifications``) never run. A
class that overrides one of them expects it to run: it is refused with a
message naming the method, rather than ignored. ``topics`` (and
``follow_topics``, which eventsourcing copies into ``topics``) are honoured:
the notification query filters by them. ``process_event`` and ``policy`` run
as with eventsourcing's runners.
"""

from __future__ import annotations

from eventsourcing.system import Follower, System
from eventsourcing.utils import get_topic

from thespsys.errors import ConfigurationError

UNUSED_HOOKS = (
    "pull_and_process",
    "pull_notifications",
    "filter_received_notifications",
    "convert_notifications",
)


def overridden_hooks(cls: type) -> list[str]:
    """The hooks of ``UNUSED_HOOKS`` that ``cls`` overrides."""
    if not issubclass(cls, Follower):
        return []
    return [
        name
        for name in UNUSED_HOOKS
        if getattr(cls, name) is not getattr(Follower, name)
    ]


def refuse_unused_hooks(system: System) -> None:
    """Raise ``ConfigurationError`` naming the first follower class that
    overrides a hook a ThespianRunner would not call."""
    for name in system.followers:
        cls = system.get_app_cls(name)
        hooks = overridden_hooks(cls)
        if hooks:
            methods = ", ".join(f"{hook}()" for hook in hooks)
            msg = (
                f"{cls.__name__} ({get_topic(cls)}) overrides {methods} of "
                "eventsourcing's Follower, which a ThespianRunner does not call: "
                "its slaves read each pipeline's notifications themselves and "
                "pass each event to process_event(). Filter by topic with the "
                "class attribute 'topics', put the logic in policy() or "
                "process_event(), or run this class with eventsourcing's runners"
            )
            raise ConfigurationError("system", msg)
