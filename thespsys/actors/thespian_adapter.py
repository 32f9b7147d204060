"""The one typed door to Thespian's untyped, camelCase API.

Also closes Thespian's widest default: every admin and actor binds its port on
all interfaces (``''``) whatever address it advertises, and unpickles whatever
arrives. ``listen_on()`` makes every socket created afterwards in this process
(and in the actor processes it forks) advertise *and bind* one address,
loopback by default. Thespian has no setting for this, hence the patch.
"""

from __future__ import annotations

import gc
import logging
import os
import random
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from thespian.actors import ActorAddress, ActorSystem
from thespian.system.transport import IPBase

from thespsys.actors import authenticated_transport
from thespsys.errors import ActorSystemError, ActorTimeoutError

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"

_listen_host: str | None = None
_original_init = IPBase.IPActorAddress.__init__
_original_bind_args = IPBase.IPActorAddress.bindArgs


def _init_with_host(
    self: Any,
    af: Any,
    socktype: Any,
    proto: Any,
    baseaddr: Any,
    port: Any,
    external: Any = False,
) -> None:
    if external and not baseaddr and _listen_host is not None:
        baseaddr = _listen_host
    _original_init(self, af, socktype, proto, baseaddr, port, external)


def _bind_advertised(self: Any) -> tuple[Any, ...]:
    host, port = self.bindname[0], self.bindname[1]
    if host == "" and _listen_host is not None:
        return ((self.sockname[0], port),)
    return (self.bindname,)


def listen_on(host: str = LOOPBACK, *, all_interfaces: bool = False) -> None:
    """Advertise ``host``; bind only it unless ``all_interfaces``."""
    global _listen_host
    _listen_host = host
    IPBase.IPActorAddress.__init__ = _init_with_host
    IPBase.IPActorAddress.bindArgs = (
        _original_bind_args if all_interfaces else property(_bind_advertised)
    )
    IPBase.thisSystem.add_local_addr(host)


def free_port(host: str | None = None) -> int:
    """A port nothing is bound to on ``host``, for an admin to bind next.

    It is chosen below the kernel's ephemeral range: between this choice and
    the admin's bind, the kernel may hand an ephemeral port to any socket,
    the starter's own Thespian endpoint among them, and Thespian takes a bound
    admin port for a running admin: it then fails after 11 s with "not a
    valid or useable ActorSystem Admin". Ports below that range are given out
    only to whoever asks for them by number.
    """
    host = (_listen_host or LOOPBACK) if host is None else host
    high = _ephemeral_ports_start()
    below = range(max(1024, high - 16384), high)
    for port in random.sample(below, min(200, len(below))):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((host, port))
            except OSError:
                continue
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))  # none free there: an ephemeral one, as before
        return int(probe.getsockname()[1])


def _ephemeral_ports_start() -> int:
    """The lowest port the kernel hands out by itself (Linux; elsewhere the
    lowest default of the systems we know)."""
    try:
        return int(
            Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0]
        )
    except (OSError, ValueError, IndexError):
        return 32768


def port_accepts_connections(port: int, host: str = LOOPBACK) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        return probe.connect_ex((host, port)) == 0


def log_defs(level: int = logging.WARNING) -> dict[str, Any]:
    """Thespian's logging: warnings and errors of actors to stderr."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "plain": {"format": "%(asctime)s %(name)s %(levelname)s %(message)s"}
        },
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "plain",
                "level": level,
            }
        },
        "root": {"handlers": ["stderr"], "level": level},
    }


_forking_actor_system = False


def _detach_standard_streams() -> None:
    """In a process Thespian forks while an actor system is created (its admin
    and logger, and through them every actor): /dev/null for stdin and
    stdout instead of the starter's, so that a pipe (``python app.py | tail``)
    ends with the starter. Stderr, where actors log, stays."""
    if _forking_actor_system:
        # What was inherited stays shared: the collector leaves it alone.
        gc.freeze()
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1):
            os.dup2(null, fd)
        os.close(null)


os.register_at_fork(after_in_child=_detach_standard_streams)


@contextmanager
def _standard_streams_detached() -> Iterator[None]:
    global _forking_actor_system
    sys.stdout.flush()
    _forking_actor_system = True
    try:
        yield
    finally:
        _forking_actor_system = False


class ActorSystemHandle:
    """A started (or joined) actor system, seen from outside the actors."""

    def __init__(self, actor_system: ActorSystem, base: str, port: int | None):
        self._actor_system = actor_system
        self.base = base
        self.port = port

    @classmethod
    def start(
        cls,
        base: str,
        port: int | None,
        secret: bytes | None,
        capabilities: dict[str, Any] | None = None,
    ) -> ActorSystemHandle:
        """``secret``: what every message is sealed with; None, nothing is
        (Thespian's plain pickles: anyone who reaches a port runs code)."""
        authenticated_transport.use_secret(secret)
        all_capabilities = dict(capabilities or {})
        port = port or free_port()
        all_capabilities["Admin Port"] = port
        try:
            with _standard_streams_detached():
                actor_system = ActorSystem(
                    base, all_capabilities, logDefs=log_defs(), transientUnique=True
                )
        except Exception as error:
            msg = f"could not start a {base} actor system on port {port}: {error}"
            raise ActorSystemError(msg) from error
        return cls(actor_system, base, port)

    @classmethod
    def join(cls, base: str, port: int, secret: bytes | None) -> ActorSystemHandle:
        """The actor system at ``port``; never starts one, as Thespian would
        if nothing listened there."""
        if not port_accepts_connections(port):
            raise ActorSystemError(f"no actor system runs at admin port {port}")
        authenticated_transport.use_secret(secret)
        authenticated_transport.check_secret(_listen_host or LOOPBACK, port)
        return cls.start(base, port, secret)

    def create_actor(self, actor_class: type, global_name: str | None = None) -> Any:
        return self._actor_system.createActor(actor_class, globalName=global_name)

    def ask(
        self,
        address: ActorAddress,
        request: object,
        timeout: float,
        expect: type | tuple[type, ...] = object,
    ) -> Any:
        """The first reply that is an ``expect``, within ``timeout`` seconds.

        Others are dropped: late answers to asks that timed out land in this
        endpoint too, and must not pass for the answer to this one.
        """
        deadline = time.monotonic() + timeout
        reply = self._actor_system.ask(address, request, timeout)
        while reply is not None and not isinstance(reply, expect):
            log.warning("dropped %r while waiting for an answer to %r", reply, request)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            reply = self._actor_system.listen(remaining)
        if reply is None or not isinstance(reply, expect):
            raise ActorTimeoutError(request, timeout)
        return reply

    def tell(self, address: ActorAddress, message: object) -> None:
        self._actor_system.tell(address, message)

    @contextmanager
    def private(self) -> Iterator[ActorSystemHandle]:
        """An endpoint of its own, for use by one other thread."""
        with self._actor_system.private() as endpoint:
            yield ActorSystemHandle(endpoint, self.base, self.port)

    def shutdown(self) -> None:
        self._actor_system.shutdown()
