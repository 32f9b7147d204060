"""The secret an actor system's messages are sealed with, and where it comes from.

In order: ``THESPSYS_SECRET`` (the value itself, for deployments that hand out
secrets through the environment), else the secret file (``secret_file``; the
CLI's default is ``<data_dir>/secret``), created at first start with mode
0600, else one made at random for this process (only it and the actor
processes it starts know it). Never the command line: other users see it.
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Mapping
from pathlib import Path

from thespsys.errors import ConfigurationError

ENVIRONMENT_VARIABLE = "THESPSYS_SECRET"
MIN_LENGTH = 32  # characters; a new file holds 64 hex digits

_process_secret = secrets.token_bytes(32)


def process_secret() -> bytes:
    return _process_secret


def secret_from_environment(environ: Mapping[str, str]) -> bytes | None:
    value = environ.get(ENVIRONMENT_VARIABLE)
    if value is None:
        return None
    if len(value.strip()) < MIN_LENGTH:
        raise ConfigurationError(
            ENVIRONMENT_VARIABLE,
            f"must be at least {MIN_LENGTH} characters (e.g. `openssl rand -hex 32`)",
        )
    return value.strip().encode()


def read_secret_file(path: Path) -> bytes:
    """The secret in ``path``; refused if others may read it."""
    try:
        mode = path.stat().st_mode
        text = path.read_text().strip()
    except FileNotFoundError:
        raise ConfigurationError(
            "secret_file",
            f"{path} does not exist: the system runs with another secret "
            "file, without authentication, or as another user",
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigurationError(
            "secret_file", f"cannot read {path}: {error}"
        ) from error
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigurationError(
            "secret_file",
            f"{path} may be read by others (mode {stat.S_IMODE(mode):o}): "
            f"chmod 600 {path}",
        )
    if len(text) < MIN_LENGTH:
        raise ConfigurationError(
            "secret_file", f"{path} holds fewer than {MIN_LENGTH} characters"
        )
    return text.encode()


def load_or_create_secret_file(path: Path) -> bytes:
    """The secret in ``path``, made (mode 0600) if there is none yet."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return read_secret_file(path)
    with os.fdopen(descriptor, "w") as file:
        file.write(secrets.token_hex(32) + "\n")
    return read_secret_file(path)


def resolve_secret(
    environ: Mapping[str, str], secret_file: str | None, *, create: bool
) -> bytes:
    """The secret by the order above; ``create``: make a missing file (the
    system's owner does, a process that joins it does not)."""
    from_environment = secret_from_environment(environ)
    if from_environment is not None:
        return from_environment
    if secret_file is not None:
        path = Path(secret_file)
        return load_or_create_secret_file(path) if create else read_secret_file(path)
    return process_secret()
