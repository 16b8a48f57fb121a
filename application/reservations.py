"""Hard-block caps: reserve before the call, settle or release after it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from application.cap_counters import CapCounters, counter_key, counter_ttl_seconds
from application.cap_rules_cache import CapRulesCache
from application.errors import Invalid, NotFound, require
from application.ports import (
    Clock,
    CounterStoreUnavailable,
    IdGenerator,
    UnitOfWorkFactory,
)
from application.record_spend import RecordSpend
from domain.access import Permission, Principal
from domain.attribution import Attribution
from domain.caps import Cap, CapStatus, Enforcement, FailPolicy, matching_caps
from domain.events import SpendEvent
from domain.money import Money
from domain.pricing import ModelPrice, PriceCatalog, cost_of
from domain.reservations import CounterLimit, Reservation
from domain.usage import Usage

log = logging.getLogger(__name__)

DEFAULT_TTL_SECONDS = 300
MAX_TTL_SECONDS = 3600
RESERVE_ATTEMPTS = 3
MIN_HOLD = Money(1)


@dataclass(frozen=True, slots=True)
class CheckRequest:
    attribution: Attribution
    estimated_usage: Usage | None = None
    estimated_cost: Money | None = None
    ttl_seconds: int = DEFAULT_TTL_SECONDS


@dataclass(frozen=True, slots=True)
class CheckResult:
    allowed: bool
    reservation: Reservation | None = None
    amount: Money = Money(0)
    blocking_cap: Cap | None = None
    blocking_status: CapStatus | None = None
    verified: bool = True


class CheckAndReserve:
    """Business rules:
    - the estimate is held against every enabled block cap matching the call, all or none;
    - a call is refused when spent + reserved + estimate would pass a cap's limit, so
      concurrent callers can overshoot only by their estimates' error;
    - with no matching block cap the call is allowed and nothing is held;
    - when the counter store is unreachable each matching cap's fail policy (or the
      installation's) decides: one fail-closed cap refuses the call; verified=False says so;
    - an unpriced model with no explicit estimate reserves nothing but is still refused by
      a cap that is already exhausted.
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        catalog: PriceCatalog,
        counters: CapCounters,
        ids: IdGenerator,
        clock: Clock,
        fail_policy: FailPolicy = FailPolicy.OPEN,
        rules: CapRulesCache | None = None,
    ) -> None:
        self._uow_factory = uow_factory
        self._catalog = catalog
        self._counters = counters
        self._ids = ids
        self._clock = clock
        self._fail_policy = fail_policy
        # No cache given: read the rules afresh on every check.
        self._rules = rules or CapRulesCache(uow_factory, clock, timedelta(0))

    async def __call__(self, principal: Principal, request: CheckRequest) -> CheckResult:
        require(principal, Permission.INGEST)
        if not 1 <= request.ttl_seconds <= MAX_TTL_SECONDS:
            raise Invalid("ttl_seconds", f"must be between 1 and {MAX_TTL_SECONDS}")
        tenant_id = principal.tenant_id
        now = self._clock.now()
        rules = await self._rules.rules(tenant_id)
        caps = [
            c
            for c in matching_caps(rules.caps, request.attribution)
            if c.enforcement is Enforcement.BLOCK
        ]
        amount = self._estimate(rules.overrides, request, now)
        if not caps:
            return CheckResult(allowed=True, amount=amount)
        # A call with no known cost still holds one nano-USD, so an exhausted cap refuses it.
        held_amount = amount if amount.is_positive() else MIN_HOLD
        # Each cap's window, once: in a zone other than UTC it costs a few conversions.
        windows = [cap.window_at(now) for cap in caps]
        keys = tuple(counter_key(cap, window) for cap, window in zip(caps, windows, strict=True))
        reservation = Reservation(
            id=self._ids.new_id("rsv"),
            tenant_id=tenant_id,
            amount=held_amount,
            keys=keys,
            expires_at=now + timedelta(seconds=request.ttl_seconds),
            attribution=request.attribution,
        )
        limits = [CounterLimit(key, cap.limit) for key, cap in zip(keys, caps, strict=True)]
        # Counters live as long as the longest window (and the hold) they count.
        counter_ttl = max(counter_ttl_seconds(window, now) for window in windows)
        try:
            return await self._reserve(
                caps, reservation, limits, max(request.ttl_seconds, counter_ttl), now
            )
        except CounterStoreUnavailable:
            return await self._unverified(caps, amount, now)

    def _estimate(
        self,
        overrides: dict[tuple[str, str], list[ModelPrice]],
        request: CheckRequest,
        now: datetime,
    ) -> Money:
        if request.estimated_cost is not None:
            if request.estimated_cost.nanos < 0:
                raise Invalid("estimated_cost", "must not be negative")
            return request.estimated_cost
        if request.estimated_usage is None:
            return Money.zero()
        price = self._catalog.resolve(
            request.attribution.provider, request.attribution.model, now.date(), overrides
        )
        return cost_of(request.estimated_usage, price) if price else Money.zero()

    async def _reserve(
        self,
        caps: list[Cap],
        reservation: Reservation,
        limits: list[CounterLimit],
        ttl_seconds: int,
        now: datetime,
    ) -> CheckResult:
        for _ in range(RESERVE_ATTEMPTS):
            outcome = await self._counters.store.try_reserve(reservation, limits, ttl_seconds)
            if outcome is None:
                # Some counter was absent (new cap, new window, flushed store): seed, retry.
                await self._counters.readings(caps, now)
                continue
            if outcome.allowed:
                return CheckResult(True, reservation, reservation.amount, verified=outcome.verified)
            blocking = next(
                cap
                for cap, key in zip(caps, reservation.keys, strict=True)
                if key == outcome.blocking_key
            )
            return CheckResult(
                False,
                amount=reservation.amount,
                blocking_cap=blocking,
                blocking_status=blocking.status(outcome.spent, outcome.reserved),
                verified=outcome.verified,
            )
        raise CounterStoreUnavailable("counters could not be seeded")

    async def _unverified(self, caps: list[Cap], amount: Money, now: datetime) -> CheckResult:
        closed = [c for c in caps if (c.fail_policy or self._fail_policy) is FailPolicy.CLOSED]
        if closed:
            cap = closed[0]
            _, status = await self._counters.status_from_truth(cap, now)
            log.warning("counter store unavailable: fail-closed refuses the call (cap %s)", cap.id)
            return CheckResult(
                False, amount=amount, blocking_cap=cap, blocking_status=status, verified=False
            )
        log.warning("counter store unavailable: fail-open allows the call unverified")
        return CheckResult(True, amount=amount, verified=False)


class FinishReservation:
    """Business rules:
    - releasing drops the hold; settling drops it and records the actual cost as spend;
    - a settlement is an event whose id is the reservation's, so settling twice counts once;
    - a reservation of another tenant is not found, never touched.
    """

    def __init__(self, counters: CapCounters, record: RecordSpend, clock: Clock) -> None:
        self._counters = counters
        self._record = record
        self._clock = clock

    async def release(self, principal: Principal, reservation_id: str) -> Reservation:
        require(principal, Permission.INGEST)
        finished = await self._counters.store.finish(principal.tenant_id, reservation_id)
        if finished is None:
            raise NotFound("reservation")
        return finished

    async def settle(self, principal: Principal, reservation_id: str, actual: Money) -> Reservation:
        require(principal, Permission.INGEST)
        if actual.nanos < 0:
            raise Invalid("actual_cost", "must not be negative")
        held = await self._counters.store.get_reservation(principal.tenant_id, reservation_id)
        if held is None:
            raise NotFound("reservation")
        settlement = SpendEvent(
            tenant_id=principal.tenant_id,
            event_id=reservation_id,
            occurred_at=self._clock.now(),
            provider=held.attribution.provider,
            model=held.attribution.model,
            usage=Usage(),
            operation="settlement",
            agent=held.attribution.agent,
            customer_id=held.attribution.customer_id,
            reservation_id=reservation_id,
            cost=actual,
        )
        await self._record.record_priced(principal, [settlement])
        return held
