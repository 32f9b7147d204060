"""The real ``thespsys`` command, in subprocesses, on the real actor system."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from examples.orders import Orders
from tests.cli.support import (
    ORDERS,
    ROOT,
    Cli,
    kill_everything,
    nothing_left_behind,
    one_error_line,
)
from tests.runner.apps import Notes
from tests.support.actors import listening_addresses
from thespsys.actors.thespian_adapter import free_port
from thespsys.cli.exit_codes import ExitCode
from thespsys.core.processes import wait_for

pytestmark = [pytest.mark.actors, pytest.mark.slow]

FAST = ("--system", ORDERS, "--pipelines", "2")


@pytest.fixture
def cli(tmp_path: Path, database_url: str) -> Cli:
    return Cli(tmp_path / "data", database_url)


def orders_app(cli: Cli) -> Orders:
    env = {"PERSISTENCE_MODULE": "thespsys.persistence"}
    return Orders(env={**env, "DATABASE_URL": cli.database_url})


def all_paid(app: Orders, order_ids: list[object], timeout: float = 60) -> bool:
    return wait_for(
        lambda: all(app.get_order(i).is_paid for i in order_ids),  # type: ignore[arg-type]
        timeout,
        interval=0.1,
    )


def test_start_status_process_stop(cli: Cli) -> None:
    with nothing_left_behind(cli) as started:
        result = cli("start", *FAST)
        assert result.code == 0, result.stderr
        assert "admin port" in result.stdout
        record = cli.record()
        assert record is not None
        started.append(record)

        app = orders_app(cli)
        order_ids = [app.create_order(f"customer-{i}") for i in range(10)]
        assert all_paid(app, order_ids)  # the masters' timers find them
        app.close()

        status = cli("status", "--json", "--interval", "0.2")
        assert status.code == 0, status.stderr
        rows = json.loads(status.stdout)
        assert {(r["application"], r["pipeline"]) for r in rows} == {
            (name, p) for name in ("Orders", "Payments", "Reservations") for p in (0, 1)
        }
        assert {r["state"] for r in rows} == {"running"}
        assert sum(r["behind"] for r in rows) == 0
        table = cli("status", "--interval", "0.2")
        assert table.code == 0 and "Reservations" in table.stdout

        addresses = listening_addresses(record.pgid)
        assert ("127.0.0.1", record.admin_port) in addresses
        assert {host for host, _ in addresses} == {"127.0.0.1"}

        stopped = cli("stop")
        assert stopped.code == 0, stopped.stderr
        assert cli.record() is None
    after = cli("status")
    assert after.code == ExitCode.NOT_RUNNING
    one_error_line(after, "no system runs here")


def test_sigterm_to_run_closes_cleanly(cli: Cli) -> None:
    with nothing_left_behind(cli) as started:
        run = cli.popen("run", *FAST)
        started.append(cli.wait_for_record())
        run.send_signal(signal.SIGTERM)
        assert run.wait(timeout=30) == 0, run.stderr.read() if run.stderr else ""
        assert cli.record() is None


def test_start_twice_refuses_with_one_line(cli: Cli) -> None:
    with nothing_left_behind(cli) as started:
        record = cli.start(started, *FAST)
        again = cli("start", *FAST)
        assert again.code == ExitCode.ALREADY_RUNNING
        one_error_line(again, "a system runs here already", str(record.pid))
        assert cli("stop").code == 0


def test_killed_admin_then_stop_force_leaves_nothing(cli: Cli) -> None:
    with nothing_left_behind(cli) as started:
        record = cli.start(started, *FAST)
        os.kill(record.pgid, signal.SIGKILL)  # the admin leads the group
        result = cli("stop", "--timeout", "3", "--force")
        assert result.code == 0, result.stderr
        assert cli.record() is None


def test_a_stale_state_file_is_reported_and_cleaned_up(cli: Cli) -> None:
    with nothing_left_behind(cli) as started:
        record = cli.start(started, *FAST)
        kill_everything(record)
        status = cli("status")
        assert status.code == ExitCode.NOT_RUNNING
        one_error_line(status, "stale", str(record.pid))
        new = cli.start(started, *FAST)
        assert new.pid != record.pid
        assert cli("stop").code == 0


def test_restart_after_kill_9_of_everything_resumes_exactly(cli: Cli) -> None:
    with nothing_left_behind(cli) as started:
        first = cli.start(started, *FAST)
        app = orders_app(cli)
        order_ids = [app.create_order(f"customer-{i}") for i in range(200)]
        # Mid-run: some paid already, not all.
        assert wait_for(lambda: app.get_order(order_ids[0]).is_paid, 60, 0.05)
        kill_everything(first)
        cli.start(started, *FAST)
        assert all_paid(app, order_ids, timeout=120)
        assert {app.get_order(i).version for i in order_ids} == {3}
        events = app.recorder.select_notifications(None, 10_000)
        assert len(events) == 3 * len(order_ids)  # nothing processed twice
        app.close()
        assert cli("stop").code == 0


@pytest.mark.parametrize(
    ("extra", "environ", "code", "fragments"),
    [
        (
            ("--system", "no.such.module:system"),
            {},
            ExitCode.CONFIGURATION,
            ("cannot import 'no.such.module'",),
        ),
        (
            ("--system", "examples.orders:nothing"),
            {},
            ExitCode.CONFIGURATION,
            ("has no attribute 'nothing'",),
        ),
        ((), {}, ExitCode.CONFIGURATION, ("no system to run",)),
        (
            FAST,
            {"THESPSYS_POLL_INTERVAL": "often"},
            ExitCode.CONFIGURATION,
            ("THESPSYS_POLL_INTERVAL", "expected a number"),
        ),
        (FAST, {"THESPSYS_BOGUS": "1"}, ExitCode.CONFIGURATION, ("THESPSYS_BOGUS",)),
        (
            (*FAST, "--database-url", "postgresql+psycopg2://postgres@127.0.0.1:1/x"),
            {},
            ExitCode.DATABASE,
            ("database:", "127.0.0.1"),
        ),
        (
            (*FAST, "--database-url", "mysql://x"),
            {},
            ExitCode.CONFIGURATION,
            ("DATABASE_URL", "mysql"),
        ),
        ((*FAST, "--pipelines", "0"), {}, ExitCode.USAGE, ("--pipelines",)),
    ],
)
def test_bad_input_gets_one_line_and_an_exit_code(
    cli: Cli,
    extra: tuple[str, ...],
    environ: dict[str, str],
    code: ExitCode,
    fragments: tuple[str, ...],
) -> None:
    cli.env.update(environ)
    started = time.monotonic()
    with nothing_left_behind(cli):
        result = cli("start", *extra, timeout=30)
    assert result.code == code, result
    if code == ExitCode.USAGE:
        assert any(f in result.stderr for f in fragments)
    else:
        one_error_line(result, *fragments)
    assert time.monotonic() - started < 20


def test_an_admin_port_taken_by_another_program_fails_at_once(cli: Cli) -> None:
    import socket

    port = free_port()
    with socket.socket() as squatter, nothing_left_behind(cli):
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        started = time.monotonic()
        result = cli("start", *FAST, "--admin-port", str(port), timeout=30)
        assert result.code == ExitCode.START_FAILED, result
        one_error_line(result, f"port {port} is in use by another program")
        assert time.monotonic() - started < 10


def test_the_start_and_stop_scripts(cli: Cli) -> None:
    env = {**cli.env, "DATABASE_URL": cli.database_url}
    with nothing_left_behind(cli) as started:
        for script in ("start_system", "stop_system"):
            result = subprocess.run(
                [sys.executable, "-m", f"scripts.{script}", str(cli.data_dir)],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=90,
            )
            assert result.returncode == 0, result.stderr
            record = cli.record()
            if record is not None:
                started.append(record)
                assert "running: process" in result.stdout
        assert cli.record() is None


def test_changing_the_pipeline_count_between_starts(cli: Cli) -> None:
    app = orders_app(cli)
    order_ids: list[object] = []
    with nothing_left_behind(cli) as started:
        for pipelines in ("3", "1", "2"):
            cli.start(started, "--system", ORDERS, "--pipelines", pipelines)
            order_ids += [app.create_order(f"c-{pipelines}-{i}") for i in range(5)]
            assert all_paid(app, order_ids)
            rows = json.loads(cli("status", "--json", "--interval", "0.1").stdout)
            assert {row["partition"] for row in rows} == {
                f"{index + 1}/{pipelines}" for index in range(int(pipelines))
            }
            assert cli("stop").code == 0
    assert {app.get_order(i).version for i in order_ids} == {3}  # type: ignore[arg-type]
    assert len(app.recorder.select_notifications(None, 1000)) == 3 * len(order_ids)
    app.close()


FAULTY = ("--system", "tests.supervision.apps:notes_to_faulty")


@contextmanager
def faulty_system(cli: Cli, faults: Path, **settings: str) -> Iterator[Notes]:
    """Notes to Faulty, started by the CLI with ``settings`` in its env; the
    Notes application to write the faults with."""
    faults.mkdir()
    cli.env.update({"FAULTS_DIR": str(faults), **settings})
    env = {"PERSISTENCE_MODULE": "thespsys.persistence"}
    notes = Notes(env={**env, "DATABASE_URL": cli.database_url})
    try:
        with nothing_left_behind(cli) as started:
            cli.start(started, *FAULTY)
            yield notes
    finally:
        notes.close()


def test_dead_letters_listed_and_skipped(cli: Cli, tmp_path: Path) -> None:
    park_at_once = {"FAULTY_ERROR_POLICY": "park", "PARK_AFTER_ATTEMPTS": "1"}
    with faulty_system(cli, tmp_path / "faults", **park_at_once) as notes:
        notes.write("fail-always")

        def letters(*extra: str) -> list[dict[str, object]]:
            result = cli("dead-letters", "Faulty", "list", "--json", *extra, *FAULTY)
            assert result.code == 0, result.stderr
            return list(json.loads(result.stdout))

        assert wait_for(lambda: len(letters()) == 1, 30, interval=0.2)
        letter_id = str(letters()[0]["id"])
        skipped = cli("dead-letters", "Faulty", "skip", letter_id, *FAULTY)
        assert skipped.code == 0, skipped.stderr
        assert letters() == []
        assert [letter["status"] for letter in letters("--all")] == ["skipped"]
        bad = cli("dead-letters", "Nobody", "list", *FAULTY)
        assert bad.code == ExitCode.CONFIGURATION
        one_error_line(bad, "'Nobody' is not a follower")
        assert cli("stop").code == 0


def test_status_exits_10_while_an_application_retries(cli: Cli, tmp_path: Path) -> None:
    faults = tmp_path / "faults"
    quick = {"RETRY_BACKOFF_INITIAL": "0.1", "RETRY_BACKOFF_MAX": "0.2"}
    with faulty_system(cli, faults, **quick) as notes:
        notes.write("fail-times-1000000")
        assert wait_for(lambda: cli("status").code == ExitCode.RETRYING, 30, 0.2)
        retrying = cli("status")
        assert "Faulty (pipeline 0) is retrying" in retrying.stdout, retrying.stdout

        def recovered() -> bool:
            for marker in faults.iterdir():  # as if it had failed that often
                marker.write_text("1000000")
            return cli("status").code == ExitCode.OK

        assert wait_for(recovered, 30, 0.2)
        assert cli("stop").code == 0
