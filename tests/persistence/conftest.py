from __future__ import annotations

from collections.abc import Iterator

import pytest

from thespsys.persistence import dispose_engines


@pytest.fixture(autouse=True)
def _dispose_engines() -> Iterator[None]:
    """No test leaves pooled connections behind for the next one."""
    yield
    dispose_engines()
