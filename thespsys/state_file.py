"""What another process needs to find a running system: ``<data_dir>/thespsys.json``.

Written by the process that owns the actor system (``thespsys run``), once it
runs; removed when it stops. A file whose owner is gone is *stale*: the next
``start`` or ``stop`` reports it and cleans up. Written atomically (a new file
renamed over the old), readable only by its user (mode 0600).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from thespsys.core.processes import process_alive
from thespsys.errors import ConfigurationError

FILE_NAME = "thespsys.json"


@dataclass(frozen=True, slots=True)
class SystemRecord:
    pid: int  # the owner: the process that started the actor system
    pgid: int  # the actor system's process group
    admin_port: int
    system_topic: str
    pipeline_ids: tuple[int, ...]
    log_file: str | None
    started_at: float
    # Where the secret its messages are sealed with is (THESPSYS_SECRET comes
    # first; None: no file was configured), and whether they are sealed at all.
    secret_file: str | None = None
    authenticated: bool = True

    @property
    def owner_alive(self) -> bool:
        return process_alive(self.pid)


def state_path(data_dir: Path) -> Path:
    return data_dir / FILE_NAME


def write_record(data_dir: Path, record: SystemRecord) -> Path:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = state_path(data_dir)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump(asdict(record), file, indent=2)
    temporary.replace(path)
    return path


def read_record(data_dir: Path) -> SystemRecord | None:
    """The record in ``data_dir``, or None if there is none."""
    path = state_path(data_dir)
    try:
        data = json.loads(path.read_text())
        return SystemRecord(
            pid=int(data["pid"]),
            pgid=int(data["pgid"]),
            admin_port=int(data["admin_port"]),
            system_topic=str(data["system_topic"]),
            pipeline_ids=tuple(int(i) for i in data["pipeline_ids"]),
            log_file=data.get("log_file"),
            started_at=float(data.get("started_at", time.time())),
            secret_file=data.get("secret_file"),
            authenticated=bool(data.get("authenticated", True)),
        )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as error:
        msg = f"is not a thespsys state file: {error}"
        raise ConfigurationError(str(path), msg) from None


def remove_record(data_dir: Path, pid: int | None = None) -> None:
    """Remove the record (only if it is ``pid``'s, when given)."""
    path = state_path(data_dir)
    if pid is not None:
        try:
            record = read_record(data_dir)
        except ConfigurationError:
            record = None
        if record is not None and record.pid != pid:
            return
    path.unlink(missing_ok=True)
