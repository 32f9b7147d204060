"""The infrastructure factory that eventsourcing finds via PERSISTENCE_MODULE."""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Any, TypeVar, cast

from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    InfrastructureFactory,
    ProcessRecorder,
)
from eventsourcing.utils import Environment, EnvType, resolve_topic

from thespsys.persistence.aggregate import SQLAggregateRecorder
from thespsys.persistence.application import SQLApplicationRecorder
from thespsys.persistence.datastore import Datastore
from thespsys.persistence.naming import (
    events_table_name,
    safe_identifier,
    table_prefix,
)
from thespsys.persistence.settings import (
    StoreSettings,
    create_table_enabled,
    read_settings,
)
from thespsys.persistence.tracking import SQLProcessRecorder, SQLTrackingRecorder

logger = logging.getLogger(__name__)

TSQLTrackingRecorder = TypeVar("TSQLTrackingRecorder", bound=SQLTrackingRecorder)


class SQLFactory(InfrastructureFactory[SQLTrackingRecorder]):
    """Recorders on a SQLite file or PostgreSQL, chosen by ``DATABASE_URL``.

    Construction validates the settings (``ConfigurationError`` naming the
    offending key) and takes the process's shared engine for the URL; it does
    not connect. Tables are ``<app>_events``, ``<app>_snapshots`` and, for
    process applications, ``<app>_tracking``, ``<app>_dead_letters`` and
    ``<app>_partitionings`` (app = lower-cased application name), created by
    each recorder unless ``CREATE_TABLE`` is false.
    """

    aggregate_recorder_class: type[SQLAggregateRecorder] = SQLAggregateRecorder
    application_recorder_class: type[SQLApplicationRecorder] = SQLApplicationRecorder
    tracking_recorder_class: type[SQLTrackingRecorder] = SQLTrackingRecorder
    process_recorder_class: type[SQLProcessRecorder] = SQLProcessRecorder

    def __init__(self, env: Environment | EnvType | None) -> None:
        super().__init__(env)
        self.settings: StoreSettings = read_settings(self.env)
        self.datastore = Datastore(
            self.settings.url,
            options=self.settings.engine_options,
            originator_id_type=self.settings.originator_id_type,
        )

    # Table names: like eventsourcing.postgres, made safe for any length.

    def _events_table_name(self, purpose: str = "events") -> str:
        if purpose == "events":
            return events_table_name(self.env.name)
        return safe_identifier(table_prefix(self.env.name, "stored"), "_" + purpose)

    def _tracking_table_name(self) -> str:
        return safe_identifier(table_prefix(self.env.name, "notification"), "_tracking")

    def _created(self, recorder: Any) -> Any:
        if create_table_enabled(self.env):
            recorder.create_table()
        return recorder

    def _topic_class(self, key: str, default: type[Any]) -> type[Any]:
        topic = self.env.get(key)
        if not topic:
            return default
        cls = resolve_topic(topic)
        if not (isinstance(cls, type) and issubclass(cls, default)):
            msg = f"{key}={topic!r} is not a subclass of {default.__name__}"
            raise TypeError(msg)
        return cls

    def aggregate_recorder(self, purpose: str = "events") -> AggregateRecorder:
        cls = type(self).aggregate_recorder_class
        recorder = cls(
            self.datastore, events_table_name=self._events_table_name(purpose)
        )
        return cast(AggregateRecorder, self._created(recorder))

    def application_recorder(self) -> ApplicationRecorder:
        cls = self._topic_class(
            self.APPLICATION_RECORDER_TOPIC, type(self).application_recorder_class
        )
        recorder = cls(self.datastore, events_table_name=self._events_table_name())
        return cast(ApplicationRecorder, self._created(recorder))

    def tracking_recorder(
        self, tracking_recorder_class: type[TSQLTrackingRecorder] | None = None
    ) -> TSQLTrackingRecorder:
        cls = tracking_recorder_class or self._topic_class(
            self.TRACKING_RECORDER_TOPIC, type(self).tracking_recorder_class
        )
        recorder = cls(self.datastore, tracking_table_name=self._tracking_table_name())
        return cast(TSQLTrackingRecorder, self._created(recorder))

    def process_recorder(self) -> ProcessRecorder:
        cls = self._topic_class(
            self.PROCESS_RECORDER_TOPIC, type(self).process_recorder_class
        )
        recorder = cls(
            self.datastore,
            events_table_name=self._events_table_name(),
            tracking_table_name=self._tracking_table_name(),
        )
        return cast(ProcessRecorder, self._created(recorder))

    def close(self) -> None:
        """Release this factory's hold on the shared engine."""
        self.datastore.close()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        super().__exit__(exc_type, exc_val, exc_tb)
        self.close()
