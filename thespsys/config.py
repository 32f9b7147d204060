"""Configuration, in one direction: defaults, then a TOML file, then
``THESPSYS_*`` environment variables, into one frozen ``Config``.

The file's ``[runner]`` and ``[restarts]`` tables become ``RunnerSettings``;
its ``[env]`` table is the applications' eventsourcing settings. Unknown keys
are errors, so a misspelt setting is never silently ignored.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from thespsys.errors import ConfigurationError
from thespsys.settings import RunnerSettings
from thespsys.supervision import Backoff, RestartPolicy

ENV_PREFIX = "THESPSYS_"

RUNNER_KEYS: dict[str, type] = {
    "base": str,
    "admin_port": int,
    "pipelines": int,
    "poll_interval": float,
    "run_budget": float,
    "batch_size": int,
    "start_timeout": float,
    "ask_timeout": float,
    "processing_deadline": float,
    "bind_all_interfaces": bool,
}
RESTART_KEYS: dict[str, type] = {
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
    unknown = set(document) - {"runner", "restarts", "env"}
    if unknown:
        raise ConfigurationError(where, f"unknown tables: {', '.join(sorted(unknown))}")
    runner = _section(document, "runner", RUNNER_KEYS, where, environ)
    restarts = _section(document, "restarts", RESTART_KEYS, where, environ)
    env = document.get("env", {})
    if not isinstance(env, dict):
        raise ConfigurationError(f"{where}: env", "must be a table")
    pipelines = runner.pop("pipelines", 1)
    if pipelines < 1:
        raise ConfigurationError("pipelines", "must be at least 1")
    default = RestartPolicy()
    policy = RestartPolicy(
        max_restarts=restarts.get("max_restarts", default.max_restarts),
        within_seconds=restarts.get("within_seconds", default.within_seconds),
        backoff=Backoff(
            restarts.get("backoff_initial", default.backoff.initial),
            restarts.get("backoff_max", default.backoff.maximum),
        ),
    )
    return Config(
        settings=RunnerSettings(**runner, restarts=policy),
        pipeline_ids=tuple(range(pipelines)),
        env=tuple(sorted((str(k), str(v)) for k, v in env.items())),
    )


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except OSError as error:
        raise ConfigurationError(str(path), f"cannot be read: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigurationError(str(path), f"is not valid TOML: {error}") from None


def _section(
    document: Mapping[str, Any],
    name: str,
    keys: Mapping[str, type],
    where: str,
    environ: Mapping[str, str],
) -> dict[str, Any]:
    table = document.get(name, {})
    if not isinstance(table, dict):
        raise ConfigurationError(f"{where}: {name}", "must be a table")
    unknown = set(table) - set(keys)
    if unknown:
        raise ConfigurationError(
            f"{where}: {name}", f"unknown keys: {', '.join(sorted(unknown))}"
        )
    values = {
        key: _typed(f"{where}: {name}.{key}", table[key], keys[key]) for key in table
    }
    for key, kind in keys.items():
        variable = ENV_PREFIX + key.upper()
        if variable in environ:
            values[key] = _typed(variable, environ[variable], kind)
    return values


def _typed(setting: str, value: Any, kind: type) -> Any:
    if kind is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in {"1", "true", "yes", "on"}:
            return True
        if text in {"0", "false", "no", "off"}:
            return False
        raise ConfigurationError(setting, f"expected true or false, got {value!r}")
    if isinstance(value, bool) or (kind is str and not isinstance(value, str)):
        raise ConfigurationError(setting, f"expected a {kind.__name__}, got {value!r}")
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise ConfigurationError(
            setting, f"expected a {kind.__name__}, got {value!r}"
        ) from None
