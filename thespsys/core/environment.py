"""Reading settings the eventsourcing way, and saying which key was used.

``Environment.get(KEY)`` tries ``APPNAME_KEY`` before ``KEY`` but does not say
which one answered; error messages must name the setting the user wrote.
"""

from __future__ import annotations

from eventsourcing.utils import Environment


def lookup(env: Environment, key: str) -> tuple[str, str] | None:
    """The first (key, value) found among ``env.create_keys(key)``."""
    for candidate in env.create_keys(key):
        value = dict.get(env, candidate)
        if value is not None:
            return candidate, value
    return None
