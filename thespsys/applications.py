"""The applications of a runner's own process: constructed as eventsourcing's
runners construct them, and looked up by class as their ``get()`` does, with
errors that say what was asked and what the system holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from eventsourcing.application import Application
from eventsourcing.system import System

from thespsys.core.capabilities import require_shared
from thespsys.errors import ApplicationNotInSystemError
from thespsys.persistence.settings import without_notify

TApplication = TypeVar("TApplication", bound=Application[Any])


def construct_applications(
    system: System, env: Mapping[str, str] | None
) -> dict[str, Application[Any]]:
    """Followers, leaders, singles, in eventsourcing's order; this also creates
    any missing tables. A constructor's error is raised as it is, after the
    applications constructed before it are closed. Leaders and followers whose
    events would stay in this process's memory are refused: the actor
    processes could never read them."""
    # Saves on leaders and followers here are prompted by the runner's prompt
    # forwarder: they need not NOTIFY the change watcher.
    quiet = {name: without_notify(name, env or {}) for name in system.leaders}
    quiet.update({name: without_notify(name, env or {}) for name in system.followers})
    constructors = [
        *((name, system.follower_cls(name)) for name in system.followers),
        *((name, system.leader_cls(name)) for name in system.leaders_only),
        *((name, system.get_app_cls(name)) for name in system.singles),
    ]
    apps: dict[str, Application[Any]] = {}
    try:
        for name, cls in constructors:
            apps[name] = cls(env=quiet.get(name, env))
        for name in sorted({*system.leaders, *system.followers}):
            require_shared(apps[name].recorder, name)
    except BaseException:
        for app in apps.values():
            app.close()
        raise
    return apps


def application_of(
    apps: Mapping[str, Application[Any]], cls: type[TApplication]
) -> TApplication:
    """The application of class ``cls``, or an error naming what was asked."""
    if not (isinstance(cls, type) and issubclass(cls, Application)):
        msg = f"get() takes an application class of the system; got {cls!r}"
        raise TypeError(msg)
    app = apps.get(cls.name)
    if app is None:
        raise ApplicationNotInSystemError(cls.name, list(apps))
    if not isinstance(app, cls):
        msg = (
            f"get({cls.__qualname__}): this system's application named "
            f"{cls.name!r} is a {type(app).__qualname__}"
        )
        raise TypeError(msg)
    return app
