from __future__ import annotations

import pytest

from adapters.memory.counters import InProcessCounters
from adapters.memory.unit_of_work import MemoryUnitOfWorkFactory
from tests.support.clock import MutableClock
from tests.support.harness import Harness


@pytest.fixture
def clock() -> MutableClock:
    return MutableClock()


@pytest.fixture
def app(clock: MutableClock) -> Harness:
    return Harness(MemoryUnitOfWorkFactory(), InProcessCounters(clock), clock)
