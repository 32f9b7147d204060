"""Process helpers on real processes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from thespsys.core.processes import process_alive, wait_for

# A parent forks a child and exits; only then does the child ask to die with
# its parent, as an actor does in its constructor.
ORPHAN = textwrap.dedent(
    """
    import multiprocessing, os, sys, time
    from pathlib import Path
    from thespsys.core.processes import die_with_parent

    out = Path(sys.argv[1])

    def child(parent_pid):
        (out / "pid").write_text(str(os.getpid()))
        while os.getppid() == parent_pid:
            time.sleep(0.01)
        die_with_parent()
        time.sleep(1)
        (out / "survived").write_text("")

    if __name__ == "__main__":
        multiprocessing.get_context("fork").Process(
            target=child, args=(os.getpid(),)
        ).start()
        while not (out / "pid").exists():
            time.sleep(0.01)
        os._exit(0)
    """
)


def test_a_process_whose_parent_died_before_it_asked_to_die_with_it_dies(
    tmp_path: Path,
) -> None:
    subprocess.run(
        [sys.executable, "-c", ORPHAN, str(tmp_path)], check=True, timeout=30
    )
    pid = int((tmp_path / "pid").read_text())
    assert wait_for(lambda: not process_alive(pid), 10)
    assert not (tmp_path / "survived").exists()
