"""Before joining, a process asks the admin whether their secrets match; an
admin port where nothing answers as Thespian does gets a clear error."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from thespsys.actors.authenticated_transport import check_secret
from thespsys.actors.thespian_adapter import free_port
from thespsys.errors import AuthenticationError


@contextmanager
def listener(answer: bool) -> Iterator[int]:
    """A port that accepts connections and then closes them at once, or keeps
    them open without a word."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.05)
    held: list[socket.socket] = []
    stopping = threading.Event()

    def serve() -> None:
        while not stopping.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            if answer:
                connection.close()
            else:
                held.append(connection)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stopping.set()
        thread.join(timeout=5)
        server.close()
        for connection in held:
            connection.close()


@pytest.mark.parametrize(
    ("answer", "reason"),
    [(True, "closed without an answer|reset by peer"), (False, "timed out")],
)
def test_a_port_that_does_not_answer_as_an_admin_is_named(
    answer: bool, reason: str
) -> None:
    with (
        listener(answer) as port,
        pytest.raises(AuthenticationError, match=reason) as raised,
    ):
        check_secret("127.0.0.1", port, timeout=0.5)
    assert f"admin port {port}" in str(raised.value)
    assert "could not be asked" in str(raised.value)


def test_a_port_where_nothing_listens_is_named() -> None:
    port = free_port()
    with pytest.raises(AuthenticationError, match=f"admin port {port}.*could not"):
        check_secret("127.0.0.1", port, timeout=0.5)
