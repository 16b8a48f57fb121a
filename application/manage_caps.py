"""Create, change, delete and list caps, each with its live progress."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from application.cap_counters import CapCounters
from application.cap_rules_cache import CapRulesCache
from application.errors import Invalid, NotFound, require
from application.ports import Clock, CounterStoreUnavailable, IdGenerator, UnitOfWorkFactory
from domain.access import Permission, Principal
from domain.caps import Cap, CapScope, CapStatus, Enforcement, FailPolicy, InvalidCap
from domain.money import Money
from domain.periods import Period, Window

log = logging.getLogger(__name__)

MAX_CAPS_PER_TENANT = 1000


@dataclass(frozen=True, slots=True)
class CapDraft:
    name: str
    scope: CapScope
    period: Period
    limit: Money
    enforcement: Enforcement = Enforcement.ALERT
    scope_value: str | None = None
    thresholds: tuple[int, ...] | None = None
    timezone: str = "UTC"
    recipients: tuple[str, ...] = ()
    enabled: bool = True
    fail_policy: FailPolicy | None = None


@dataclass(frozen=True, slots=True)
class CapProgress:
    cap: Cap
    window: Window
    status: CapStatus
    verified: bool = True


class CapProgressReader:
    def __init__(self, counters: CapCounters, clock: Clock) -> None:
        self._counters = counters
        self._clock = clock

    @property
    def counters(self) -> CapCounters:
        return self._counters

    async def progress(self, caps: list[Cap]) -> list[CapProgress]:
        now = self._clock.now()
        try:
            readings = await self._counters.readings(caps, now)
        except CounterStoreUnavailable:
            result = []
            for cap in caps:
                window, status = await self._counters.status_from_truth(cap, now)
                result.append(CapProgress(cap, window, status, verified=False))
            return result
        return [
            CapProgress(
                cap,
                readings[cap.id][0],
                cap.status(readings[cap.id][1].spent, readings[cap.id][1].reserved),
            )
            for cap in caps
        ]


class ManageCaps:
    """Business rules:
    - limits are positive, scopes other than global name a value, thresholds ascend,
      recipients are email addresses, the time zone exists;
    - a cap of another tenant does not exist for the caller;
    - reading caps needs read access; changing them needs cap management.
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        progress: CapProgressReader,
        ids: IdGenerator,
        clock: Clock,
        rules: CapRulesCache | None = None,
    ) -> None:
        self._uow_factory = uow_factory
        self._progress = progress
        self._ids = ids
        self._clock = clock
        self._rules = rules

    def _changed(self, tenant_id: str) -> None:
        if self._rules is not None:
            self._rules.invalidate(tenant_id)

    async def create(self, principal: Principal, draft: CapDraft) -> CapProgress:
        require(principal, Permission.MANAGE_CAPS)
        cap = _build(
            self._ids.new_id("cap"), principal.tenant_id, draft, created_at=self._clock.now()
        )
        async with self._uow_factory(principal.tenant_id) as uow:
            if len(await uow.caps.list(principal.tenant_id)) >= MAX_CAPS_PER_TENANT:
                raise Invalid("caps", f"a tenant has at most {MAX_CAPS_PER_TENANT} caps")
            await uow.caps.add(cap)
            await uow.commit()
        self._changed(principal.tenant_id)
        return (await self._progress.progress([cap]))[0]

    async def update(
        self, principal: Principal, cap_id: str, changes: dict[str, object]
    ) -> CapProgress:
        require(principal, Permission.MANAGE_CAPS)
        async with self._uow_factory(principal.tenant_id) as uow:
            cap = await uow.caps.get(principal.tenant_id, cap_id)
            if cap is None:
                raise NotFound("cap")
            if changes.get("scope", cap.scope) == CapScope.GLOBAL and "scope" in changes:
                changes.setdefault("scope_value", None)
            try:
                updated = cap.with_changes(**changes)
            except InvalidCap as exc:
                raise Invalid(exc.field, exc.message) from exc
            await uow.caps.update(updated)
            await uow.commit()
        self._changed(principal.tenant_id)
        if _counts_other_calls(cap, updated):
            try:
                await self._progress.counters.refresh(updated, self._clock.now())
            except CounterStoreUnavailable:
                log.warning("counter store unavailable: cap %s recounts at reconcile", cap.id)
        return (await self._progress.progress([updated]))[0]

    async def delete(self, principal: Principal, cap_id: str) -> None:
        require(principal, Permission.MANAGE_CAPS)
        async with self._uow_factory(principal.tenant_id) as uow:
            if not await uow.caps.delete(principal.tenant_id, cap_id):
                raise NotFound("cap")
            await uow.commit()
        self._changed(principal.tenant_id)

    async def get(self, principal: Principal, cap_id: str) -> CapProgress:
        require(principal, Permission.READ_SPEND)
        async with self._uow_factory(principal.tenant_id) as uow:
            cap = await uow.caps.get(principal.tenant_id, cap_id)
        if cap is None:
            raise NotFound("cap")
        return (await self._progress.progress([cap]))[0]

    async def list(self, principal: Principal) -> list[CapProgress]:
        require(principal, Permission.READ_SPEND)
        async with self._uow_factory(principal.tenant_id) as uow:
            caps = await uow.caps.list(principal.tenant_id)
        return await self._progress.progress(caps)


def _counts_other_calls(before: Cap, after: Cap) -> bool:
    return (before.scope, before.scope_value, before.period, before.timezone, before.enabled) != (
        after.scope,
        after.scope_value,
        after.period,
        after.timezone,
        after.enabled,
    )


def _build(cap_id: str, tenant_id: str, draft: CapDraft, created_at: datetime) -> Cap:
    try:
        return Cap(
            id=cap_id,
            tenant_id=tenant_id,
            name=draft.name,
            scope=draft.scope,
            period=draft.period,
            limit=draft.limit,
            enforcement=draft.enforcement,
            scope_value=draft.scope_value or None,
            thresholds=draft.thresholds if draft.thresholds is not None else (50, 80, 100),
            timezone=draft.timezone,
            recipients=draft.recipients,
            enabled=draft.enabled,
            created_at=created_at,
            fail_policy=draft.fail_policy,
        )
    except InvalidCap as exc:
        raise Invalid(exc.field, exc.message) from exc
