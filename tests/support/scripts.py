"""Python scripts run as a user would, in a process of their own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]


def run_script(script: str, *arguments: str, output: Path) -> tuple[int, str]:
    """Run ``script`` from the repository root; its exit code and what it
    printed (stdout and stderr). The output goes to a file, not a pipe:
    actors left behind would hold a pipe open, and the wait would hang."""
    with output.open("w") as file:
        result = subprocess.run(
            [sys.executable, "-c", script, *arguments],
            cwd=ROOT,
            stdout=file,
            stderr=subprocess.STDOUT,
            timeout=120,
        )
    return result.returncode, output.read_text()
