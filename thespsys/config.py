"""Configuration, in one direction: defaults, then a TOML file, then
``THESPSYS_*`` environment variables, into one frozen ``Config``.

The file's ``[runner]`` and ``[restarts]`` tables become ``RunnerSettings``;
its ``[env]`` table is the applications' eventsourcing settings (strings; a
variable of the same name overrides one). Values must have the key's type,
and unknown tables, keys and ``THESPSYS_*`` variables are errors, so a
misspelt setting is never silently ignored; every error names the key and
the file or variable it came from.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from thespsys.core.parsing import from_text, from_toml
from thespsys.core.settings import RunnerSettings
from thespsys.core.supervision import Backoff, RestartPolicy
from thespsys.errors import ConfigurationError

ENV_PREFIX = "THESPSYS_"
TEST_PREFIX = "THESPSYS_TEST_"  # the test suite's own variables
# scripts/; the CLI's file; the secret's value (thespsys.core.secret)
NOT_SETTINGS = {"THESPSYS_VENV", "THESPSYS_CONFIG", "THESPSYS_SECRET"}

RUNNER_KEYS: dict[str, type[Any]] = {
    "base": str,
    "admin_port": int,
    "pipelines": int,
    "poll_interval": float,
    "run_budget": float,
    "read_size": int,
    "batch_size": int,
    "batch_max_delay": float,
    "start_timeout": float,
    "ask_timeout": float,
    "processing_deadline": float,
    "bind_all_interfaces": bool,
    "authenticate": bool,
    "secret_file": str,
    "wakeup_interval": float,
}
SYSTEM_KEYS: dict[str, type[Any]] = {
    "topic": str,
    "data_dir": str,
    "log_file": str,
    "log_level": str,
}
SECRET_FILE_NAME = "secret"  # in the data directory, unless secret_file says
# THESPSYS_<KEY>, but for these:
VARIABLES = {"topic": "THESPSYS_SYSTEM"}
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
RESTART_KEYS: dict[str, type[Any]] = {
    "max_restarts": int,
    "within_seconds": float,
    "backoff_initial": float,
    "backoff_max": float,
}


@dataclass(frozen=True, slots=True)
class Config:
    settings: RunnerSettings
    pipeline_ids: tuple[int, ...]
    env: tuple[tuple[str, str], ...]
    system_topic: str | None = None  # "package.module:attribute"
    data_dir: Path = Path("var")  # state file, log file
    log_file: Path | None = None  # None: stderr (run), data_dir (start)
    log_level: str = "WARNING"

    @property
    def env_dict(self) -> dict[str, str]:
        return dict(self.env)


def load_config(
    path: Path | None = None, environ: Mapping[str, str] | None = None
) -> Config:
    """Read ``path`` (if given) and ``THESPSYS_*`` variables of ``environ``
    (default: ``os.environ``) over the defaults."""
    environ = os.environ if environ is None else environ
    document = _read(path) if path is not None else {}
    where = str(path) if path is not None else "defaults"
    unknown = set(document) - {"runner", "restarts", "system", "env"}
    if unknown:
        raise ConfigurationError(where, f"unknown tables: {', '.join(sorted(unknown))}")
    _refuse_unknown_variables(environ)
    sources: dict[str, str] = {}
    runner = _section(document, "runner", RUNNER_KEYS, where, environ, sources)
    restarts = _section(document, "restarts", RESTART_KEYS, where, environ, sources)
    system = _section(document, "system", SYSTEM_KEYS, where, environ, sources)
    log_level = system.get("log_level", "WARNING").upper()
    if log_level not in LOG_LEVELS:
        raise ConfigurationError(
            sources["log_level"], f"must be one of {', '.join(LOG_LEVELS)}"
        )
    data_dir = Path(system.get("data_dir") or "var")
    runner.setdefault("secret_file", default_secret_file(data_dir))
    pipelines = runner.pop("pipelines", 1)
    if pipelines < 1:
        raise ConfigurationError(sources["pipelines"], "must be at least 1")
    default = RestartPolicy()
    try:
        policy = RestartPolicy(
            max_restarts=restarts.get("max_restarts", default.max_restarts),
            within_seconds=restarts.get("within_seconds", default.within_seconds),
            backoff=Backoff(
                restarts.get("backoff_initial", default.backoff.initial),
                restarts.get("backoff_max", default.backoff.maximum),
            ),
        )
        settings = RunnerSettings(**runner, restarts=policy)
    except ConfigurationError as error:
        message = str(error).removeprefix(f"{error.setting}: ")
        raise ConfigurationError(
            sources.get(error.setting, error.setting), message
        ) from None
    return Config(
        settings=settings,
        pipeline_ids=tuple(range(pipelines)),
        env=_applications_env(document, where, environ),
        system_topic=system.get("topic") or None,
        data_dir=data_dir,
        log_file=Path(system["log_file"]) if system.get("log_file") else None,
        log_level=log_level,
    )


def default_secret_file(data_dir: Path) -> str:
    return str(data_dir / SECRET_FILE_NAME)


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except OSError as error:
        raise ConfigurationError(str(path), f"cannot be read: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigurationError(str(path), f"is not valid TOML: {error}") from None


def _refuse_unknown_variables(environ: Mapping[str, str]) -> None:
    known = {_variable(key) for key in (*RUNNER_KEYS, *RESTART_KEYS, *SYSTEM_KEYS)}
    for variable in sorted(environ):
        if (
            variable.startswith(ENV_PREFIX)
            and variable not in known
            and variable not in NOT_SETTINGS
            and not variable.startswith(TEST_PREFIX)
        ):
            raise ConfigurationError(variable, "is not a thespsys setting")


def _section(
    document: Mapping[str, Any],
    name: str,
    keys: Mapping[str, type[Any]],
    where: str,
    environ: Mapping[str, str],
    sources: dict[str, str],
) -> dict[str, Any]:
    """The table ``name``'s values, each overridden by its variable; where
    each value came from goes into ``sources``."""
    table = document.get(name, {})
    if not isinstance(table, dict):
        raise ConfigurationError(f"{where}: {name}", "must be a table")
    unknown = set(table) - set(keys)
    if unknown:
        raise ConfigurationError(
            f"{where}: [{name}]", f"unknown keys: {', '.join(sorted(unknown))}"
        )
    values = {}
    for key, kind in keys.items():
        variable = _variable(key)
        if variable in environ:
            sources[key] = variable
            values[key] = from_text(variable, environ[variable], kind)
        elif key in table:
            sources[key] = f"{where}: [{name}] {key}"
            values[key] = from_toml(sources[key], table[key], kind)
    return values


def _variable(key: str) -> str:
    return VARIABLES.get(key, ENV_PREFIX + key.upper())


def _applications_env(
    document: Mapping[str, Any], where: str, environ: Mapping[str, str]
) -> tuple[tuple[str, str], ...]:
    """The ``[env]`` table: strings only; a variable of the same name wins."""
    table = document.get("env", {})
    if not isinstance(table, dict):
        raise ConfigurationError(f"{where}: env", "must be a table")
    env = {}
    for key, value in table.items():
        env[key] = environ.get(key, from_toml(f"{where}: [env] {key}", value, str))
    return tuple(sorted(env.items()))
