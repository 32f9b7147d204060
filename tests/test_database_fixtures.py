"""PostgreSQL tests skip on a machine without a server, and fail under CI."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import databases


@pytest.fixture
def unreachable_postgres(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv(
        "THESPSYS_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:1/x"
    )
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("THESPSYS_TEST_REQUIRE_POSTGRES", raising=False)
    databases.postgres_unavailable_reason.cache_clear()
    yield
    databases.postgres_unavailable_reason.cache_clear()


@pytest.mark.usefixtures("unreachable_postgres")
def test_missing_postgres_skips_locally() -> None:
    with pytest.raises(pytest.skip.Exception, match="not reachable"):
        databases.require_postgres()


@pytest.mark.usefixtures("unreachable_postgres")
@pytest.mark.parametrize("variable", ["CI", "THESPSYS_TEST_REQUIRE_POSTGRES"])
def test_missing_postgres_fails_when_required(
    monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv(variable, "true")
    with pytest.raises(pytest.fail.Exception, match="PostgreSQL is required"):
        databases.require_postgres()
