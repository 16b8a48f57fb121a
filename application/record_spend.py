"""Record a batch of spend events: price, store once, count, and raise crossed thresholds."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from application.cap_alerts import CapAlerts
from application.cap_counters import CapCounters, counter_key
from application.cap_rules_cache import CapRulesCache
from application.errors import require
from application.event_batches import UnitOfWorkBatchWriter, refuse_other_tenants
from application.ports import (
    Clock,
    CounterStoreUnavailable,
    EventBatchWriter,
    UnitOfWorkFactory,
)
from domain.access import Permission, Principal
from domain.caps import Cap, matching_caps
from domain.events import SpendEvent
from domain.money import Money
from domain.pricing import ModelPrice, PriceCatalog, overrides_index
from domain.reservations import CounterKey

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RecordResult:
    stored: list[SpendEvent]
    duplicates: int


class RecordSpend:
    """Business rules:
    - an event whose (tenant, event_id) is already stored is ignored, never counted twice;
    - every event is priced at the price in force on its own date, a tenant override first;
      an unknown model is stored unpriced, never at $0;
    - events are the truth: they are committed before any counter moves, and a counter
      store that is down never loses an event;
    - an event carrying a reservation id ends that reservation's hold;
    - thresholds the batch makes a cap cross in its current window raise one alert each.
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        catalog: PriceCatalog,
        counters: CapCounters,
        alerts: CapAlerts,
        clock: Clock,
        rules: CapRulesCache | None = None,
        batches: EventBatchWriter | None = None,
    ) -> None:
        self._uow_factory = uow_factory
        self._catalog = catalog
        self._counters = counters
        self._alerts = alerts
        self._clock = clock
        # The per-process copy of caps and price overrides the cap check reads: with it a
        # batch costs no extra queries for them. Without it they are read in the batch's
        # own transaction.
        self._rules = rules
        self._batches = batches if batches is not None else UnitOfWorkBatchWriter(uow_factory)

    async def __call__(self, principal: Principal, events: Sequence[SpendEvent]) -> RecordResult:
        return await self._store(principal, events, reprice=True)

    async def record_priced(
        self, principal: Principal, events: Sequence[SpendEvent]
    ) -> RecordResult:
        """Store events whose cost is already decided (a settled reservation's actual cost)."""
        return await self._store(principal, events, reprice=False)

    async def _store(
        self, principal: Principal, events: Sequence[SpendEvent], reprice: bool
    ) -> RecordResult:
        require(principal, Permission.INGEST)
        tenant_id = principal.tenant_id
        refuse_other_tenants(tenant_id, events)
        rules = await self._rules.rules(tenant_id) if self._rules is not None else None
        caps: list[Cap] = []
        if rules is not None:
            # Prices and caps are known: the batch is the transaction's only work, which
            # the writer may do in one round trip.
            if reprice:
                events = self._priced(events, rules.overrides)
            stored = await self._batches.add_new(tenant_id, events)
            caps = rules.caps
        else:
            async with self._uow_factory(tenant_id) as uow:
                if reprice:
                    overrides = overrides_index(await uow.price_overrides.list(tenant_id))
                    events = self._priced(events, overrides)
                stored = await uow.events.add_new(events)
                if stored:
                    caps = await uow.caps.list(tenant_id)
                await uow.commit()
        if stored:
            await self._after_commit(tenant_id, stored, caps)
        return RecordResult(stored=stored, duplicates=len(events) - len(stored))

    def _priced(
        self,
        events: Sequence[SpendEvent],
        overrides: Mapping[tuple[str, str], list[ModelPrice]],
    ) -> list[SpendEvent]:
        # A batch names few (provider, model, day) triples: resolve each once.
        prices: dict[tuple[str, str, date], ModelPrice | None] = {}
        priced = []
        for event in events:
            key = (event.provider, event.model, event.occurred_at.date())
            if key not in prices:
                prices[key] = self._catalog.resolve(*key, overrides)
            priced.append(event.priced_with(prices[key]))
        return priced

    async def _after_commit(
        self, tenant_id: str, stored: list[SpendEvent], caps: list[Cap]
    ) -> None:
        now = self._clock.now()
        increments: dict[CounterKey, Money] = defaultdict(Money.zero)
        caps_by_key: dict[CounterKey, Cap] = {}
        # No cap, no counter to move: each event is spared building its attribution.
        for event in stored if caps else ():
            if not event.billable_cost.is_positive():
                continue
            for cap in matching_caps(caps, event.attribution):
                key = counter_key(cap, cap.window_at(event.occurred_at))
                increments[key] += event.billable_cost
                caps_by_key[key] = cap
        try:
            new_spent = await self._counters.store.add_spent(increments) if increments else {}
            for event in stored:
                if event.reservation_id:
                    await self._counters.store.finish(tenant_id, event.reservation_id)
        except CounterStoreUnavailable:
            log.warning(
                "counter store unavailable: %d events stored, counters rebuild later", len(stored)
            )
            return
        current = {
            key: cap
            for key, cap in caps_by_key.items()
            if key == counter_key(cap, cap.window_at(now))
        }
        await self._alerts.after_increments(current, increments, new_spent, now)
