"""The retry, stop and park decision, without actors."""

from __future__ import annotations

from thespsys.core.states import FailureKind
from thespsys.core.supervision import Backoff, ErrorHandling, ErrorPolicy
from thespsys.engine.failures import Action, Decision, FailureDecider, ParkOrder

BACKOFF = Backoff(initial=0.1, maximum=0.4)


def notification_failure(decider: FailureDecider, notification_id: int = 7) -> Decision:
    return decider.decide(
        FailureKind.NOTIFICATION,
        "ValueError: no",
        "Traceback",
        "Notes",
        notification_id,
    )


def test_retry_backs_off_per_notification_and_starts_afresh_after_a_success() -> None:
    decider = FailureDecider(ErrorHandling(ErrorPolicy.RETRY, backoff=BACKOFF))
    decisions = [notification_failure(decider) for _ in range(4)]
    assert [d.delay for d in decisions] == [0.1, 0.2, 0.4, 0.4]
    assert [d.attempts for d in decisions] == [1, 2, 3, 4]
    assert notification_failure(decider, notification_id=8).delay == 0.1
    decider.succeeded()
    assert notification_failure(decider) == Decision(Action.RETRY, 0.1)


def test_stop_stops_at_the_first_failure() -> None:
    decider = FailureDecider(ErrorHandling(ErrorPolicy.STOP))
    assert notification_failure(decider).action is Action.STOP


def test_park_after_the_attempts_orders_a_park_with_the_next_run() -> None:
    decider = FailureDecider(
        ErrorHandling(ErrorPolicy.PARK, park_after=2, backoff=BACKOFF)
    )
    assert notification_failure(decider) == Decision(Action.RETRY, 0.1, 1)
    assert decider.park is None
    assert notification_failure(decider) == Decision(Action.RETRY, 0.0, 2)
    assert decider.park == ParkOrder("Notes", 7, 2, "ValueError: no", "Traceback")
    decider.succeeded()
    assert decider.park is None


def test_database_failures_back_off_and_a_failed_start_restarts() -> None:
    decider = FailureDecider(ErrorHandling(ErrorPolicy.STOP, backoff=BACKOFF))
    database = [decider.decide(FailureKind.DATABASE, "down", "") for _ in range(3)]
    assert [d.delay for d in database] == [0.1, 0.2, 0.4]
    assert [d.attempts for d in database] == [1, 2, 3]
    assert {d.action for d in database} == {Action.RETRY}  # whatever the policy
    assert decider.decide(FailureKind.START, "boom", "").action is Action.RESTART
