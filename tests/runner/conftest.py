from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from thespsys.actors.message_counts import count_messages, stop_counting


@pytest.fixture
def counts_dir(tmp_path: Path) -> Iterator[Path]:
    """Every actor started meanwhile counts its messages into this folder."""
    directory = tmp_path / "counts"
    count_messages(directory)
    try:
        yield directory
    finally:
        stop_counting()
