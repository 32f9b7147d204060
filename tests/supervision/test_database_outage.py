"""PostgreSQL goes away during a run and comes back: nothing lost or doubled."""

from __future__ import annotations

import pytest
import sqlalchemy
from sqlalchemy.engine import make_url

from examples import orders
from tests.support.actors import running, wait_for_status
from tests.support.counting import counts_by_application
from tests.support.databases import postgres_admin_url
from thespsys.core.processes import wait_for
from thespsys.core.settings import RunnerSettings

pytestmark = pytest.mark.actors


def set_outage(database_url: str, *, down: bool) -> None:
    """Refuse new connections and end the open ones (or allow them again)."""
    name = make_url(database_url).database
    engine = sqlalchemy.create_engine(
        postgres_admin_url(), isolation_level="AUTOCOMMIT"
    )
    try:
        with engine.connect() as connection:
            connection.execute(
                sqlalchemy.text(
                    f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(not down).lower()}'
                )
            )
            if down:
                connection.execute(
                    sqlalchemy.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                )
    finally:
        engine.dispose()


def test_processing_backs_off_and_resumes_after_an_outage(postgres_url: str) -> None:
    env = {
        "PERSISTENCE_MODULE": "thespsys.persistence",
        "DATABASE_URL": postgres_url,
        "RETRY_BACKOFF_INITIAL": "0.1",
        "RETRY_BACKOFF_MAX": "0.5",
    }
    settings = RunnerSettings(poll_interval=0.2)
    with running(
        orders.system, env, pipeline_ids=range(2), settings=settings
    ) as runner:
        app = runner.get(orders.Orders)
        order_ids = [app.create_order() for _ in range(100)]
        set_outage(postgres_url, down=True)
        try:
            # More orders than the slaves can have finished: some wait for the database.
            down = wait_for_status(
                runner, "Reservations", lambda s: s.state == "retrying", timeout=30
            )
            assert "OperationalError" in down.last_error
        finally:
            set_outage(postgres_url, down=False)
        order_ids += [app.create_order() for _ in range(20)]
        runner.wait(timeout=60)
        assert all(app.get_order(order_id).is_paid for order_id in order_ids)
        # The masters report "running" once their next run went well.
        assert wait_for(
            lambda: {s.state for s in runner.status()} == {"running"}, timeout=30
        )
        statuses = runner.status()
        assert sum(s.restarts for s in statuses) == 0  # backed off; no restart storm
        counts = {
            name: sum(c.values()) for name, c in counts_by_application(runner).items()
        }
        assert counts == {"Orders": 360, "Reservations": 120, "Payments": 120}
