"""Every scenario runs on every adapter set: in-memory, embedded SQLite, PostgreSQL + Redis."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.backends import BACKENDS, open_backend
from tests.support.clock import MutableClock
from tests.support.harness import Harness
from tests.support.postgres import scratch_postgres


@pytest.fixture
def runner() -> Iterator[asyncio.Runner]:
    with asyncio.Runner() as runner:
        yield runner


@pytest.fixture(scope="session")
def postgres_owner_url() -> Iterator[str]:
    with scratch_postgres("bdd") as database:
        yield database.owner_url


@pytest.fixture(params=BACKENDS, autouse=True)
def harness(
    request: pytest.FixtureRequest, runner: asyncio.Runner, tmp_path: Path
) -> Iterator[Harness]:
    owner_url = (
        request.getfixturevalue("postgres_owner_url") if request.param == "postgres" else None
    )
    clock = MutableClock()
    backend = runner.run(open_backend(request.param, clock, tmp_path, owner_url))
    try:
        yield Harness(backend.uow_factory, backend.counters, clock)
    finally:
        runner.run(backend.close())
