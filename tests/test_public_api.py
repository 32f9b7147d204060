"""The package's public names, and the README's example, run as written."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import thespsys
from thespsys.cli.exit_codes import ExitCode

README = Path(__file__).parents[1] / "README.md"


def test_all_is_sorted_and_importable() -> None:
    assert thespsys.__all__ == sorted(thespsys.__all__)
    for name in thespsys.__all__:
        assert getattr(thespsys, name) is not None


@pytest.mark.actors
def test_readme_example_runs(sqlite_url: str) -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.DOTALL)
    assert blocks, "the README has no Python example"
    source = blocks[0].replace("sqlite:///var/orders.db", sqlite_url)
    assert sqlite_url in source
    exec(compile(source, str(README), "exec"), {})


def test_every_error_is_a_thespsys_error_defined_in_errors_and_exported() -> None:
    defined = []
    for module_info in pkgutil.walk_packages(thespsys.__path__, "thespsys."):
        if module_info.name.endswith("__main__"):
            continue  # running it is the command
        module = importlib.import_module(module_info.name)
        defined += [
            value
            for value in vars(module).values()
            if isinstance(value, type)
            and issubclass(value, BaseException)
            and value.__module__ == module.__name__
        ]
    assert {error.__module__ for error in defined} == {"thespsys.errors"}
    assert all(issubclass(error, thespsys.ThespsysError) for error in defined)
    assert {error.__name__ for error in defined} <= set(thespsys.__all__)


def test_the_readme_lists_every_exit_code_of_the_command() -> None:
    listed = {
        int(code) for code in re.findall(r"^\s*\| (\d+) \| ", README.read_text(), re.M)
    }
    assert listed == {int(code) for code in ExitCode}
