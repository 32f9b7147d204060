"""Table and index names that are valid, distinct and stable for any application name.

PostgreSQL silently truncates identifiers to 63 bytes, so two long application
names sharing a prefix would otherwise share tables. A name that fits is used
as is; a longer one keeps a readable prefix and gains a short hash of the whole
name, so it is deterministic (every process derives the same name) and distinct.
"""

from __future__ import annotations

import hashlib

# PostgreSQL: the channel inserts into events tables NOTIFY, and the session
# setting that turns it off (see ``schema``).
CHANGES_CHANNEL = "thespsys_events"
NOTIFY_SETTING = "thespsys.notify"

MAX_IDENTIFIER_BYTES = 63
HASH_CHARS = 10


def safe_identifier(name: str, suffix: str = "") -> str:
    """``name + suffix`` if it fits in 63 bytes, else a shortened, hashed form.

    The suffix (e.g. ``"_events"``) is always kept whole, so the kind of object
    stays visible in the database.
    """
    full = name + suffix
    if len(full.encode("utf-8")) <= MAX_IDENTIFIER_BYTES:
        return full
    digest = hashlib.sha256(full.encode("utf-8")).hexdigest()[:HASH_CHARS]
    tail = f"_{digest}{suffix}"
    room = MAX_IDENTIFIER_BYTES - len(tail.encode("utf-8"))
    if room <= 0:
        msg = f"suffix {suffix!r} leaves no room for a name"
        raise ValueError(msg)
    head = name.encode("utf-8")[:room].decode("utf-8", errors="ignore")
    return head + tail


def table_prefix(application_name: str, fallback: str) -> str:
    """The lower-cased application name, or ``fallback`` when it is empty.

    Fallbacks follow ``eventsourcing.postgres``: ``stored`` for events and
    snapshots, ``notification`` for tracking.
    """
    return application_name.lower() or fallback


def advisory_lock_key(table_name: str) -> int:
    """A signed 64-bit key for ``pg_advisory_xact_lock``, stable across processes."""
    digest = hashlib.blake2b(
        f"thespsys.create_table:{table_name}".encode(), digest_size=8
    ).digest()
    return int.from_bytes(digest, "big", signed=True)


def events_table_name(application_name: str) -> str:
    """The stored events table of an application (as ``SQLFactory`` names it)."""
    return safe_identifier(table_prefix(application_name, "stored"), "_events")
