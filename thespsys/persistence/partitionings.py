"""The partitioning a process application reads each leader in, kept durably.

One row per leader: the pipeline count in force and the per-slice watermarks
of earlier partitionings (see ``thespsys.engine.rescaling``). A change is recorded
with compare-and-set on the row it replaces, in the transaction that also
moves the new partitions' tracking positions, so two starters racing with
different counts cannot both win, and a crash leaves the old state whole.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import IntegrityError
from sqlalchemy import (
    bindparam,
    insert,
    select,
    update,
)

from thespsys.core.partitionings import Partitioning, PartitioningChange, Watermarks
from thespsys.persistence.datastore import Datastore
from thespsys.persistence.schema import partitionings_table


class SQLPartitioningRecorder:
    """The partitionings of one process application."""

    def __init__(self, datastore: Datastore, table_name: str) -> None:
        self.datastore = datastore
        self.table = table = partitionings_table(table_name)
        c = table.c
        self._select = datastore.compile(
            select(c.partition_count, c.watermarks).where(
                c.leader_name == bindparam("leader_name")
            )
        )
        self._insert = datastore.compile(
            insert(table).values(
                leader_name=bindparam("leader_name"),
                partition_count=bindparam("partition_count"),
                watermarks=bindparam("watermarks"),
            )
        )
        self._replace = datastore.compile(
            update(table)
            .where(
                c.leader_name == bindparam("leader_name"),
                c.partition_count == bindparam("old_count"),
                c.watermarks == bindparam("old_watermarks"),
            )
            .values(
                partition_count=bindparam("partition_count"),
                watermarks=bindparam("watermarks"),
            )
        )

    def get(self, leader_name: str) -> Partitioning | None:
        with self.datastore.read() as cursor:
            cursor.execute(self._select, {"leader_name": leader_name})
            row = cursor.fetchone()
        if row is None:
            return None
        return Partitioning(int(row[0]), Watermarks.from_json(row[1]))

    def record(self, cursor: Any, change: PartitioningChange) -> None:
        """Replace ``change.recorded`` by ``change.target``, or fail with
        ``IntegrityError`` if the row is no longer ``change.recorded``."""
        target = {
            "leader_name": change.leader_name,
            "partition_count": change.target.count,
            "watermarks": change.target.watermarks.to_json(),
        }
        if change.recorded is None:
            cursor.execute(self._insert, target)  # a second insert conflicts
            return
        cursor.execute(
            self._replace,
            {
                **target,
                "old_count": change.recorded.count,
                "old_watermarks": change.recorded.watermarks.to_json(),
            },
        )
        if cursor.rowcount != 1:
            msg = (
                f"the partitioning of {change.leader_name} changed while "
                f"changing it to {change.target.count} pipeline(s)"
            )
            raise IntegrityError(msg)
