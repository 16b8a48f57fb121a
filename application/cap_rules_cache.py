"""A short-lived, per-process copy of each tenant's caps and price overrides.

The cap check is the hot path in front of every LLM call; reading the tenant's caps
from the database each time costs more than the atomic reservation itself. A copy at
most `ttl` old is safe: a cap changed in this process is dropped from the copy at once,
and another process sees the change within `ttl`. Spend is never cached here: it lives
in the counters, which are always read live.
"""

from __future__ import annotations

import asyncio
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
        # One read per tenant at a time: when the copy ages, the checks arriving meanwhile
        # wait for that read instead of each starting its own (at thousands of checks a
        # second they would queue for the pool and stall every check behind them).
        self._loading: dict[str, asyncio.Future[CapRules]] = {}

    async def rules(self, tenant_id: str) -> CapRules:
        now = self._clock.now()
        cached = self._rules.get(tenant_id)
        if cached is not None and now - cached.read_at < self._ttl:
            return cached
        if self._ttl <= timedelta(0):
            return await self._read(tenant_id, now)
        while (loading := self._loading.get(tenant_id)) is not None:
            try:
                return await asyncio.shield(loading)
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if not loading.cancelled() or (current is not None and current.cancelling()):
                    raise
                # The reader was cancelled, not this check: read again.
        loading = asyncio.get_running_loop().create_future()
        self._loading[tenant_id] = loading
        try:
            fresh = await self._read(tenant_id, now)
        except BaseException as exc:
            if self._loading.get(tenant_id) is loading:
                del self._loading[tenant_id]
            if isinstance(exc, asyncio.CancelledError):
                loading.cancel()
            else:
                loading.set_exception(exc)
                loading.exception()  # the waiters, if any, re-raise it; no "never retrieved"
            raise
        if self._loading.get(tenant_id) is loading:  # not invalidated while reading
            del self._loading[tenant_id]
            self._rules[tenant_id] = fresh
        loading.set_result(fresh)
        return fresh

    async def _read(self, tenant_id: str, now: datetime) -> CapRules:
        async with self._uow_factory(tenant_id) as uow:
            return CapRules(
                caps=await uow.caps.list(tenant_id),
                overrides=overrides_index(await uow.price_overrides.list(tenant_id)),
                read_at=now,
            )

    def invalidate(self, tenant_id: str) -> None:
        self._rules.pop(tenant_id, None)
        # A read already under way may predate the change: it serves its waiters, but its
        # copy is not kept.
        self._loading.pop(tenant_id, None)
