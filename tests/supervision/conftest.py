from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture
def faults_env(store_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """The test database, a folder for the Faulty application's markers, and
    short retry delays."""
    faults = tmp_path / "faults"
    faults.mkdir()
    return {
        **store_env,
        "FAULTS_DIR": str(faults),
        "TEST_PID": str(os.getpid()),
        "RETRY_BACKOFF_INITIAL": "0.05",
        "RETRY_BACKOFF_MAX": "0.2",
    }
