"""Explicit mapping between rows and the frozen domain dataclasses (the domain knows no SQL)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.alerts import Alert, AlertKind, AlertStatus
from domain.caps import Cap, CapScope, Enforcement, FailPolicy
from domain.events import SpendEvent
from domain.money import Money
from domain.periods import Period
from domain.pricing import ModelPrice
from domain.tenants import ApiKey, KeyKind, Tenant

Row = Mapping[Any, Any]  # a RowMapping: keyed by name (and by column)


def _nanos(money: Money | None) -> int | None:
    return None if money is None else money.nanos


def _money(nanos: int | None) -> Money | None:
    return None if nanos is None else Money(int(nanos))


def tenant_row(tenant: Tenant) -> dict[str, Any]:
    return {
        "tenant_id": tenant.id,
        "name": tenant.name,
        "default_timezone": tenant.default_timezone,
        "created_at": tenant.created_at,
    }


def tenant_from(row: Row) -> Tenant:
    return Tenant(row["tenant_id"], row["name"], row["created_at"], row["default_timezone"])


def api_key_row(key: ApiKey) -> dict[str, Any]:
    return {
        "tenant_id": key.tenant_id,
        "key_id": key.id,
        "name": key.name,
        "kind": key.kind.value,
        "display_prefix": key.display_prefix,
        "secret_hash": key.secret_hash,
        "created_at": key.created_at,
        "last_used_at": key.last_used_at,
        "revoked_at": key.revoked_at,
    }


def api_key_from(row: Row) -> ApiKey:
    return ApiKey(
        id=row["key_id"],
        tenant_id=row["tenant_id"],
        name=row["name"],
        kind=KeyKind(row["kind"]),
        display_prefix=row["display_prefix"],
        secret_hash=row["secret_hash"],
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
        revoked_at=row["revoked_at"],
    )


def cap_row(cap: Cap) -> dict[str, Any]:
    return {
        "tenant_id": cap.tenant_id,
        "cap_id": cap.id,
        "name": cap.name,
        "scope": cap.scope.value,
        "scope_value": cap.scope_value,
        "period": cap.period.value,
        "limit_nanos": cap.limit.nanos,
        "enforcement": cap.enforcement.value,
        "thresholds": list(cap.thresholds),
        "timezone": cap.timezone,
        "recipients": list(cap.recipients),
        "enabled": cap.enabled,
        "created_at": cap.created_at,
        "fail_policy": cap.fail_policy.value if cap.fail_policy else None,
    }


def cap_from(row: Row) -> Cap:
    return Cap(
        id=row["cap_id"],
        tenant_id=row["tenant_id"],
        name=row["name"],
        scope=CapScope(row["scope"]),
        period=Period(row["period"]),
        limit=Money(int(row["limit_nanos"])),
        enforcement=Enforcement(row["enforcement"]),
        scope_value=row["scope_value"],
        thresholds=tuple(int(t) for t in row["thresholds"]),
        timezone=row["timezone"],
        recipients=tuple(row["recipients"]),
        enabled=bool(row["enabled"]),
        created_at=row["created_at"],
        fail_policy=FailPolicy(row["fail_policy"]) if row["fail_policy"] else None,
    )


def alert_row(alert: Alert) -> dict[str, Any]:
    return {
        "tenant_id": alert.tenant_id,
        "alert_id": alert.id,
        "cap_id": alert.cap_id,
        "cap_name": alert.cap_name,
        "window_start": alert.window_start,
        "window_end": alert.window_end,
        "threshold": alert.threshold,
        "kind": alert.kind.value,
        "spent_nanos": alert.spent.nanos,
        "limit_nanos": alert.limit.nanos,
        "recipients": list(alert.recipients),
        "created_at": alert.created_at,
        "status": alert.status.value,
        "attempts": alert.attempts,
        "last_error": alert.last_error,
        "sent_at": alert.sent_at,
        "next_attempt_at": alert.next_attempt_at,
    }


def alert_from(row: Row) -> Alert:
    return Alert(
        id=row["alert_id"],
        tenant_id=row["tenant_id"],
        cap_id=row["cap_id"],
        cap_name=row["cap_name"],
        window_start=row["window_start"],
        window_end=row["window_end"],
        threshold=int(row["threshold"]),
        kind=AlertKind(row["kind"]),
        spent=Money(int(row["spent_nanos"])),
        limit=Money(int(row["limit_nanos"])),
        recipients=tuple(row["recipients"]),
        created_at=row["created_at"],
        status=AlertStatus(row["status"]),
        attempts=int(row["attempts"]),
        last_error=row["last_error"],
        sent_at=row["sent_at"],
        next_attempt_at=row["next_attempt_at"],
    )


def price_row(tenant_id: str, override_id: str, price: ModelPrice) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "override_id": override_id,
        "provider": price.provider,
        "model": price.model,
        "effective_from": price.effective_from,
        "input_nanos": price.input.nanos,
        "output_nanos": price.output.nanos,
        "cache_read_nanos": _nanos(price.cache_read),
        "cache_write_nanos": _nanos(price.cache_write),
        "reasoning_nanos": _nanos(price.reasoning),
        "batch_input_nanos": _nanos(price.batch_input),
        "batch_output_nanos": _nanos(price.batch_output),
        "max_output_tokens": price.max_output_tokens,
        "source": price.source,
        "aliases": list(price.aliases),
    }


def price_from(row: Row) -> ModelPrice:
    return ModelPrice(
        provider=row["provider"],
        model=row["model"],
        input=Money(int(row["input_nanos"])),
        output=Money(int(row["output_nanos"])),
        effective_from=row["effective_from"],
        cache_read=_money(row["cache_read_nanos"]),
        cache_write=_money(row["cache_write_nanos"]),
        reasoning=_money(row["reasoning_nanos"]),
        batch_input=_money(row["batch_input_nanos"]),
        batch_output=_money(row["batch_output_nanos"]),
        max_output_tokens=row["max_output_tokens"],
        source=row["source"],
        aliases=tuple(row["aliases"]),
    )


def event_row(event: SpendEvent) -> dict[str, Any]:
    usage = event.usage
    return {
        "tenant_id": event.tenant_id,
        "occurred_at": event.occurred_at,
        "event_id": event.event_id,
        "provider": event.provider,
        "model": event.model,
        "operation": event.operation,
        "status": event.status.value,
        "agent": event.agent,
        "customer_id": event.customer_id,
        "tags": dict(event.tags),
        "latency_ms": event.latency_ms,
        "reservation_id": event.reservation_id,
        "estimated": event.estimated,
        "cost_nanos": _nanos(event.cost),
        "priced_model": event.priced_model,
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cache_read_tokens": usage.cache_read_tokens,
        "cache_write_tokens": usage.cache_write_tokens,
        "reasoning_tokens": usage.reasoning_tokens,
    }
