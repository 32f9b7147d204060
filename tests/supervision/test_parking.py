"""The park error policy: an ordered dead-letter queue, retried or skipped once."""

from __future__ import annotations

from pathlib import Path

import pytest
from eventsourcing.system import System

from tests.runner.apps import Notes
from tests.supervision.apps import Faulty
from tests.support.actors import running, status_of, wait_for_status
from thespsys.core.settings import RunnerSettings
from thespsys.errors import ConfigurationError
from thespsys.runner import ThespianRunner

pytestmark = pytest.mark.actors

SETTINGS = RunnerSettings(poll_interval=0.2)


@pytest.fixture
def env(faults_env: dict[str, str]) -> dict[str, str]:
    return {**faults_env, "FAULTY_ERROR_POLICY": "park", "PARK_AFTER_ATTEMPTS": "2"}


def test_park_keeps_an_originators_order_and_others_go_on(env: dict[str, str]) -> None:
    system = System(pipes=[[Notes, Faulty]])
    with running(system, env, settings=SETTINGS) as runner:
        notes = runner.get(Notes)
        bad = notes.write("fail-times-3")
        notes.amend(bad, "first amendment")
        good = notes.write("good")
        notes.amend(bad, "second amendment")
        notes.amend(good, "good amendment")
        runner.wait(timeout=30)

        faulty = runner.get(Faulty)
        assert faulty.count("Note.Written") == 1  # "good" only
        assert faulty.count("Note.Amended") == 1  # the good one only
        queue = runner.dead_letters(Faulty)
        parked = queue.letters()
        assert [(p.originator_id, p.attempts) for p in parked] == [
            (str(bad), 2),
            (str(bad), 0),
            (str(bad), 0),
        ]
        assert "failing 'fail-times-3' on purpose" in parked[0].error
        assert "Traceback" in parked[0].traceback
        assert "parked behind" in parked[1].error
        status = wait_for_status(runner, "Faulty", lambda s: s.parked == 3)
        assert status.state == "parked"

        # Retrying the last one retries the earlier ones first, in order; the
        # first fails once more (its third failure), so the rest are held.
        report = queue.retry([parked[2].id])
        assert report.retried == [] and list(report.failed) == [parked[0].id]
        assert report.held == [parked[1].id, parked[2].id]
        assert queue.letters()[0].attempts == 3

        report = queue.retry()
        assert report.retried == [letter.id for letter in parked]
        assert queue.letters() == []
        assert [letter.status for letter in queue.letters(None)] == ["retried"] * 3
        assert faulty.count("Note.Written") == 2
        assert faulty.count("Note.Amended") == 3
        with pytest.raises(LookupError):
            queue.retry([parked[0].id])  # exactly once

        # The originator is no longer parked: new events go straight through.
        notes.amend(bad, "third amendment")
        runner.wait(timeout=30)
        assert faulty.count("Note.Amended") == 4
        assert status_of(runner, "Faulty").parked == 0


def test_skipped_letters_are_never_processed(env: dict[str, str]) -> None:
    with running(System(pipes=[[Notes, Faulty]]), env, settings=SETTINGS) as runner:
        notes = runner.get(Notes)
        bad = notes.write("fail-always")
        notes.amend(bad, "amended")
        runner.wait(timeout=30)
        queue = runner.dead_letters(Faulty)
        first, second = queue.letters()
        queue.skip([first.id])
        assert queue.retry().retried == [second.id]
        assert [letter.status for letter in queue.letters(None)] == [
            "skipped",
            "retried",
        ]
        faulty = runner.get(Faulty)
        assert faulty.count("Note.Written") == 0
        assert faulty.count("Note.Amended") == 1
        with pytest.raises(LookupError):
            queue.skip([first.id])


def test_park_needs_the_thespsys_store(tmp_path: Path) -> None:
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(tmp_path / "es.db"),
        "FAULTY_ERROR_POLICY": "park",
        "FAULTS_DIR": str(tmp_path),
    }
    runner = ThespianRunner(System(pipes=[[Notes, Faulty]]), env=env)
    with pytest.raises(ConfigurationError, match="park"):
        runner.start()
    assert not runner.is_started
