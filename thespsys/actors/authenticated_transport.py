"""Thespian's TCP transport, sealed: no byte is unpickled unless it carries a
valid MAC under this process's secret (``thespsys.actors.sealing``).

Thespian (4.0.1, pinned) serialises through its module-level ``serializer``
with ``dumps`` and ``loads``, frames acknowledgements once at import, and
learns a transport's own port when it binds. ``use_secret()`` replaces those
three: sends are sealed for their destination port, receives are opened
against the ports this process listens on, and acknowledgements are sealed
too. Without forking Thespian, this depends on its internals: they are
checked at import, and a Thespian without them fails here, loudly.

One secret per process: the actor processes inherit it when Thespian forks
them, and each of them renews its sender identity then.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from thespian.system import transport as thespian_transport
from thespian.system.transport import TCPTransport as tcp
from thespian.system.transport import streamBuffer

from thespsys.actors.sealing import (
    CONTROL_MAGIC,
    Opener,
    SenderIdentity,
    seal,
    seal_control,
)
from thespsys.errors import AuthenticationError, UnauthenticatedMessageError

log = logging.getLogger(__name__)

TESTED_THESPIAN = "4.0.1"
REJECTION_LOG_INTERVAL = 60.0


def _check_internals() -> None:
    missing = [
        name
        for owner, name in (
            (tcp, "serializer"),
            (tcp, "ackMsg"),
            (tcp, "ackDataErrMsg"),
            (tcp, "ackPacket"),
            (streamBuffer, "ackDataErrPacket"),
            (tcp, "toSendBuffer"),
            (tcp.TCPTransport, "serializer"),
            (tcp.TCPTransport, "close"),
            (tcp.TCPTransport, "_addedDataToIncoming"),
            (streamBuffer, "ReceiveBuffer"),
            (thespian_transport, "DEFAULT_MAX_TRANSMIT_PERIOD"),
        )
        if not hasattr(owner, name)
    ]
    if missing:
        raise ImportError(
            "thespsys seals Thespian's TCP transport and needs its internals "
            f"{', '.join(missing)}, missing from this Thespian (tested with "
            f"{TESTED_THESPIAN}); install thespian=={TESTED_THESPIAN}"
        )


_check_internals()

_plain_serializer = pickle
_original_init = tcp.TCPTransport.__init__
_original_close = tcp.TCPTransport.close
_original_added_data = tcp.TCPTransport._addedDataToIncoming
_plain_transport_serializer = tcp.TCPTransport.serializer
_plain_ack = tcp.ackMsg
_plain_ack_error = tcp.ackDataErrMsg
_plain_acknowledgements = {
    pickle.dumps(tcp.ackPacket),
    pickle.dumps(streamBuffer.ackDataErrPacket),
}

# A message may wait in Thespian's transmit queue this long before it is
# sent; it must still open when it arrives.
MAX_AGE = thespian_transport.DEFAULT_MAX_TRANSMIT_PERIOD.total_seconds() + 60.0

_local_ports: set[int] = set()
_identity = SenderIdentity()
_receiving_from = threading.local()


class RejectionLog:
    """One warning per peer host and minute, with the count in between: a
    peer that sends garbage must not flood the log."""

    def __init__(
        self,
        interval: float = REJECTION_LOG_INTERVAL,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = interval
        self._now = now
        self._lock = threading.Lock()
        self._peers: dict[str, tuple[float, int]] = {}  # host: last logged, held back

    def forked(self) -> None:
        self._lock = threading.Lock()

    def rejected(self, peer: str, reason: str) -> None:
        now = self._now()
        with self._lock:
            last, held_back = self._peers.get(peer, (float("-inf"), 0))
            if now - last < self.interval:
                self._peers[peer] = (last, held_back + 1)
                return
            self._peers[peer] = (now, 0)
        more = f" ({held_back} more since the last warning)" if held_back else ""
        log.warning(
            "rejected a message from %s on port(s) %s: %s%s",
            peer,
            ",".join(map(str, sorted(_local_ports))) or "?",
            reason,
            more,
        )


rejections = RejectionLog()


class _SealingSerializer:
    """Stands in for the ``pickle`` module Thespian serialises with."""

    def __init__(self, secret: bytes) -> None:
        self.secret = secret
        self.opener = Opener(secret, lambda: _local_ports, MAX_AGE)

    def dumps(self, message: object) -> bytes:
        # Only acknowledgements are framed without a destination.
        assert isinstance(message, str), message
        return seal_control(self.secret, message)

    def loads(self, data: bytes) -> object:
        # Thespian opens a message that arrives while it waits for an
        # acknowledgement twice, from the same buffer: the second time must
        # not pass for a replay. A replay is a buffer of its own.
        last = getattr(_receiving_from, "last", None)
        if last is not None and last[0] is data:
            return last[1]
        try:
            message = self.opener.open(data)
        except UnauthenticatedMessageError as error:
            if data[:4] == CONTROL_MAGIC or data in _plain_acknowledgements:
                # An acknowledgement under another secret (or none): to the
                # sender, a send the peer refused.
                return streamBuffer.ackDataErrPacket
            peer = getattr(_receiving_from, "peer", None) or "a peer"
            rejections.rejected(peer, error.reason)
            raise
        _receiving_from.last = (data, message)
        return message


_sealing: _SealingSerializer | None = None


def _sealed_serializer(self: Any, intent: Any) -> bytes:
    assert _sealing is not None
    port = intent.targetAddr.addressDetails.sockname[1]

    def sealed(message: object) -> bytes:
        assert _sealing is not None
        return seal(_sealing.secret, _identity, port, message)

    return tcp.toSendBuffer((self.myAddress, intent.message), sealed)  # type: ignore[no-any-return]


def _init_recording_port(self: Any, *args: Any) -> None:
    _original_init(self, *args)
    _local_ports.add(self.socket.getsockname()[1])


def _close_forgetting_port(self: Any) -> None:
    sock = getattr(self, "socket", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            _local_ports.discard(sock.getsockname()[1])
    _original_close(self)


def _added_data_noting_peer(self: Any, inc: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        _receiving_from.peer = inc.socket.getpeername()[0]
    except (OSError, AttributeError):
        _receiving_from.peer = None
    return _original_added_data(self, inc, *args, **kwargs)


def use_secret(secret: bytes | None) -> None:
    """Seal every message this process and the actor processes it forks send,
    and refuse unsealed ones; None: Thespian's plain, unauthenticated pickles."""
    global _sealing
    if secret is None:
        _sealing = None
        tcp.serializer = _plain_serializer
        tcp.ackMsg, tcp.ackDataErrMsg = _plain_ack, _plain_ack_error
        tcp.TCPTransport.serializer = _plain_transport_serializer
        return
    if _sealing is not None:
        if _sealing.secret == secret:
            return  # and the replay windows stay
        log.warning("this process now talks to actor systems under another secret")
    _sealing = _SealingSerializer(secret)
    tcp.serializer = _sealing
    tcp.ackMsg = tcp.toSendBuffer(tcp.ackPacket, _sealing.dumps)
    tcp.ackDataErrMsg = tcp.toSendBuffer(streamBuffer.ackDataErrPacket, _sealing.dumps)
    tcp.TCPTransport.serializer = _sealed_serializer


def check_secret(host: str, port: int, timeout: float = 5.0) -> None:
    """Before joining the actor system at ``port``: does it hold this
    process's secret? Thespian would only say, after some 11 s of retries,
    that it is "not a valid or useable ActorSystem Admin".

    Sends a sealed acknowledgement, which Thespian answers with a sealed
    ACK+DATAERR (or a plain one, if it does not authenticate) and no other
    effect; the answer's MAC tells whether the secrets match.
    """
    probe = (
        seal_control(_sealing.secret, streamBuffer.ackPacket)
        if _sealing is not None
        else b"not a message"
    )
    try:
        with socket.create_connection((host, port), timeout=timeout) as connection:
            connection.sendall(b"%d>" % len(probe) + probe)
            answer = _read_frame(connection)
    except (OSError, ValueError) as error:
        raise AuthenticationError(port, f"could not be asked: {error}") from error
    sealed = answer[:4] == CONTROL_MAGIC
    if _sealing is None:
        if sealed:
            raise AuthenticationError(
                port,
                "authenticates its messages and this process does not "
                "(authenticate = false): give it the system's secret",
            )
        return
    if not sealed:
        raise AuthenticationError(
            port,
            "does not authenticate its messages (authenticate = false there) "
            "and this process does",
        )
    try:
        _sealing.opener.open(answer)
    except UnauthenticatedMessageError:
        raise AuthenticationError(
            port,
            "refuses this process's messages: it runs under another secret "
            "(the secret file of its data directory, or THESPSYS_SECRET)",
        ) from None


def _read_frame(connection: socket.socket) -> bytes:
    data = b""
    while b">" not in data:
        chunk = connection.recv(64)
        if not chunk:
            raise OSError("connection closed without an answer")
        data += chunk
    size_text, _, body = data.partition(b">")
    size = int(size_text)
    while len(body) < size:
        chunk = connection.recv(size - len(body))
        if not chunk:
            raise OSError("connection closed in the middle of an answer")
        body += chunk
    return body[:size]


tcp.TCPTransport.__init__ = _init_recording_port
tcp.TCPTransport.close = _close_forgetting_port
tcp.TCPTransport._addedDataToIncoming = _added_data_noting_peer


def _renew_in_child() -> None:
    _identity.renew()
    _local_ports.clear()
    rejections.forked()
    if _sealing is not None:
        _sealing.opener.forked()


os.register_at_fork(after_in_child=_renew_in_child)
