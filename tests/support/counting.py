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
