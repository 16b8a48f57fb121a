"""Every scenario runs on every adapter set: in-memory, embedded SQLite, PostgreSQL + Redis."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from tests.support.backends import BACKENDS, open_backend
from tests.support.clock import MutableClock
from tests.support.harness import Harness


@pytest.fixture
def runner() -> Iterator[asyncio.Runner]:
    with asyncio.Runner() as runner:
        yield runner


@pytest.fixture(params=BACKENDS, autouse=True)
def harness(
    request: pytest.FixtureRequest, runner: asyncio.Runner, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Harness]:
    clock = MutableClock()
    backend = runner.run(open_backend(request.param, clock, tmp_path_factory.mktemp("bdd")))
    try:
        yield Harness(backend.uow_factory, backend.counters, clock)
    finally:
        runner.run(backend.close())
