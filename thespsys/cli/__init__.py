"""The ``thespsys`` command: run, start, status, stop and dead letters.

Thin over the public API. Configuration flows one way: defaults,
``--config FILE`` (or ``THESPSYS_CONFIG``, or ``config/thespsys.toml`` in the
current directory if there is one), ``THESPSYS_*`` variables, then the flags.
Every error is one line on stderr and a named exit code; ``--debug`` adds
the traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from eventsourcing.persistence import PersistenceError
from eventsourcing.system import EventProcessingError

from thespsys.cli.commands import COMMANDS
from thespsys.cli.exit_codes import ExitCode
from thespsys.cli.options import add_config_options
from thespsys.errors import (
    ActorSystemError,
    AlreadyRunningError,
    AuthenticationError,
    ConfigurationError,
    DetachedStartError,
    NotRunningError,
    RunnerStartError,
    StopTimeoutError,
    ThespsysError,
)

PROGRAM = "thespsys"

# The first match, in this order, says how a command that raised ends.
EXIT_CODES: tuple[tuple[type[BaseException], ExitCode], ...] = (
    (ConfigurationError, ExitCode.CONFIGURATION),
    (NotRunningError, ExitCode.NOT_RUNNING),
    (AlreadyRunningError, ExitCode.ALREADY_RUNNING),
    (StopTimeoutError, ExitCode.TIMEOUT),
    (RunnerStartError, ExitCode.START_FAILED),
    (DetachedStartError, ExitCode.START_FAILED),
    (AuthenticationError, ExitCode.AUTHENTICATION),
    (ActorSystemError, ExitCode.START_FAILED),
    (PersistenceError, ExitCode.DATABASE),
    (EventProcessingError, ExitCode.FAILED),
    (ThespsysError, ExitCode.FAILED),
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROGRAM, description=__doc__.splitlines()[0])
    parser.add_argument(
        "--debug", action="store_true", help="tracebacks with errors, debug logs"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        sub = commands.add_parser(command.name, help=command.help)
        add_config_options(sub)
        command.add_arguments(sub)
        sub.set_defaults(handler=command.handler)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    arguments = parser.parse_args(argv)
    try:
        return int(arguments.handler(arguments))
    except KeyboardInterrupt:
        return int(ExitCode.INTERRUPTED)
    except Exception as error:
        code = exit_code(error)
        unexpected = code is ExitCode.FAILED and not isinstance(error, ThespsysError)
        if unexpected and not arguments.debug:
            error = RuntimeError(f"unexpected {type(error).__name__}: {error}")
        prefix = "database: " if code is ExitCode.DATABASE else ""
        print(f"{PROGRAM}: error: {prefix}{one_line(error)}", file=sys.stderr)
        if arguments.debug:
            logging.getLogger(__name__).exception("the traceback")
        if isinstance(error, DetachedStartError) and error.exit_code:
            return error.exit_code
        return int(code)


def exit_code(error: BaseException) -> ExitCode:
    for kind, code in EXIT_CODES:
        if isinstance(error, kind):
            return code
    return ExitCode.FAILED


def one_line(error: BaseException) -> str:
    if isinstance(error, EventProcessingError) and error.__cause__ is not None:
        error = error.__cause__  # which application, where: not only the message
    text = str(error).strip() or type(error).__name__
    return " ".join(text.splitlines()[0].split()) if "\n" in text else text
