"""Where an actor system's secret comes from, and the files it lives in."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from thespsys.core.secret import (
    load_or_create_secret_file,
    process_secret,
    resolve_secret,
)
from thespsys.errors import ConfigurationError


def test_the_first_start_makes_a_file_only_its_user_reads(tmp_path: Path) -> None:
    path = tmp_path / "data" / "secret"
    secret = resolve_secret({}, str(path), create=True)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(secret) == 64
    assert resolve_secret({}, str(path), create=True) == secret
    assert resolve_secret({}, str(path), create=False) == secret


def test_a_joiner_does_not_make_one(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    with pytest.raises(ConfigurationError, match="does not exist"):
        resolve_secret({}, str(path), create=False)
    assert not path.exists()


def test_a_file_others_may_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    load_or_create_secret_file(path)
    path.chmod(0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        resolve_secret({}, str(path), create=False)


@pytest.mark.parametrize("kind", ["directory", "binary"])
def test_a_secret_file_that_cannot_be_read_is_named(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "secret"
    if kind == "directory":
        path.mkdir(mode=0o700)
    else:
        path.write_bytes(bytes(range(128, 256)))
        path.chmod(0o600)
    for create in (False, True):
        with pytest.raises(ConfigurationError, match=f"cannot read {path}"):
            resolve_secret({}, str(path), create=create)


def test_a_short_secret_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.write_text("short\n")
    path.chmod(0o600)
    with pytest.raises(ConfigurationError, match="fewer than 32"):
        resolve_secret({}, str(path), create=True)
    with pytest.raises(ConfigurationError, match="THESPSYS_SECRET"):
        resolve_secret({"THESPSYS_SECRET": "short"}, None, create=True)


def test_the_environment_comes_first_then_the_file_then_the_process(
    tmp_path: Path,
) -> None:
    value = "e" * 40
    path = str(tmp_path / "secret")
    assert (
        resolve_secret({"THESPSYS_SECRET": value}, path, create=True) == value.encode()
    )
    assert not Path(path).exists()
    assert resolve_secret({}, path, create=True) != process_secret()
    assert resolve_secret({}, None, create=True) == process_secret()
