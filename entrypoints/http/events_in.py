"""Decode a `POST /v1/events` batch event by event, so one bad event never sinks the rest.

The envelope is parsed once with each event kept as raw JSON; every event is
then decoded on its own and checked by the domain's rules. A rejection names
the event's index, its event_id when readable, and the field, as the wire
format asks.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import msgspec

from domain.events import CallStatus, InvalidEvent, SpendEvent, check_event_fields
from domain.usage import InvalidUsage, Usage

MAX_EVENTS_PER_BATCH = 1000
MAX_ID_LENGTH = 200
DEFAULT_OPERATION = "chat"
_OPERATION = re.compile(r"[A-Za-z0-9_.:-]{1,50}")
_AT_PATH = re.compile(r" - at `\$\.?(?P<path>[^`]*)`$")
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_MISSING = re.compile(r"missing required field `(?P<name>[^`]+)`")


class UsageIn(msgspec.Struct):
    input_tokens: int | None = 0
    output_tokens: int | None = 0
    cache_read_tokens: int | None = 0
    cache_write_tokens: int | None = 0
    reasoning_tokens: int | None = 0


class EventIn(msgspec.Struct):
    """One LLM call as the SDK reports it (docs/wire-format.md); unknown fields are ignored."""

    event_id: str
    occurred_at: datetime
    provider: str
    model: str
    usage: UsageIn
    operation: str | None = DEFAULT_OPERATION
    latency_ms: int | None = None
    status: CallStatus | None = CallStatus.OK
    agent: str | None = None
    customer_id: str | None = None
    tags: dict[str, str] | None = None
    tenant_id: str | None = None
    reservation_id: str | None = None
    estimated: bool | None = False


class EventBatchIn(msgspec.Struct):
    events: list[EventIn]


class _Envelope(msgspec.Struct):
    events: list[msgspec.Raw]


class Rejection(msgspec.Struct):
    index: int
    event_id: str | None
    field: str
    error: str


@dataclass
class ParsedBatch:
    events: list[SpendEvent] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)


class EnvelopeError(ValueError):
    def __init__(self, status_code: int, field: str, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.field = field
        self.message = message


_batch_decoder = msgspec.json.Decoder(EventBatchIn)
_envelope_decoder = msgspec.json.Decoder(_Envelope)
_event_decoder = msgspec.json.Decoder(EventIn)
_loose_decoder = msgspec.json.Decoder()


class _TenantOnly(msgspec.Struct):
    tenant_id: str | None = None


_tenant_decoder = msgspec.json.Decoder(_Envelope)
_tenant_only_decoder = msgspec.json.Decoder(_TenantOnly)
MAX_TENANTS_PER_BATCH = 100


def requested_tenants(body: bytes) -> set[str]:
    """The `tenant_id`s a batch names (at most 100 distinct), read loosely: the strict
    parse decides later; this only says which tenants to ask permission for."""
    if b"tenant_id" not in body:
        return set()  # the common batch, spared a second parse
    try:
        envelope = _tenant_decoder.decode(body)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return set()
    found: set[str] = set()
    for raw in envelope.events:
        try:
            tenant_id = _tenant_only_decoder.decode(raw).tenant_id
        except (msgspec.ValidationError, msgspec.DecodeError):
            continue
        if tenant_id and len(found) < MAX_TENANTS_PER_BATCH:
            found.add(tenant_id)
    return found


def parse_batch(
    body: bytes, tenant_id: str, now: datetime, also_for: frozenset[str] = frozenset()
) -> ParsedBatch:
    """Split a batch into storable events and rejections; raise EnvelopeError for the envelope.

    An event may name another tenant in `tenant_id` only when that tenant is in `also_for`
    (the tenants this key reports for on their behalf, docs/auth.md)."""
    items = _events_of(body)
    count = len(items)
    if count == 0:
        raise EnvelopeError(400, "events", "a batch holds 1 to 1000 events, got none")
    if count > MAX_EVENTS_PER_BATCH:
        raise EnvelopeError(
            413, "events", f"a batch holds at most {MAX_EVENTS_PER_BATCH} events, got {count}"
        )
    parsed = ParsedBatch()
    first_index: dict[str, int] = {}
    for index, item in enumerate(items):
        try:
            data = item if isinstance(item, EventIn) else _event_decoder.decode(item)
            event = to_event(data, tenant_id, now, also_for)
        except msgspec.ValidationError as exc:
            field_name, message = _msgspec_field(str(exc))
            parsed.rejected.append(Rejection(index, _readable_id(item), field_name, message))
            continue
        except (InvalidEvent, InvalidUsage) as exc:
            parsed.rejected.append(Rejection(index, _readable_id(item), exc.field, exc.message))
            continue
        earlier = first_index.setdefault(event.event_id, index)
        if earlier != index:
            parsed.rejected.append(
                Rejection(
                    index,
                    event.event_id,
                    "event_id",
                    f"repeats the event_id of the event at index {earlier}",
                )
            )
            continue
        parsed.events.append(event)
    return parsed


def _events_of(body: bytes) -> Sequence[EventIn | msgspec.Raw]:
    """The usual batch, every event well formed, decoded in one pass; any other with each
    event left raw, to be decoded on its own so that a malformed one is rejected alone."""
    try:
        return _batch_decoder.decode(body).events
    except (msgspec.ValidationError, msgspec.DecodeError):
        pass
    try:
        return _envelope_decoder.decode(body).events
    except msgspec.ValidationError as exc:
        raise EnvelopeError(
            400, "events", f"the body must be an object with an events list: {exc}"
        ) from None
    except msgspec.DecodeError as exc:
        raise EnvelopeError(400, "body", f"the body is not valid JSON: {exc}") from None


def to_event(
    data: EventIn, tenant_id: str, now: datetime, also_for: frozenset[str] = frozenset()
) -> SpendEvent:
    named_tenant = data.tenant_id
    if named_tenant and named_tenant != tenant_id:
        if named_tenant not in also_for:
            # The same words for a tenant that does not exist and one that is not ours.
            raise InvalidEvent("tenant_id", "is not a tenant this key may report for")
        tenant_id = named_tenant
    event_id = _event_id(data.event_id)
    operation = data.operation or DEFAULT_OPERATION
    if operation != DEFAULT_OPERATION and _OPERATION.fullmatch(operation) is None:
        raise InvalidEvent(
            "operation", "is a short word: 1-50 letters, digits, '_', '-', '.' or ':'"
        )
    if data.reservation_id is not None and len(data.reservation_id) > MAX_ID_LENGTH:
        raise InvalidEvent("reservation_id", f"must be at most {MAX_ID_LENGTH} characters")
    usage = data.usage
    try:
        counts = Usage(
            usage.input_tokens or 0,
            usage.output_tokens or 0,
            usage.cache_read_tokens or 0,
            usage.cache_write_tokens or 0,
            usage.reasoning_tokens or 0,
        )
    except InvalidUsage as exc:
        raise InvalidUsage(f"usage.{exc.field}", exc.message) from None
    occurred_at = data.occurred_at
    if occurred_at.tzinfo is None:
        raise InvalidEvent("occurred_at", "needs a UTC offset, such as 2026-11-26T10:00:00Z")
    event = SpendEvent(
        tenant_id=tenant_id,
        event_id=event_id,
        occurred_at=occurred_at.astimezone(UTC),
        provider=data.provider.strip(),
        model=data.model.strip(),
        usage=counts,
        operation=operation,
        status=data.status or CallStatus.OK,
        agent=data.agent or None,
        customer_id=data.customer_id or None,
        tags=data.tags or {},
        latency_ms=data.latency_ms,
        reservation_id=data.reservation_id or None,
        estimated=bool(data.estimated),
    )
    check_event_fields(event, now)
    return event


def _event_id(text: str) -> str:
    """Canonical lower-case UUID text, so a retried id always meets its first copy."""
    if _CANONICAL_UUID.fullmatch(text):
        return text  # what the SDK sends: spared building a UUID object
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise InvalidEvent("event_id", "must be a UUID (UUIDv7 recommended)") from None


def _msgspec_field(message: str) -> tuple[str, str]:
    """`Expected int, got str - at $.usage.input_tokens` -> ("usage.input_tokens", "Expected ...")."""
    path = ""
    at = _AT_PATH.search(message)
    if at is not None:
        path = at.group("path").replace("[...]", "")
        message = message[: at.start()]
    missing = _MISSING.search(message)
    if missing is not None:
        path = f"{path}.{missing.group('name')}" if path else missing.group("name")
        message = "is required"
    return path or "event", message


def _readable_id(raw: EventIn | msgspec.Raw) -> str | None:
    if isinstance(raw, EventIn):
        return raw.event_id
    try:
        value = _loose_decoder.decode(raw)
    except msgspec.DecodeError:
        return None
    event_id = value.get("event_id") if isinstance(value, dict) else None
    return event_id if isinstance(event_id, str) else None
