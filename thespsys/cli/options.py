"""The configuration flags every command takes, applied over the config file."""

from __future__ import annotations

import argparse
import dataclasses
import os
from pathlib import Path

from thespsys.config import LOG_LEVELS, Config, default_secret_file, load_config
from thespsys.errors import ConfigurationError

DEFAULT_CONFIG = Path("config/thespsys.toml")
CONFIG_VARIABLE = "THESPSYS_CONFIG"


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def add_config_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("configuration (over the config file)")
    group.add_argument(
        "--config",
        type=Path,
        help=f"TOML file (default: ${CONFIG_VARIABLE}, else {DEFAULT_CONFIG} "
        "if it exists)",
    )
    group.add_argument("--system", help="the system: package.module:attribute")
    group.add_argument("--pipelines", type=positive_int, help="number of pipelines")
    group.add_argument("--database-url", help="DATABASE_URL of the applications")
    group.add_argument("--data-dir", type=Path, help="state file and log directory")
    group.add_argument("--admin-port", type=positive_int, help="Thespian admin port")
    group.add_argument("--log-file", type=Path, help="log here instead of stderr")
    group.add_argument(
        "--log-level", choices=LOG_LEVELS, type=str.upper, help="log level"
    )


def resolve_config(arguments: argparse.Namespace) -> Config:
    """Defaults, the file, the environment, then the flags; paths absolute."""
    path = arguments.config or _default_config_path()
    if path is not None and not path.is_file():
        raise ConfigurationError(str(path), "no such config file")
    config = load_config(path)
    settings = config.settings
    if arguments.admin_port:
        try:
            settings = dataclasses.replace(settings, admin_port=arguments.admin_port)
        except ConfigurationError as error:
            raise ConfigurationError("--admin-port", str(error)) from None
    data_dir = (arguments.data_dir or config.data_dir).resolve()
    if settings.secret_file == default_secret_file(config.data_dir):
        # The default follows the data directory the flags name.
        settings = dataclasses.replace(
            settings, secret_file=default_secret_file(data_dir)
        )
    elif settings.secret_file is not None:
        secret_file = str(Path(settings.secret_file).resolve())
        settings = dataclasses.replace(settings, secret_file=secret_file)
    log_file = arguments.log_file or config.log_file
    env = config.env_dict
    if arguments.database_url:
        env["DATABASE_URL"] = arguments.database_url
    return dataclasses.replace(
        config,
        settings=settings,
        pipeline_ids=(
            tuple(range(arguments.pipelines))
            if arguments.pipelines
            else config.pipeline_ids
        ),
        env=tuple(sorted(env.items())),
        system_topic=arguments.system or config.system_topic,
        data_dir=data_dir,
        log_file=log_file.resolve() if log_file else None,
        log_level=arguments.log_level or config.log_level,
    )


def _default_config_path() -> Path | None:
    named = os.environ.get(CONFIG_VARIABLE)
    if named:
        return Path(named)
    return DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else None
