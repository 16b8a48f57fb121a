"""A short-lived, per-process copy of each tenant's caps and price overrides.

The cap check is the hot path in front of every LLM call; reading the tenant's caps
from the database each time costs more than the atomic reservation itself. A copy at
most `ttl` old is safe: a cap changed in this process is dropped from the copy at once,
and another process sees the change within `ttl`. Spend is never cached here: it lives
in the counters, which are always read live.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from application.ports import Clock, UnitOfWorkFactory
from domain.caps import Cap
from domain.pricing import ModelPrice, overrides_index


@dataclass(frozen=True, slots=True)
class CapRules:
    caps: list[Cap]
    overrides: dict[tuple[str, str], list[ModelPrice]]
    read_at: datetime


class CapRulesCache:
    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock, ttl: timedelta) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._ttl = ttl
        self._rules: dict[str, CapRules] = {}

    async def rules(self, tenant_id: str) -> CapRules:
        now = self._clock.now()
        cached = self._rules.get(tenant_id)
        if cached is not None and now - cached.read_at < self._ttl:
            return cached
        async with self._uow_factory(tenant_id) as uow:
            fresh = CapRules(
                caps=await uow.caps.list(tenant_id),
                overrides=overrides_index(await uow.price_overrides.list(tenant_id)),
                read_at=now,
            )
        if self._ttl > timedelta(0):
            self._rules[tenant_id] = fresh
        return fresh

    def invalidate(self, tenant_id: str) -> None:
        self._rules.pop(tenant_id, None)
