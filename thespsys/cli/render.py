"""The ``status`` and ``dead-letters`` tables, with rich, and their JSON."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from rich.console import Console
from rich.table import Table

from thespsys.engine.status import ApplicationStatus
from thespsys.persistence.dead_letters import DeadLetter
from thespsys.state_file import SystemRecord

STATE_STYLES = {
    "running": "green",
    "parked": "yellow",
    "retrying": "yellow",
    "restarting": "yellow",
    "starting": "cyan",
    "failed": "bold red",
}


def _position(status: ApplicationStatus) -> int:
    return sum(lag.position or 0 for lag in status.lags)


def status_rows(
    before: Sequence[ApplicationStatus],
    after: Sequence[ApplicationStatus],
    seconds: float,
) -> list[dict[str, Any]]:
    """One row per application and pipeline; ``events_per_second`` from the
    positions ``seconds`` apart."""
    earlier = {(s.application_name, s.pipeline_id): _position(s) for s in before}
    rows = []
    for status in after:
        key = (status.application_name, status.pipeline_id)
        moved = _position(status) - earlier.get(key, _position(status))
        rows.append(
            {
                "application": status.application_name,
                "pipeline": status.pipeline_id,
                "partition": str(status.partition) if status.partition else None,
                "state": status.state,
                "rescaling": status.rescaling,
                "positions": {lag.leader: lag.position for lag in status.lags},
                "behind": status.behind,
                "events_per_second": round(moved / seconds, 1) if seconds else None,
                "restarts": status.restarts,
                "parked": status.parked,
                "attempts": status.attempts,
                "retry_in": status.retry_in,
                "last_error": status.last_error,
                "master_pid": status.master_pid,
                "slave_pid": status.slave_pid,
            }
        )
    return rows


def status_table(rows: Sequence[dict[str, Any]]) -> Table:
    table = Table(title="thespsys status", expand=False)
    for column in ("application", "pipeline", "state", "position", "behind"):
        table.add_column(column, justify="right" if column != "application" else "left")
    for column in ("events/s", "restarts", "parked", "last error"):
        table.add_column(column, justify="left" if column == "last error" else "right")
    for row in rows:
        state = row["state"] + (" (rescaling)" if row["rescaling"] else "")
        if row["state"] == "retrying":
            state += _retrying(row)
        style = STATE_STYLES.get(row["state"], "")
        table.add_row(
            row["application"],
            f"{row['pipeline']} ({row['partition']})",
            f"[{style}]{state}[/]" if style else state,
            _positions(row["positions"]),
            str(row["behind"]),
            str(row["events_per_second"]),
            str(row["restarts"]),
            str(row["parked"]),
            (row["last_error"] or "").splitlines()[0][:60] if row["last_error"] else "",
        )
    return table


def _retrying(row: dict[str, Any]) -> str:
    """``retrying (attempt 4, next in 0.8 s)``: so that it cannot be missed."""
    next_in = f", next in {row['retry_in']:.2g} s" if row["retry_in"] else ""
    return f" (attempt {row['attempts']}{next_in})"


def _positions(positions: dict[str, int | None]) -> str:
    if len(positions) == 1:
        return str(next(iter(positions.values())) or "-")
    return " ".join(
        f"{leader}:{position or '-'}" for leader, position in positions.items()
    )


def _console() -> Console:
    """A terminal's width, or a wide one for a pipe or a file."""
    console = Console()
    return console if console.is_terminal else Console(width=160)


def render_status(rows: Sequence[dict[str, Any]], record: SystemRecord) -> None:
    console = _console()
    up = time.time() - record.started_at
    console.print(
        f"{record.system_topic}: process {record.pid}, admin port "
        f"{record.admin_port}, up {up:.0f} s"
    )
    console.print(status_table(rows))
    for line in attention_lines(rows):
        console.print(line, style="bold", highlight=False, markup=False)


def attention_lines(rows: Sequence[dict[str, Any]]) -> list[str]:
    """Under the table, one line per application that retries or has failed,
    with its whole last error: the table cuts it short."""
    lines = []
    for row in rows:
        if row["state"] not in ("retrying", "failed"):
            continue
        what = (
            f"is retrying{_retrying(row)}"
            if row["state"] == "retrying"
            else "has failed"
        )
        error = (row["last_error"] or "no error reported").splitlines()[0]
        lines.append(
            f"{row['application']} (pipeline {row['pipeline']}) {what}: {error}"
        )
    return lines


def render_letters(letters: Sequence[DeadLetter], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps([asdict(letter) for letter in letters], default=str, indent=2))
        return
    table = Table(title="dead letters")
    for column in ("id", "upstream", "notification", "originator", "status", "error"):
        table.add_column(column)
    for letter in letters:
        table.add_row(
            str(letter.id),
            letter.tracking_name,
            str(letter.notification_id),
            letter.originator_id,
            letter.status,
            letter.error.splitlines()[0][:60] if letter.error else "",
        )
    _console().print(table)
