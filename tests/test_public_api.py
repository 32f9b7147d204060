"""The package's public names, and the README's example, run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import thespsys

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
