"""Sealed actor messages, without an actor system: what opens and what not."""

from __future__ import annotations

import logging
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path

import pytest

from thespsys.actors.authenticated_transport import RejectionLog
from thespsys.actors.sealing import (
    REPLAY_WINDOW,
    Opener,
    SenderIdentity,
    seal,
    seal_control,
)
from thespsys.errors import UnauthenticatedMessageError

SECRET = b"s" * 32
PORT = 4242


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def opener(clock: Clock | None = None, ports: set[int] | None = None) -> Opener:
    return Opener(SECRET, lambda: ports or {PORT}, max_age=360.0, now=clock or Clock())


def test_a_sealed_message_opens_once() -> None:
    sender = SenderIdentity()
    message = seal(SECRET, sender, PORT, ("from", {"a": 1}))
    receiver = opener()
    assert receiver.open(message) == ("from", {"a": 1})
    with pytest.raises(UnauthenticatedMessageError, match="replayed"):
        receiver.open(message)


class Exploit:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("touch /tmp/thespsys-sealing-exploit",))


def test_a_plain_pickle_is_never_unpickled() -> None:
    with pytest.raises(UnauthenticatedMessageError, match="not sealed"):
        opener().open(pickle.dumps(Exploit()))
    assert not Path("/tmp/thespsys-sealing-exploit").exists()


def test_another_secret_or_a_changed_byte_does_not_open() -> None:
    sender = SenderIdentity()
    forged = seal(b"o" * 32, sender, PORT, Exploit())
    with pytest.raises(UnauthenticatedMessageError, match="bad MAC"):
        opener().open(forged)
    genuine = bytearray(seal(SECRET, sender, PORT, "pay order 1"))
    genuine[-3] ^= 1
    with pytest.raises(UnauthenticatedMessageError, match="bad MAC"):
        opener().open(bytes(genuine))
    assert not Path("/tmp/thespsys-sealing-exploit").exists()


def test_a_message_sealed_for_another_port_does_not_open() -> None:
    message = seal(SECRET, SenderIdentity(), PORT + 1, "to another actor")
    with pytest.raises(UnauthenticatedMessageError, match=f"port {PORT + 1}"):
        opener().open(message)


def test_old_and_future_messages_do_not_open() -> None:
    clock = Clock()
    sender = SenderIdentity()
    old = seal(SECRET, sender, PORT, "old", now=lambda: clock.now - 361)
    future = seal(SECRET, sender, PORT, "future", now=lambda: clock.now + 61)
    receiver = opener(clock)
    with pytest.raises(UnauthenticatedMessageError, match="ago"):
        receiver.open(old)
    with pytest.raises(UnauthenticatedMessageError, match="future"):
        receiver.open(future)
    assert receiver.open(seal(SECRET, sender, PORT, "now")) == "now"


def test_out_of_order_within_the_window_opens_once() -> None:
    sender = SenderIdentity()
    first, second, third = (seal(SECRET, sender, PORT, n) for n in (1, 2, 3))
    receiver = opener()
    assert receiver.open(third) == 3
    assert receiver.open(first) == 1
    assert receiver.open(second) == 2
    for message in (first, second, third):
        with pytest.raises(UnauthenticatedMessageError, match="replayed"):
            receiver.open(message)


def test_a_counter_too_far_behind_does_not_open() -> None:
    sender = SenderIdentity()
    straggler = seal(SECRET, sender, PORT, "late")
    for _ in range(REPLAY_WINDOW):
        latest = seal(SECRET, sender, PORT, "on")
    receiver = opener()
    receiver.open(latest)
    with pytest.raises(UnauthenticatedMessageError, match="too far behind"):
        receiver.open(straggler)


def test_counters_are_per_destination_and_per_sender() -> None:
    one, other = SenderIdentity(), SenderIdentity()
    receiver = opener(ports={PORT, PORT + 1})
    assert receiver.open(seal(SECRET, one, PORT, "a")) == "a"
    assert receiver.open(seal(SECRET, one, PORT + 1, "b")) == "b"
    assert receiver.open(seal(SECRET, other, PORT, "c")) == "c"


def test_a_renewed_identity_is_a_new_sender() -> None:
    sender = SenderIdentity()
    receiver = opener()
    receiver.open(seal(SECRET, sender, PORT, "parent"))
    sender.renew()  # as in a forked process: its counter starts again
    assert receiver.open(seal(SECRET, sender, PORT, "child")) == "child"


def test_silent_senders_are_forgotten_and_their_messages_stay_refused() -> None:
    clock = Clock()
    sender = SenderIdentity()
    captured = seal(SECRET, sender, PORT, "captured", now=clock)
    receiver = opener(clock)
    receiver.open(captured)
    clock.now += 3600
    receiver.open(seal(SECRET, SenderIdentity(), PORT, "prunes", now=clock))
    assert len(receiver._windows) == 1
    with pytest.raises(UnauthenticatedMessageError, match="ago"):
        receiver.open(captured)


def test_acknowledgements_are_sealed_too() -> None:
    assert opener().open(seal_control(SECRET, "ACK")) == "ACK"
    with pytest.raises(UnauthenticatedMessageError, match="bad MAC"):
        opener().open(seal_control(b"o" * 32, "ACK"))


def test_rejections_are_logged_once_per_peer_and_minute(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    log = RejectionLog(interval=60.0, now=clock)
    with caplog.at_level(logging.WARNING):
        for _ in range(1000):
            log.rejected("10.0.0.9", "not sealed")
        log.rejected("10.0.0.7", "bad MAC")
        clock.now += 61
        log.rejected("10.0.0.9", "not sealed")
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 3, lines
    assert "10.0.0.9" in lines[0] and "not sealed" in lines[0]
    assert "10.0.0.7" in lines[1] and "bad MAC" in lines[1]
    assert "999 more since the last warning" in lines[2]


# A thread of the parent holds one of the sealing locks at the fork; the child
# must still seal, open and log, as every actor process does.
FORK_WHILE_LOCKED = """
import os, signal, sys
from thespsys.actors import authenticated_transport as transport
from thespsys.actors.sealing import seal

secret, port = b"s" * 32, 4242
transport.use_secret(secret)
held = {
    "identity": transport._identity,
    "opener": transport._sealing.opener,
    "rejections": transport.rejections,
}[sys.argv[1]]
with held._lock:
    pid = os.fork()
    if pid == 0:
        signal.alarm(10)  # a hang ends, and fails
        transport._local_ports.add(port)
        message = seal(secret, transport._identity, port, "hello")
        opened = transport._sealing.loads(message)
        transport.rejections.rejected("peer", "test")
        os._exit(0 if opened == "hello" else 1)
sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
"""


@pytest.mark.parametrize("lock_holder", ["identity", "opener", "rejections"])
def test_a_process_forked_while_a_sealing_lock_was_held_still_seals_and_opens(
    lock_holder: str,
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", FORK_WHILE_LOCKED, lock_holder],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
