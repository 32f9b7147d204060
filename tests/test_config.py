"""Defaults, then config/thespsys.toml, then THESPSYS_* variables."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from thespsys.config import RUNNER_KEYS, load_config
from thespsys.core.settings import RunnerSettings
from thespsys.core.supervision import RestartPolicy
from thespsys.errors import ConfigurationError

SHIPPED = Path(__file__).parents[1] / "config" / "thespsys.toml"


def test_the_shipped_file_states_the_defaults() -> None:
    config = load_config(SHIPPED, environ={})
    assert config.settings == RunnerSettings(secret_file="var/secret")
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
        ("[runner]\npoll_intervall = 1\n", {}, r"\[runner\]: unknown keys"),
        ("[runnr]\n", {}, "unknown tables"),
        ('[runner]\nbatch_size = "many"\n', {}, r"\[runner\] batch_size"),
        ("[runner]\npoll_interval = -1\n", {}, r"\[runner\] poll_interval"),
        ("[runner]\nadmin_port = 1900.5\n", {}, r"\[runner\] admin_port: expected an"),
        ('[runner]\npipelines = "3"\n', {}, r"\[runner\] pipelines: expected an"),
        ("[runner]\npipelines = -2\n", {}, r"\[runner\] pipelines: must be"),
        ("[runner]\npipelines = 0\n", {}, r"\[runner\] pipelines"),
        ("[restarts]\nmax_restarts = true\n", {}, r"\[restarts\] max_restarts"),
        ("[env]\nDATABASE_URL = 5\n", {}, r"\[env\] DATABASE_URL: expected a str"),
        ("[env.nested]\nKEY = 'x'\n", {}, r"\[env\] nested: expected a str"),
        ("", {"THESPSYS_RUN_BUDGET": "soon"}, "THESPSYS_RUN_BUDGET"),
        ("", {"THESPSYS_BIND_ALL_INTERFACES": "maybe"}, "THESPSYS_BIND_ALL"),
        ("", {"THESPSYS_ADMIN_PORT": "1900.5"}, "THESPSYS_ADMIN_PORT: expected an"),
        ("", {"THESPSYS_PIPELINES": "-2"}, "THESPSYS_PIPELINES: must be at least"),
        ("", {"THESPSYS_BOGUS": "1"}, "THESPSYS_BOGUS: is not a thespsys setting"),
        ("not toml [", {}, "not valid TOML"),
    ],
)
def test_bad_configuration_names_the_setting_and_its_source(
    tmp_path: Path, text: str, environ: dict[str, str], setting: str
) -> None:
    path = tmp_path / "thespsys.toml"
    path.write_text(text)
    with pytest.raises(ConfigurationError, match=setting) as caught:
        load_config(path, environ)
    if not environ:
        assert str(path) in str(caught.value)


def test_variables_override_the_applications_env(tmp_path: Path) -> None:
    path = tmp_path / "thespsys.toml"
    path.write_text('[env]\nDATABASE_URL = "sqlite:///a.db"\nERROR_POLICY = "park"\n')
    config = load_config(path, {"DATABASE_URL": "sqlite:///b.db"})
    assert config.env_dict == {
        "DATABASE_URL": "sqlite:///b.db",
        "ERROR_POLICY": "park",
    }


def test_the_test_suites_variables_are_not_settings() -> None:
    environ = {
        "THESPSYS_TEST_POSTGRES_URL": "x",
        "THESPSYS_VENV": "/tmp/venv",
        "THESPSYS_SECRET": "x" * 32,
    }
    assert load_config(None, environ).settings == RunnerSettings(
        secret_file="var/secret"
    )


def test_the_secret_file_is_in_the_data_directory_unless_configured() -> None:
    assert load_config(None, {"THESPSYS_DATA_DIR": "/srv/a"}).settings.secret_file == (
        "/srv/a/secret"
    )
    environ = {"THESPSYS_DATA_DIR": "/srv/a", "THESPSYS_SECRET_FILE": "/etc/s"}
    assert load_config(None, environ).settings.secret_file == "/etc/s"


def test_a_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot be read"):
        load_config(tmp_path / "absent.toml", {})
