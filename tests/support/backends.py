"""The adapter sets every contract test and scenario runs against."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from adapters.memory.counters import InProcessCounters
from adapters.memory.unit_of_work import MemoryUnitOfWorkFactory
from application.ports import SpendCounters, UnitOfWorkFactory
from tests.support.clock import MutableClock

BACKENDS = ["memory"]


async def _nothing() -> None:
    return None


@dataclass
class Backend:
    uow_factory: UnitOfWorkFactory
    counters: SpendCounters
    close: Callable[[], Awaitable[None]] = field(default=_nothing)


async def open_backend(name: str, clock: MutableClock, workdir: Path) -> Backend:
    if name == "memory":
        return Backend(MemoryUnitOfWorkFactory(), InProcessCounters(clock))
    raise ValueError(f"unknown backend {name!r}")
