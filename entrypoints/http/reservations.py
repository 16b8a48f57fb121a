"""Hard-block caps on the SDK's side: check-and-reserve, settle, release, and the blocked list."""

from __future__ import annotations

import logging
from datetime import datetime

import msgspec
from litestar import get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from application.blocked_caps import BlockedCaps
from application.errors import Invalid
from application.reservations import (
    DEFAULT_TTL_SECONDS,
    CheckRequest,
    CheckResult,
)
from domain.access import Principal
from domain.attribution import Attribution
from domain.caps import CapScope
from domain.events import MAX_TEXT
from domain.money import Money
from domain.periods import Period
from domain.usage import InvalidUsage, Usage
from entrypoints.http.deps import container_of
from entrypoints.http.events_in import UsageIn
from entrypoints.http.wire import money_in, money_out

log = logging.getLogger(__name__)
BLOCKED_REFRESH_SECONDS = 5


class CheckIn(msgspec.Struct):
    provider: str
    model: str
    agent: str | None = None
    customer_id: str | None = None
    estimated_usage: UsageIn | None = None
    estimated_cost: str | None = None
    ttl_seconds: int = DEFAULT_TTL_SECONDS


class BlockingCapOut(msgspec.Struct):
    id: str
    name: str
    scope: CapScope
    scope_value: str | None
    period: Period
    limit: str
    spent: str
    reserved: str


class CheckOut(msgspec.Struct):
    allowed: bool
    reservation_id: str | None
    reserved: str
    expires_at: datetime | None
    verified: bool
    blocking_cap: BlockingCapOut | None = None


class SettleIn(msgspec.Struct):
    actual_cost: str


class ReservationOut(msgspec.Struct):
    reservation_id: str
    state: str
    reserved: str
    actual_cost: str | None = None


class BlockedCapOut(msgspec.Struct):
    cap_id: str
    name: str
    scope: CapScope
    scope_value: str | None
    period: Period
    limit: str
    spent: str
    window_end: datetime


class BlockedOut(msgspec.Struct):
    blocked: list[BlockedCapOut]
    refresh_after_seconds: int


def check_request(data: JSONBody[CheckIn]) -> CheckRequest:
    for field in ("provider", "model", "agent", "customer_id"):
        value = getattr(data, field)
        if value is not None and len(value) > MAX_TEXT:
            raise Invalid(field, f"must be at most {MAX_TEXT} characters")
    if not data.provider.strip() or not data.model.strip():
        raise Invalid("provider" if not data.provider.strip() else "model", "must not be empty")
    usage = None
    if data.estimated_usage is not None:
        u = data.estimated_usage
        try:
            usage = Usage(
                u.input_tokens or 0,
                u.output_tokens or 0,
                u.cache_read_tokens or 0,
                u.cache_write_tokens or 0,
                u.reasoning_tokens or 0,
            )
        except InvalidUsage as exc:
            raise Invalid(f"estimated_usage.{exc.field}", exc.message) from None
    cost = money_in("estimated_cost", data.estimated_cost) if data.estimated_cost else None
    attribution = Attribution(
        data.provider.strip(), data.model.strip(), data.agent or None, data.customer_id or None
    )
    return CheckRequest(attribution, usage, cost, data.ttl_seconds)


def check_out(result: CheckResult) -> CheckOut:
    reservation = result.reservation
    blocking = None
    if result.blocking_cap is not None and result.blocking_status is not None:
        cap, status = result.blocking_cap, result.blocking_status
        blocking = BlockingCapOut(
            cap.id,
            cap.name,
            cap.scope,
            cap.scope_value,
            cap.period,
            money_out(cap.limit),
            money_out(status.spent),
            money_out(status.reserved),
        )
    return CheckOut(
        allowed=result.allowed,
        reservation_id=reservation.id if reservation else None,
        reserved=money_out(reservation.amount) if reservation else money_out(Money.zero()),
        expires_at=reservation.expires_at if reservation else None,
        verified=result.verified,
        blocking_cap=blocking,
    )


@post(
    "/v1/caps/check",
    tags=["ingest"],
    summary="Reserve an estimated cost before a call",
    status_code=200,
)
async def check_caps(
    data: JSONBody[CheckIn], principal: NamedDependency[Principal], state: State
) -> CheckOut:
    container = container_of(state)
    result = await container.check_and_reserve()(principal, check_request(data))
    if not result.allowed and result.blocking_cap and result.blocking_status:
        try:
            await container.blocked_call_alerts().record_refusal(
                result.blocking_cap, result.blocking_status
            )
        except Exception:  # counting a refusal must never turn the refusal itself into a 500
            log.exception("could not record a refused call for cap %s", result.blocking_cap.id)
    return check_out(result)


@post(
    "/v1/reservations/{reservation_id:str}/settle",
    tags=["ingest"],
    status_code=200,
    summary="Swap a reservation for the call's actual cost",
)
async def settle_reservation(
    reservation_id: FromPath[str],
    data: JSONBody[SettleIn],
    principal: NamedDependency[Principal],
    state: State,
) -> ReservationOut:
    actual = money_in("actual_cost", data.actual_cost)
    held = await container_of(state).finish_reservation().settle(principal, reservation_id, actual)
    return ReservationOut(held.id, "settled", money_out(held.amount), money_out(actual))


@post(
    "/v1/reservations/{reservation_id:str}/release",
    tags=["ingest"],
    status_code=200,
    summary="Drop a reservation (the call failed)",
)
async def release_reservation(
    reservation_id: FromPath[str], principal: NamedDependency[Principal], state: State
) -> ReservationOut:
    held = await container_of(state).finish_reservation().release(principal, reservation_id)
    return ReservationOut(held.id, "released", money_out(held.amount))


@get("/v1/caps/blocked", tags=["ingest"], summary="Block caps exhausted now (SDK cached mode)")
async def list_blocked_caps(
    principal: NamedDependency[Principal], blocked_caps: NamedDependency[BlockedCaps]
) -> BlockedOut:
    rows = [
        BlockedCapOut(
            p.cap.id,
            p.cap.name,
            p.cap.scope,
            p.cap.scope_value,
            p.cap.period,
            money_out(p.cap.limit),
            money_out(p.status.spent),
            p.window.end,
        )
        for p in await blocked_caps(principal)
    ]
    return BlockedOut(rows, BLOCKED_REFRESH_SECONDS)
