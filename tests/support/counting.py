"""Count what an application has recorded, to compare runners."""

from __future__ import annotations

from collections import Counter
from typing import Any

from eventsourcing.application import Application
from eventsourcing.system import Runner


def topic_counts(app: Application[Any]) -> Counter[str]:
    counts: Counter[str] = Counter()
    start = 0
    while True:
        page = app.recorder.select_notifications(start, 500, inclusive_of_start=False)
        counts.update(notification.topic for notification in page)
        if len(page) < 500:
            return counts
        start = page[-1].id


def counts_by_application(runner: Runner[Any]) -> dict[str, Counter[str]]:
    return {
        name: topic_counts(runner.get(runner.system.get_app_cls(name)))
        for name in runner.system.nodes
    }


def events_by_aggregate(app: Application[Any]) -> dict[str, list[tuple[Any, ...]]]:
    """Every event of ``app`` by aggregate, in version order, without the
    timestamps: what two runners given the same commands must both record."""
    aggregates: dict[str, list[tuple[Any, ...]]] = {}
    start = 0
    while True:
        page = app.recorder.select_notifications(start, 500, inclusive_of_start=False)
        for notification in page:
            domain_event = app.mapper.to_domain_event(notification)
            attributes = sorted(
                (name, value)
                for name, value in vars(domain_event).items()
                if name != "timestamp"
            )
            aggregates.setdefault(str(notification.originator_id), []).append(
                (notification.originator_version, notification.topic, attributes)
            )
        if len(page) < 500:
            break
        start = page[-1].id
    return {key: sorted(events) for key, events in sorted(aggregates.items())}


def events_by_application(runner: Runner[Any]) -> dict[str, Any]:
    return {
        name: events_by_aggregate(runner.get(runner.system.get_app_cls(name)))
        for name in runner.system.nodes
    }
