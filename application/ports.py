"""The ports the use cases need. Adapters subclass these Protocols explicitly."""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from domain.alerts import Alert, AlertStatus
from domain.caps import Cap
from domain.events import SpendEvent
from domain.money import Money
from domain.periods import Window
from domain.pricing import ModelPrice
from domain.reports import BreakdownRow, Bucket, Dimension, SpendFilter, SpendTotals, TimePoint
from domain.reservations import CounterKey, CounterLimit, Reservation, ReserveOutcome
from domain.tenants import ApiKey, Tenant


class Clock(Protocol):
    def now(self) -> datetime:
        """An aware UTC datetime."""
        ...


class IdGenerator(Protocol):
    def new_id(self, prefix: str) -> str: ...

    def new_secret(self) -> str:
        """A URL-safe string carrying at least 256 random bits."""
        ...


class SpendEventRepository(Protocol):
    async def add_new(self, events: Sequence[SpendEvent]) -> builtins.list[SpendEvent]:
        """Store the events whose (tenant, event_id) is new, with their rollups; return those."""
        ...

    async def spent_in(self, tenant_id: str, cap: Cap, window: Window) -> Money:
        """The exact priced spend matching `cap` inside `window`: the source of truth."""
        ...


class EventBatchWriter(Protocol):
    async def add_new(
        self, tenant_id: str, events: Sequence[SpendEvent]
    ) -> builtins.list[SpendEvent]:
        """Store, in a transaction of its own, the tenant's events whose event_id is new,
        with their rollups; return those, in the caller's order. Every event is the
        tenant's."""
        ...


class CapRepository(Protocol):
    async def add(self, cap: Cap) -> None: ...
    async def get(self, tenant_id: str, cap_id: str) -> Cap | None: ...
    async def update(self, cap: Cap) -> None: ...
    async def delete(self, tenant_id: str, cap_id: str) -> bool: ...
    async def list(self, tenant_id: str) -> builtins.list[Cap]: ...
    async def all_enabled(self) -> builtins.list[Cap]:
        """Every enabled cap of every tenant: for the monitor and reconcile jobs only."""
        ...


@dataclass(frozen=True, slots=True)
class AlertQuery:
    cap_id: str | None = None
    status: AlertStatus | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 100


class AlertRepository(Protocol):
    async def add_if_absent(self, alert: Alert) -> bool:
        """Insert unless an alert with the same dedupe key exists; True when inserted."""
        ...

    async def get(self, tenant_id: str, alert_id: str) -> Alert | None: ...
    async def list(self, tenant_id: str, query: AlertQuery) -> builtins.list[Alert]: ...

    async def claim_due(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> builtins.list[Alert]:
        """Pending alerts due by `now`, leased to this caller until `lease_until` (all tenants)."""
        ...

    async def save(self, alert: Alert) -> None: ...

    async def save_if_unchanged(self, alert: Alert, expected_attempts: int) -> bool:
        """Save only while the stored row is pending with `expected_attempts`; True if saved.

        A compare-and-set: of two dispatchers holding the same alert, one wins."""
        ...


class ApiKeyRepository(Protocol):
    async def add(self, key: ApiKey) -> None: ...
    async def by_hash(self, secret_hash: str) -> ApiKey | None:
        """Lookup across tenants: the key itself names its tenant."""
        ...

    async def list(self, tenant_id: str) -> builtins.list[ApiKey]: ...
    async def get(self, tenant_id: str, key_id: str) -> ApiKey | None: ...
    async def save(self, key: ApiKey) -> None: ...


class TenantRepository(Protocol):
    async def get(self, tenant_id: str) -> Tenant | None: ...
    async def add(self, tenant: Tenant) -> None: ...
    async def save(self, tenant: Tenant) -> None: ...
    async def list(self) -> builtins.list[Tenant]: ...


class PriceOverrideRepository(Protocol):
    async def list(self, tenant_id: str) -> builtins.list[ModelPrice]: ...
    async def add(self, tenant_id: str, price: ModelPrice) -> None: ...


class SpendReports(Protocol):
    async def totals(self, tenant_id: str, spend_filter: SpendFilter) -> SpendTotals: ...
    async def breakdown(
        self, tenant_id: str, spend_filter: SpendFilter, dimension: Dimension, limit: int
    ) -> builtins.list[BreakdownRow]: ...
    async def timeseries(
        self,
        tenant_id: str,
        spend_filter: SpendFilter,
        bucket: Bucket,
        group_by: Dimension | None,
    ) -> builtins.list[TimePoint]: ...


class UnitOfWork(Protocol):
    """One transaction. Rolls back on exit unless `commit()` was called."""

    events: SpendEventRepository
    caps: CapRepository
    alerts: AlertRepository
    api_keys: ApiKeyRepository
    tenants: TenantRepository
    price_overrides: PriceOverrideRepository
    reports: SpendReports

    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    async def commit(self) -> None: ...
    async def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, tenant_id: str | None = None) -> UnitOfWork:
        """A unit of work bound to one tenant (row-level security), or to none for system jobs."""
        ...


class CounterStoreUnavailable(Exception):
    """The live counter store cannot be reached; the caller applies its fail policy."""


@dataclass(frozen=True, slots=True)
class CounterReading:
    spent: Money
    reserved: Money


class SpendCounters(Protocol):
    """Live spent/reserved amounts per (cap, window). A cache the events can rebuild."""

    async def read(self, keys: Sequence[CounterKey]) -> dict[CounterKey, CounterReading | None]:
        """None for a key the store does not hold (never seeded, expired or flushed)."""
        ...

    async def seed(self, key: CounterKey, spent: Money, ttl_seconds: int) -> None:
        """Set spent for a key the store does not hold yet; never overwrite a live one."""
        ...

    async def overwrite(self, key: CounterKey, spent: Money, ttl_seconds: int) -> Money | None:
        """Reconcile: force spent to the truth; returns the previous value (None if absent)."""
        ...

    async def replace_if_unchanged(
        self, key: CounterKey, expected: Money | None, spent: Money, ttl_seconds: int
    ) -> bool:
        """Reconcile without losing a concurrent increment: set spent only while the store
        still holds `expected` (None: still absent); True when replaced."""
        ...

    async def add_spent(self, amounts: Mapping[CounterKey, Money]) -> dict[CounterKey, Money]:
        """Add to keys the store holds; return their new spent. Absent keys are left absent."""
        ...

    async def try_reserve(
        self, reservation: Reservation, limits: Sequence[CounterLimit], ttl_seconds: int
    ) -> ReserveOutcome | None:
        """Reserve against every limit or none. None when a key is absent (seed, then retry)."""
        ...

    async def finish(self, tenant_id: str, reservation_id: str) -> Reservation | None:
        """Drop a held reservation's hold (settled or released); None if unknown or done."""
        ...

    async def get_reservation(self, tenant_id: str, reservation_id: str) -> Reservation | None: ...

    async def sweep_expired(self, now: datetime) -> int:
        """Release every reservation past its expiry; returns how many."""
        ...


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    to: tuple[str, ...]
    subject: str
    text: str
    html: str | None = None
    # The alert announced: mailers derive a stable Message-ID from it, so a resend after a
    # crash is recognisable as the same message.
    alert_id: str | None = None


class Mailer(Protocol):
    async def send(self, email: OutgoingEmail) -> None:
        """Deliver or raise; a raise means the alert is retried later."""
        ...


class AlertRenderer(Protocol):
    def render(self, alert: Alert, context: Mapping[str, object]) -> OutgoingEmail: ...


class AlertNotifier(Protocol):
    """A channel next to email (the signed webhook)."""

    async def notify(self, alert: Alert, context: Mapping[str, object]) -> None:
        """Deliver or raise; a raise means the alert is retried later."""
        ...


class BlockedCallCounter(Protocol):
    """Refusals per (cap, window). A cache like the spend counters: losing it undercounts,
    it never loses an alert."""

    async def increment(self, key: CounterKey, ttl_seconds: int) -> int:
        """Add one refusal; return the window's count so far."""
        ...

    async def count(self, key: CounterKey) -> int:
        """The window's count so far (0 when the store does not hold it)."""
        ...


class RecipientResolver(Protocol):
    async def default_recipients(self, tenant_id: str) -> tuple[str, ...]:
        """Who hears about a cap that names no recipients: the tenant's owners and admins."""
        ...


class KeyRevocations(Protocol):
    """Tells the other collector processes that an API key was revoked, so that their
    copies of it go at once rather than when those copies age."""

    async def announce(self, secret_hash: str) -> None: ...
