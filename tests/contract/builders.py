"""Small factories for the domain objects the contract tests store."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from domain.alerts import Alert, AlertKind
from domain.caps import Cap, CapScope
from domain.events import CallStatus, SpendEvent
from domain.money import Money
from domain.periods import Period
from domain.pricing import ModelPrice
from domain.tenants import ApiKey, KeyKind, hash_api_key
from domain.usage import Usage

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def new_tenant() -> str:
    return f"t_{uuid.uuid4().hex[:10]}"


def event(
    tenant_id: str,
    event_id: str,
    at: datetime = T0,
    cost: int | None = 1_000,
    **fields: Any,
) -> SpendEvent:
    values: dict[str, Any] = {
        "provider": "openai",
        "model": "gpt-4o",
        "usage": Usage(input_tokens=100, output_tokens=20),
        "status": CallStatus.OK,
    } | fields
    return SpendEvent(
        tenant_id=tenant_id,
        event_id=event_id,
        occurred_at=at,
        cost=None if cost is None else Money(cost),
        **values,
    )


def cap(tenant_id: str, cap_id: str = "cap_1", **fields: Any) -> Cap:
    values: dict[str, Any] = {
        "name": "Monthly budget",
        "scope": CapScope.GLOBAL,
        "period": Period.MONTHLY,
        "limit": Money.usd(10),
        "recipients": ("ops@example.com",),
        "created_at": T0,
    } | fields
    return Cap(id=cap_id, tenant_id=tenant_id, **values)


def alert(tenant_id: str, alert_id: str | None = None, **fields: Any) -> Alert:
    values: dict[str, Any] = {
        "cap_id": "cap_1",
        "cap_name": "Monthly budget",
        "window_start": datetime(2026, 3, 1, tzinfo=UTC),
        "window_end": datetime(2026, 4, 1, tzinfo=UTC),
        "threshold": 80,
        "kind": AlertKind.THRESHOLD,
        "spent": Money.usd(8),
        "limit": Money.usd(10),
        "recipients": ("ops@example.com",),
        "created_at": T0,
        "next_attempt_at": T0,
    } | fields
    return Alert(id=alert_id or f"alrt_{uuid.uuid4().hex[:12]}", tenant_id=tenant_id, **values)


def api_key(tenant_id: str, key_id: str, secret: str, **fields: Any) -> ApiKey:
    values: dict[str, Any] = {
        "name": "CI",
        "kind": KeyKind.INGEST,
        "display_prefix": "llmo_sk_abcdefgh",
        "secret_hash": hash_api_key(secret),
        "created_at": T0,
    } | fields
    return ApiKey(id=key_id, tenant_id=tenant_id, **values)


def price(model: str, effective: date, **fields: Any) -> ModelPrice:
    values: dict[str, Any] = {
        "provider": "openai",
        "model": model,
        "input": Money.parse("2.5"),
        "output": Money.parse("10"),
        "effective_from": effective,
    } | fields
    return ModelPrice(**values)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)
