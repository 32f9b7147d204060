"""Sealed actor messages: an HMAC-SHA256 over every message's bytes, checked
before anything is unpickled.

Thespian authenticates nothing and unpickles whatever reaches an actor's
port: code execution for any program that can connect. A sealed message is

    MAGIC | tag | sent_at | sender | counter | destination port | pickle

where ``tag = HMAC-SHA256(secret, everything after it)``. ``Opener.open``
refuses a message whose tag does not verify (wrong or no secret), that was
sealed for another port (captured on its way to another process), that is
older than ``max_age`` or from too far in the future (replayed later), or
whose sender and counter it has seen already (replayed within the window).
Each sending process has a random sender id and one counter per destination
port, so a receiver keeps only a small window per sender.

Thespian's acknowledgements are sealed without a counter (``seal_control``):
a replayed acknowledgement only tells a sender that the peer it connected to
received a message, and an acknowledgement that does not verify means the peer
holds another secret.

Hand-written because no library seals pickles for Thespian's transport;
``hmac`` and ``hashlib`` do the cryptography.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import os
import pickle
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from thespsys.errors import UnauthenticatedMessageError

MAGIC = b"TSM1"
CONTROL_MAGIC = b"TSC1"
TAG_SIZE = hashlib.sha256().digest_size
HEADER = struct.Struct(">d16sQH")  # sent_at, sender, counter, destination port
PREFIX_SIZE = len(MAGIC) + TAG_SIZE
REPLAY_WINDOW = 4096  # counters per sender and port that may arrive out of order
FUTURE_SKEW = 60.0  # seconds a sender's clock may be ahead


def _tag(secret: bytes, body: bytes) -> bytes:
    return hmac.new(secret, body, hashlib.sha256).digest()


class SenderIdentity:
    """This process as a sender: a random id, one counter per destination.

    A forked process must call ``renew()``: its counters would repeat the
    parent's, and its messages would be taken for replays."""

    def __init__(self) -> None:
        self.renew()

    def renew(self) -> None:
        # A new lock too: another thread of the parent may have held its copy.
        self._lock = threading.Lock()
        self.sender = os.urandom(16)
        self._counters: dict[int, Iterator[int]] = {}

    def next_counter(self, port: int) -> int:
        with self._lock:
            counter = self._counters.get(port)
            if counter is None:
                counter = self._counters[port] = itertools.count(1)
            return next(counter)


def seal(
    secret: bytes,
    identity: SenderIdentity,
    destination_port: int,
    message: object,
    now: Callable[[], float] = time.time,
) -> bytes:
    header = HEADER.pack(
        now(),
        identity.sender,
        identity.next_counter(destination_port),
        destination_port,
    )
    body = header + pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
    return MAGIC + _tag(secret, MAGIC + body) + body


def seal_control(secret: bytes, control: str) -> bytes:
    body = pickle.dumps(control, pickle.HIGHEST_PROTOCOL)
    return CONTROL_MAGIC + _tag(secret, CONTROL_MAGIC + body) + body


@dataclass(slots=True)
class _SenderWindow:
    highest: int
    seen: int  # bit i: counter highest - i was seen
    last_seen: float


class Opener:
    """Checks and unpickles sealed messages for one receiving process."""

    def __init__(
        self,
        secret: bytes,
        local_ports: Callable[[], set[int]],
        max_age: float,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._secret = secret
        self._local_ports = local_ports
        self.max_age = max_age
        self._now = now
        self._lock = threading.Lock()
        self._windows: dict[tuple[bytes, int], _SenderWindow] = {}
        self._next_prune = 0.0

    def forked(self) -> None:
        """In a forked process: another thread of the parent may have held
        the lock's copy."""
        self._lock = threading.Lock()

    def open(self, data: bytes) -> object:
        magic, tag, body = data[:4], data[4:PREFIX_SIZE], data[PREFIX_SIZE:]
        if magic == CONTROL_MAGIC:
            self._verify(tag, magic + body)
            return pickle.loads(body)
        if magic != MAGIC or len(body) < HEADER.size:
            raise UnauthenticatedMessageError("not sealed")
        self._verify(tag, magic + body)
        sent_at, sender, counter, port = HEADER.unpack_from(body)
        if port not in self._local_ports():
            raise UnauthenticatedMessageError(f"sealed for port {port}, not this one")
        self._check_fresh(sent_at)
        self._check_new(sender, port, counter)
        return pickle.loads(body[HEADER.size :])

    def _verify(self, tag: bytes, signed: bytes) -> None:
        if not hmac.compare_digest(tag, _tag(self._secret, signed)):
            raise UnauthenticatedMessageError("bad MAC (no secret, or another one)")

    def _check_fresh(self, sent_at: float) -> None:
        age = self._now() - sent_at
        if age > self.max_age:
            raise UnauthenticatedMessageError(f"sealed {age:.0f} s ago (replayed?)")
        if age < -FUTURE_SKEW:
            raise UnauthenticatedMessageError(
                f"sealed {-age:.0f} s in the future (clocks differ?)"
            )

    def _check_new(self, sender: bytes, port: int, counter: int) -> None:
        now = self._now()
        with self._lock:
            self._prune(now)
            window = self._windows.get((sender, port))
            if window is None:
                self._windows[sender, port] = _SenderWindow(counter, 1, now)
                return
            window.last_seen = now
            if counter > window.highest:
                shift = counter - window.highest
                window.seen = ((window.seen << shift) | 1) & ((1 << REPLAY_WINDOW) - 1)
                window.highest = counter
                return
            behind = window.highest - counter
            if behind >= REPLAY_WINDOW:
                raise UnauthenticatedMessageError("counter too far behind (replayed?)")
            if window.seen >> behind & 1:
                raise UnauthenticatedMessageError("seen already (replayed)")
            window.seen |= 1 << behind

    def _prune(self, now: float) -> None:
        """Forget senders silent for longer than a message may live: any
        message of theirs would be refused as too old."""
        if now < self._next_prune:
            return
        self._next_prune = now + 60.0
        horizon = now - self.max_age - FUTURE_SKEW
        for key in [k for k, w in self._windows.items() if w.last_seen < horizon]:
            del self._windows[key]
