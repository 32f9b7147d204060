"""What each ``thespsys`` command does, in a few calls of the public API."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from eventsourcing.system import Follower

from thespsys.cli.exit_codes import ExitCode
from thespsys.cli.options import resolve_config
from thespsys.cli.render import render_letters, render_status, status_rows
from thespsys.config import Config
from thespsys.control import claim_data_dir, close_system, find_system, start_system
from thespsys.core.system_spec import load_system
from thespsys.engine.dead_letter_queue import DeadLetterQueue
from thespsys.engine.status import ApplicationStatus
from thespsys.errors import ConfigurationError, RunnerStartError
from thespsys.runner import ThespianRunner
from thespsys.state_file import SystemRecord, remove_record, write_record

log = logging.getLogger("thespsys")


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    handler: Callable[[argparse.Namespace], int]
    add_arguments: Callable[[argparse.ArgumentParser], None] = lambda parser: None


def run(arguments: argparse.Namespace) -> int:
    """Run the system in the foreground until SIGTERM or SIGINT."""
    config = resolve_config(arguments)
    configure_logging(config, arguments.debug)
    system = load_system(_topic(config))
    stale = claim_data_dir(config.data_dir)
    if stale is not None:
        log.warning("removed a stale state file (process %d is gone)", stale.pid)
    stopping = threading.Event()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signal_number, lambda *_: stopping.set())
    runner = ThespianRunner(
        system,
        env=config.env_dict,
        pipeline_ids=config.pipeline_ids,
        settings=config.settings,
        join=False,
    )
    runner.start()
    try:
        wait_until_running(runner, config.settings.start_timeout, stopping)
        if stopping.is_set():
            return int(ExitCode.OK)
        assert runner.admin_port is not None and runner.pgid is not None
        write_record(
            config.data_dir,
            SystemRecord(
                pid=os.getpid(),
                pgid=runner.pgid,
                admin_port=runner.admin_port,
                system_topic=_topic(config),
                pipeline_ids=config.pipeline_ids,
                log_file=str(config.log_file) if config.log_file else None,
                started_at=time.time(),
                secret_file=config.settings.secret_file,
                authenticated=config.settings.authenticate,
            ),
        )
        log.warning(
            "running %s on %d pipeline(s), admin port %d",
            _topic(config),
            len(config.pipeline_ids),
            runner.admin_port,
        )
        while not stopping.wait(0.5):
            if not runner.actor_system_alive():
                log.warning("the actor system was shut down from outside")
                break
        log.warning("stopping")
    finally:
        try:
            runner.stop()
        finally:
            remove_record(config.data_dir, os.getpid())
    return int(ExitCode.OK)


def wait_until_running(
    runner: ThespianRunner, timeout: float, stopping: threading.Event
) -> None:
    """Until every application reports ``running``, or raise naming the one
    that does not, with its last error."""
    deadline = time.monotonic() + timeout
    while not stopping.is_set():
        statuses = runner.status()
        waiting = [status for status in statuses if status.state != "running"]
        if not waiting:
            return
        failed = [status for status in waiting if status.is_failed]
        if failed or time.monotonic() >= deadline:
            status = (failed or waiting)[0]
            raise RunnerStartError(
                f"{status.application_name} (pipeline {status.pipeline_id}) is "
                f"{status.state}: {status.last_error or 'no error reported'}"
            )
        stopping.wait(0.1)


def start(arguments: argparse.Namespace) -> int:
    """Run the system detached, and return once it runs."""
    config = resolve_config(arguments)
    load_system(_topic(config))  # fail here, in one line, if it cannot be found
    system = start_system(
        _topic(config),
        config.data_dir,
        config=arguments.config,
        pipelines=arguments.pipelines,
        database_url=arguments.database_url,
        admin_port=arguments.admin_port,
        log_file=config.log_file,
        log_level=config.log_level,
        timeout=config.settings.start_timeout + 10,
    )
    record = system.record
    print(
        f"started {record.system_topic} on {len(record.pipeline_ids)} pipeline(s): "
        f"process {record.pid}, admin port {record.admin_port}, log {record.log_file}"
    )
    return int(ExitCode.OK)


def status(arguments: argparse.Namespace) -> int:
    """The running system's applications, from any process."""
    config = resolve_config(arguments)
    record = find_system(config.data_dir)
    with _joined(config, record) as runner:
        if arguments.watch:
            return _watch(runner, arguments.watch)
        before = runner.status()
        time.sleep(arguments.interval)  # positions again, for events/s
        statuses = runner.status()
    rows = status_rows(before, statuses, arguments.interval)
    if arguments.json:
        print(json.dumps(rows, indent=2))
    else:
        render_status(rows, record)
    return int(health(statuses))


def health(statuses: Sequence[ApplicationStatus]) -> ExitCode:
    """A failed application first; one that retries is not healthy either."""
    if any(status.is_failed for status in statuses):
        return ExitCode.FAILED
    if any(status.is_retrying for status in statuses):
        return ExitCode.RETRYING
    return ExitCode.OK


def _watch(runner: ThespianRunner, interval: float) -> int:
    from rich.live import Live

    from thespsys.cli.render import status_table

    before = runner.status()
    with Live(status_table([]), refresh_per_second=4) as live:
        while True:
            time.sleep(interval)
            statuses = runner.status()
            live.update(status_table(status_rows(before, statuses, interval)))
            before = statuses


@contextmanager
def _joined(config: Config, record: SystemRecord) -> Iterator[ThespianRunner]:
    """A runner that joins the running system for a moment; leaves it running."""
    runner = ThespianRunner(
        load_system(record.system_topic),
        env=config.env_dict,
        pipeline_ids=record.pipeline_ids,
        settings=dataclasses.replace(config.settings, admin_port=record.admin_port),
        join=True,
    )
    runner.start()
    try:
        yield runner
    finally:
        runner.stop()


def stop(arguments: argparse.Namespace) -> int:
    """Close the running system from another process."""
    config = resolve_config(arguments)
    close_system(config.data_dir, arguments.timeout, force=arguments.force)
    print(f"stopped the system of {config.data_dir}")
    return int(ExitCode.OK)


def dead_letters(arguments: argparse.Namespace) -> int:
    """List, retry or skip the parked notifications of an application."""
    config = resolve_config(arguments)
    system = load_system(_topic(config))
    if arguments.application not in system.followers:
        raise ConfigurationError(
            "APPLICATION",
            f"{arguments.application!r} is not a follower of {_topic(config)} "
            f"({', '.join(system.followers)})",
        )
    app = system.follower_cls(arguments.application)(env=config.env_dict)
    try:
        assert isinstance(app, Follower)
        queue = DeadLetterQueue(app, system.follows[app.name], config.env_dict)
        if arguments.action == "list":
            letters = queue.letters(status=None if arguments.all else "parked")
            render_letters(letters, as_json=arguments.json)
            return int(ExitCode.OK)
        if not arguments.ids:
            raise ConfigurationError("IDS", f"{arguments.action} needs letter ids")
        if arguments.action == "skip":
            queue.skip(arguments.ids)
            print(f"skipped {len(arguments.ids)} letter(s)")
            return int(ExitCode.OK)
        report = queue.retry(arguments.ids)
        print(
            f"retried {report.retried}, failed {sorted(report.failed)}, "
            f"held {report.held}"
        )
        return int(ExitCode.FAILED if report.failed else ExitCode.OK)
    finally:
        app.close()


def configure_logging(config: Config, debug: bool) -> None:
    handler: logging.Handler
    if config.log_file is not None:
        config.log_file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(config.log_file)
    else:
        handler = logging.StreamHandler()
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s")
    )
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug else config.log_level)


def _topic(config: Config) -> str:
    if not config.system_topic:
        raise ConfigurationError(
            "system", "no system to run: give --system package.module:attribute"
        )
    return config.system_topic


def _ids(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"letter ids are integers separated by commas: {text!r}"
        ) from None


def _status_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="JSON for machines")
    parser.add_argument(
        "--watch",
        type=float,
        nargs="?",
        const=2.0,
        metavar="SECONDS",
        help="refresh every SECONDS (2) until Ctrl-C",
    )
    parser.add_argument(
        "--interval", type=float, default=1.0, help="seconds to measure events/s"
    )


def _stop_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait")
    parser.add_argument(
        "--force",
        action="store_true",
        help="end every process of a system that does not stop in time",
    )


def _dead_letter_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("application", metavar="APPLICATION")
    parser.add_argument("action", choices=("list", "retry", "skip"))
    parser.add_argument("ids", nargs="?", type=_ids, default=[], metavar="IDS")
    parser.add_argument("--all", action="store_true", help="list resolved ones too")
    parser.add_argument("--json", action="store_true", help="JSON for machines")


COMMANDS: Sequence[Command] = (
    Command("run", "run the system in the foreground", run),
    Command("start", "run the system detached; return once it runs", start),
    Command("status", "the running system's applications", status, _status_arguments),
    Command("stop", "close the running system", stop, _stop_arguments),
    Command(
        "dead-letters",
        "list, retry or skip parked notifications",
        dead_letters,
        _dead_letter_arguments,
    ),
)
