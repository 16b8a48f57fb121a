"""Caps: create, read with live progress, change, delete."""

from __future__ import annotations

from datetime import datetime

import msgspec
from litestar import delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from application.manage_caps import CapDraft, CapProgress, ManageCaps
from domain.access import Principal
from domain.caps import Cap, CapScope, Enforcement, FailPolicy
from domain.periods import Period
from entrypoints.http.wire import money_in, money_out


class CapIn(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    scope: CapScope
    period: Period
    limit: str
    enforcement: Enforcement = Enforcement.ALERT
    scope_value: str | None = None
    thresholds: list[int] | None = None
    timezone: str = "UTC"
    recipients: list[str] = []
    enabled: bool = True
    fail_policy: FailPolicy | None = None


class CapPatch(msgspec.Struct, forbid_unknown_fields=True):
    """Only the fields present change; `scope_value: null` clears it."""

    name: str | msgspec.UnsetType = msgspec.UNSET
    scope: CapScope | msgspec.UnsetType = msgspec.UNSET
    scope_value: str | msgspec.UnsetType | None = msgspec.UNSET
    period: Period | msgspec.UnsetType = msgspec.UNSET
    limit: str | msgspec.UnsetType = msgspec.UNSET
    enforcement: Enforcement | msgspec.UnsetType = msgspec.UNSET
    thresholds: list[int] | msgspec.UnsetType = msgspec.UNSET
    timezone: str | msgspec.UnsetType = msgspec.UNSET
    recipients: list[str] | msgspec.UnsetType = msgspec.UNSET
    enabled: bool | msgspec.UnsetType = msgspec.UNSET
    fail_policy: FailPolicy | msgspec.UnsetType | None = msgspec.UNSET


class ProgressOut(msgspec.Struct):
    window_start: datetime
    window_end: datetime
    spent: str
    reserved: str
    remaining: str
    percent: str
    exhausted: bool
    verified: bool


class CapOut(msgspec.Struct):
    id: str
    name: str
    scope: CapScope
    scope_value: str | None
    period: Period
    limit: str
    enforcement: Enforcement
    thresholds: list[int]
    timezone: str
    recipients: list[str]
    enabled: bool
    fail_policy: FailPolicy | None
    created_at: datetime | None
    progress: ProgressOut


class CapList(msgspec.Struct):
    caps: list[CapOut]


def cap_out(item: CapProgress) -> CapOut:
    cap: Cap = item.cap
    status = item.status
    return CapOut(
        id=cap.id,
        name=cap.name,
        scope=cap.scope,
        scope_value=cap.scope_value,
        period=cap.period,
        limit=money_out(cap.limit),
        enforcement=cap.enforcement,
        thresholds=list(cap.thresholds),
        timezone=cap.timezone,
        recipients=list(cap.recipients),
        enabled=cap.enabled,
        fail_policy=cap.fail_policy,
        created_at=cap.created_at,
        progress=ProgressOut(
            window_start=item.window.start,
            window_end=item.window.end,
            spent=money_out(status.spent),
            reserved=money_out(status.reserved),
            remaining=money_out(status.remaining),
            percent=status.percent_text(),
            exhausted=status.exhausted,
            verified=item.verified,
        ),
    )


def _changes(data: JSONBody[CapPatch]) -> dict[str, object]:
    changes: dict[str, object] = {}
    for name in data.__struct_fields__:
        value = getattr(data, name)
        if value is msgspec.UNSET:
            continue
        if name == "limit":
            value = money_in("limit", value)
        elif name in ("thresholds", "recipients"):
            value = tuple(value)
        elif name == "scope_value":
            value = value or None
        changes[name] = value
    return changes


@post("/v1/caps", tags=["caps"], summary="Create a cap")
async def create_cap(
    data: JSONBody[CapIn],
    principal: NamedDependency[Principal],
    manage_caps: NamedDependency[ManageCaps],
) -> CapOut:
    draft = CapDraft(
        name=data.name,
        scope=data.scope,
        period=data.period,
        limit=money_in("limit", data.limit),
        enforcement=data.enforcement,
        scope_value=data.scope_value,
        thresholds=tuple(data.thresholds) if data.thresholds is not None else None,
        timezone=data.timezone,
        recipients=tuple(data.recipients),
        enabled=data.enabled,
        fail_policy=data.fail_policy,
    )
    return cap_out(await manage_caps.create(principal, draft))


@get("/v1/caps", tags=["caps"], summary="List caps with live progress")
async def list_caps(
    principal: NamedDependency[Principal], manage_caps: NamedDependency[ManageCaps]
) -> CapList:
    return CapList([cap_out(item) for item in await manage_caps.list(principal)])


@get("/v1/caps/{cap_id:str}", tags=["caps"], summary="One cap with live progress")
async def get_cap(
    cap_id: FromPath[str],
    principal: NamedDependency[Principal],
    manage_caps: NamedDependency[ManageCaps],
) -> CapOut:
    return cap_out(await manage_caps.get(principal, cap_id))


@patch("/v1/caps/{cap_id:str}", tags=["caps"], summary="Change a cap")
async def update_cap(
    cap_id: FromPath[str],
    data: JSONBody[CapPatch],
    principal: NamedDependency[Principal],
    manage_caps: NamedDependency[ManageCaps],
) -> CapOut:
    return cap_out(await manage_caps.update(principal, cap_id, _changes(data)))


@delete("/v1/caps/{cap_id:str}", tags=["caps"], summary="Delete a cap")
async def delete_cap(
    cap_id: FromPath[str],
    principal: NamedDependency[Principal],
    manage_caps: NamedDependency[ManageCaps],
) -> None:
    await manage_caps.delete(principal, cap_id)
