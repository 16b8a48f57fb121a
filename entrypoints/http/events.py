"""`POST /v1/events`: record a batch; valid events are stored even when others are rejected."""

from __future__ import annotations

import msgspec
from litestar import Response, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import RawBody

from application.errors import NotFound
from domain.access import Principal
from domain.events import SpendEvent
from entrypoints.http.deps import container_of
from entrypoints.http.errors import ApiError, ErrorBody, FieldError
from entrypoints.http.events_in import EnvelopeError, Rejection, parse_batch, requested_tenants
from entrypoints.http.openapi import JsonBodyOperation


class EventsResult(msgspec.Struct):
    accepted: int
    duplicates: int
    rejected: list[Rejection]


@post(
    "/v1/events",
    status_code=200,
    tags=["ingest"],
    summary="Record a batch of LLM calls",
    description="1-1000 events, at most 1 MiB on the wire (gzip accepted). 200: all accepted; "
    "207: some rejected (the valid ones are stored); 422: all rejected. A retried event_id is "
    "counted once, under duplicates.",
    operation_class=JsonBodyOperation.for_schema("EventBatchIn"),
    responses={
        207: ResponseSpec(EventsResult, description="Some events rejected; the others stored"),
        422: ResponseSpec(EventsResult, description="Every event rejected"),
        400: ResponseSpec(ErrorBody, description="Not JSON, or no events list"),
        413: ResponseSpec(ErrorBody, description="Over 1 MiB or over 1000 events"),
    },
)
async def record_events(
    body: RawBody, principal: NamedDependency[Principal], state: State
) -> Response[EventsResult]:
    container = container_of(state)
    record_spend, report_on_behalf = container.record_spend(), container.report_on_behalf()
    now = container.clock().now()
    # Events naming another tenant: a platform key reporting for its child tenants.
    on_behalf: dict[str, Principal] = {}
    for tenant_id in sorted(requested_tenants(body) - {principal.tenant_id}):
        try:
            on_behalf[tenant_id] = await report_on_behalf.principal_for(principal, tenant_id)
        except NotFound:
            continue  # those events are rejected one by one, like a tenant that does not exist
    try:
        batch = parse_batch(body, principal.tenant_id, now, frozenset(on_behalf))
    except EnvelopeError as exc:
        raise ApiError(exc.status_code, exc.message, [FieldError(exc.field, exc.message)]) from None
    accepted = duplicates = 0
    by_tenant: dict[str, list[SpendEvent]] = {}
    for event in batch.events:
        by_tenant.setdefault(event.tenant_id, []).append(event)
    for tenant_id, events in by_tenant.items():
        result = await record_spend(on_behalf.get(tenant_id, principal), events)
        accepted, duplicates = accepted + len(result.stored), duplicates + result.duplicates
    status = 200 if not batch.rejected else 207 if batch.events else 422
    return Response(EventsResult(accepted, duplicates, batch.rejected), status_code=status)
