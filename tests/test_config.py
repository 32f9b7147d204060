"""Defaults, then config/thespsys.toml, then THESPSYS_* variables."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from thespsys.config import RUNNER_KEYS, load_config
from thespsys.errors import ConfigurationError
from thespsys.settings import RunnerSettings
from thespsys.supervision import RestartPolicy

SHIPPED = Path(__file__).parents[1] / "config" / "thespsys.toml"


def test_the_shipped_file_states_the_defaults() -> None:
    config = load_config(SHIPPED, environ={})
    assert config.settings == RunnerSettings()
    assert config.pipeline_ids == (0,)
    assert config.env_dict == {
        "PERSISTENCE_MODULE": "thespsys.persistence",
        "DATABASE_URL": "sqlite:///var/thespsys.db",
    }


def test_every_runner_setting_can_be_configured() -> None:
    settable = set(RUNNER_KEYS) - {"pipelines"}
    assert settable == {f.name for f in fields(RunnerSettings)} - {"restarts"}


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    path = tmp_path / "thespsys.toml"
    path.write_text("[runner]\npoll_interval = 2.0\npipelines = 2\n")
    environ = {
        "THESPSYS_POLL_INTERVAL": "0.25",
        "THESPSYS_MAX_RESTARTS": "20",
        "THESPSYS_BIND_ALL_INTERFACES": "yes",
    }
    config = load_config(path, environ)
    assert config.settings.poll_interval == 0.25
    assert config.settings.bind_all_interfaces is True
    assert config.settings.restarts.max_restarts == 20
    assert config.settings.restarts.within_seconds == RestartPolicy().within_seconds
    assert config.pipeline_ids == (0, 1)


@pytest.mark.parametrize(
    ("text", "environ", "setting"),
    [
        ("[runner]\npoll_intervall = 1\n", {}, "runner"),
        ("[runnr]\n", {}, "unknown tables"),
        ('[runner]\nbatch_size = "many"\n', {}, "runner.batch_size"),
        ("[runner]\npoll_interval = -1\n", {}, "poll_interval"),
        ("", {"THESPSYS_RUN_BUDGET": "soon"}, "THESPSYS_RUN_BUDGET"),
        ("", {"THESPSYS_BIND_ALL_INTERFACES": "maybe"}, "THESPSYS_BIND_ALL"),
        ("[runner]\npipelines = 0\n", {}, "pipelines"),
        ("not toml [", {}, "not valid TOML"),
    ],
)
def test_bad_configuration_names_the_setting(
    tmp_path: Path, text: str, environ: dict[str, str], setting: str
) -> None:
    path = tmp_path / "thespsys.toml"
    path.write_text(text)
    with pytest.raises(ConfigurationError, match=setting):
        load_config(path, environ)


def test_a_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot be read"):
        load_config(tmp_path / "absent.toml", {})
