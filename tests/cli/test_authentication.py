"""Only processes with the system's secret may talk to it: forged, unsealed and
replayed messages reach no actor, on the real actor system."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from examples.orders import system as orders_system
from tests.cli.support import ORDERS, Cli, nothing_left_behind, one_error_line
from tests.cli.test_cli import all_paid, orders_app
from tests.support.actors import listening_addresses
from thespsys import AuthenticationError, RunnerSettings, ThespianRunner
from thespsys.actors import authenticated_transport
from thespsys.cli.exit_codes import ExitCode
from thespsys.core.processes import wait_for
from thespsys.state_file import SystemRecord

pytestmark = [pytest.mark.actors, pytest.mark.slow]

FAST = ("--system", ORDERS, "--pipelines", "2")

FORGER = textwrap.dedent(
    """
    import os, pickle, socket, sys

    class Exploit:
        def __init__(self, path):
            self.path = path
        def __reduce__(self):
            return (os.system, (f"touch {self.path}",))

    marker_dir, ports = sys.argv[1], [int(p) for p in sys.argv[2:]]
    for port in ports:
        payload = pickle.dumps(("sender", Exploit(f"{marker_dir}/{port}")))
        with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
            connection.sendall(b"%d>" % len(payload) + payload)
            try:
                connection.recv(1000)  # Thespian's answer: the data was bad
            except TimeoutError:
                pass  # an endpoint of the owner reads when the owner next asks
    """
)

PLAIN_THESPIAN = textwrap.dedent(
    """
    import sys
    from thespian.actors import ActorSystem

    try:
        ActorSystem(
            "multiprocTCPBase", {"Admin Port": int(sys.argv[1])}, transientUnique=True
        ).shutdown()
    except Exception as error:
        print(f"refused: {error}")
    """
)


@pytest.fixture
def cli(tmp_path: Path, database_url: str) -> Cli:
    return Cli(tmp_path / "data", database_url)


@pytest.fixture
def started(cli: Cli) -> Iterator[list[SystemRecord]]:
    with nothing_left_behind(cli) as records:
        yield records


def actor_ports(record: SystemRecord) -> set[int]:
    """The admin's, the logger's and every actor's. (They also hold the
    owner's endpoint, forked with it, but only the owner reads from it.)"""
    ports = {port for _, port in listening_addresses(record.pgid)}
    return ports - owner_ports(record)


def owner_ports(record: SystemRecord) -> set[int]:
    """The endpoints of the process that owns the actor system."""
    return {port for _, port in listening_addresses(record.pid)}


def log_of(record: SystemRecord) -> str:
    assert record.log_file is not None
    return Path(record.log_file).read_text(errors="replace")


def joining(cli: Cli, record: SystemRecord, secret_file: str | None) -> ThespianRunner:
    """A runner in this process that joins the system of ``record``."""
    return ThespianRunner(
        orders_system,
        env={
            "PERSISTENCE_MODULE": "thespsys.persistence",
            "DATABASE_URL": cli.database_url,
        },
        pipeline_ids=record.pipeline_ids,
        settings=RunnerSettings(admin_port=record.admin_port, secret_file=secret_file),
        join=True,
    )


def orders_get_paid(cli: Cli, count: int = 5) -> bool:
    app = orders_app(cli)
    try:
        return all_paid(app, [app.create_order(f"c{i}") for i in range(count)])
    finally:
        app.close()


def test_forged_pickles_to_every_port_run_nothing(
    cli: Cli, started: list[SystemRecord], tmp_path: Path
) -> None:
    record = cli.start(started, *FAST)
    ports = actor_ports(record)
    assert record.admin_port in ports and len(ports) >= 7  # admin, actors
    assert owner_ports(record)
    markers = tmp_path / "markers"
    markers.mkdir()
    forger = subprocess.run(
        [
            sys.executable,
            "-c",
            FORGER,
            str(markers),
            *map(str, sorted(ports | owner_ports(record))),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert forger.returncode == 0, forger.stderr

    assert orders_get_paid(cli)  # the system keeps processing
    assert list(markers.iterdir()) == []
    log = log_of(record)
    rejected = {
        port
        for port in ports
        if f"port(s) {port}: not sealed" in log  # each process says so
    }
    assert rejected == ports, log
    assert cli("stop").code == 0


def test_without_the_secret_nothing_joins_asks_or_stops(
    cli: Cli, started: list[SystemRecord]
) -> None:
    record = cli.start(started, *FAST)
    cli.env["THESPSYS_SECRET"] = "another secret, long enough to be one"
    refused = cli("status")
    assert refused.code == ExitCode.AUTHENTICATION
    one_error_line(refused, f"admin port {record.admin_port}", "another secret")
    del cli.env["THESPSYS_SECRET"]
    cli.env["THESPSYS_AUTHENTICATE"] = "false"
    unsealed = cli("status")
    assert unsealed.code == ExitCode.AUTHENTICATION
    one_error_line(unsealed, "authenticates its messages and this process does not")
    del cli.env["THESPSYS_AUTHENTICATE"]

    plain = subprocess.run(
        [sys.executable, "-c", PLAIN_THESPIAN, str(record.admin_port)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "refused" in plain.stdout, (plain.stdout, plain.stderr)

    runner = joining(cli, record, secret_file=None)  # this process's secret
    with pytest.raises(AuthenticationError, match="another secret"):
        runner.start()

    assert orders_get_paid(cli)  # still running: nothing reached it
    status = cli("status", "--json", "--interval", "0.1")
    assert status.code == 0, status.stderr  # with the secret, as before
    assert cli("stop").code == 0


def test_replayed_messages_are_rejected(
    cli: Cli,
    started: list[SystemRecord],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    record = cli.start(started, *FAST)
    other_cli = Cli(tmp_path / "other", cli.database_url)
    other = other_cli.start(started, *FAST)

    captured: list[tuple[int, bytes]] = []
    seal = authenticated_transport.seal

    def capturing_seal(
        secret: bytes, identity: Any, port: int, message: object
    ) -> bytes:
        sealed = seal(secret, identity, port, message)
        captured.append((port, sealed))
        return sealed

    monkeypatch.setattr(authenticated_transport, "seal", capturing_seal)
    runner = joining(cli, record, secret_file=str(cli.data_dir / "secret"))
    with runner:
        runner.status()
    port, message = next(
        (port, sealed) for port, sealed in captured if port != record.admin_port
    )

    assert b"ACK+DATAERR" in replay(message, port)  # the same port again
    assert wait_for(lambda: "seen already (replayed)" in log_of(record), 10)
    replay(message, record.admin_port)
    assert wait_for(
        lambda: f"sealed for port {port}, not this one" in log_of(record), 10
    )
    replay(message, other.admin_port)
    assert wait_for(lambda: "bad MAC" in log_of(other), 10)
    assert orders_get_paid(cli)
    assert cli("stop").code == 0
    assert other_cli("stop").code == 0


def replay(message: bytes, port: int) -> bytes:
    """Send captured bytes as they were; Thespian's answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(b"%d>" % len(message) + message)
        return connection.recv(1000)


def test_authentication_off_is_plain_thespian(
    cli: Cli, started: list[SystemRecord]
) -> None:
    cli.env["THESPSYS_AUTHENTICATE"] = "false"
    record = cli.start(started, *FAST)
    assert not (cli.data_dir / "secret").exists()
    status = cli("status", "--json", "--interval", "0.1")
    assert status.code == 0, status.stderr
    del cli.env["THESPSYS_AUTHENTICATE"]
    no_file = cli("status")
    assert no_file.code == ExitCode.CONFIGURATION
    one_error_line(no_file, "secret", "does not exist")
    cli.env["THESPSYS_SECRET"] = "a secret the system does not use at all"
    refused = cli("status")
    assert refused.code == ExitCode.AUTHENTICATION, refused.stderr
    one_error_line(refused, "does not authenticate")
    assert record.authenticated is False
    assert cli("stop").code == 0
