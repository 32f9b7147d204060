"""The typed door to Thespian, with a stand-in for Thespian's endpoint."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from thespsys.actors.messages import (
    StatusRequest,
    StatusResponse,
    StopRequest,
    StopResponse,
)
from thespsys.actors.thespian_adapter import (
    ActorSystemHandle,
    ActorTimeoutError,
    free_port,
)


class Endpoint:
    """Answers an ask, then each listen, with what is queued (None: time-out)."""

    def __init__(self, *replies: Any) -> None:
        self.replies = list(replies)

    def ask(self, address: Any, request: Any, timeout: float) -> Any:
        return self.listen(timeout)

    def listen(self, timeout: float) -> Any:
        return self.replies.pop(0) if self.replies else None


def handle(*replies: Any) -> ActorSystemHandle:
    return ActorSystemHandle(Endpoint(*replies), "multiprocTCPBase", None)


def test_a_late_answer_to_an_earlier_ask_is_dropped() -> None:
    late, answer = StatusResponse(()), StopResponse()
    assert handle(late, answer).ask("actor", StopRequest(), 5, StopResponse) is answer


def test_only_late_answers_is_a_time_out() -> None:
    with pytest.raises(ActorTimeoutError):
        handle(StatusResponse(())).ask("actor", StopRequest(), 5, StopResponse)


def test_without_an_expected_type_any_answer_will_do() -> None:
    answer = StatusResponse(())
    assert handle(answer).ask("actor", StatusRequest(), 5) is answer


def test_an_admin_port_is_one_the_kernel_never_hands_out_by_itself() -> None:
    """Else a socket bound to port 0 (the starter's own Thespian endpoint
    among them) may take it before the admin binds it."""
    ephemeral_start = int(
        Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0]
    )
    ports = [free_port() for _ in range(50)]
    assert all(1024 <= port < ephemeral_start for port in ports), ports
    for port in ports[:10]:
        with socket.socket() as admin:
            admin.bind(("127.0.0.1", port))
