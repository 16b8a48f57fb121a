"""A recorded call waiting in the exporter's queue, and its wire representation."""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping
from typing import Any

from ._context import Attribution
from ._usage import Usage
from ._uuid7 import uuid7_str


class PendingEvent:
    """One LLM call, recorded cheaply on the caller's thread.

    Formatting (ids, timestamps, JSON) is left to the exporter thread, so recording
    costs the caller little more than building this object.
    """

    __slots__ = (
        "attribution",
        "estimated",
        "event_id",
        "latency_ms",
        "model",
        "occurred_ns",
        "operation",
        "provider",
        "reservation_id",
        "status",
        "usage",
    )

    def __init__(
        self,
        occurred_ns: int,
        provider: str,
        model: str,
        operation: str,
        usage: Usage,
        latency_ms: int,
        status: str,
        attribution: Attribution,
        reservation_id: str | None = None,
        estimated: bool = False,
    ) -> None:
        self.occurred_ns = occurred_ns
        self.provider = provider
        self.model = model
        self.operation = operation
        self.usage = usage
        self.latency_ms = latency_ms
        self.status = status
        self.attribution = attribution
        self.reservation_id = reservation_id
        self.estimated = estimated
        # Made once, on first serialisation, and reused by every retry, so the
        # collector can recognise a batch it has already counted.
        self.event_id: str | None = None

    def to_wire(self, tenant_id: str | None, default_tags: Mapping[str, str]) -> dict[str, Any]:
        """Return the event object of a ``POST /v1/events`` batch."""
        if self.event_id is None:
            self.event_id = uuid7_str(self.occurred_ns)
        attribution = self.attribution
        tags = {**default_tags, **attribution.tags} if default_tags else attribution.tags
        if len(tags) > 50:
            tags = dict(list(tags.items())[:50])
        return {
            "event_id": self.event_id,
            "occurred_at": rfc3339(self.occurred_ns),
            "provider": (self.provider or "unknown")[:200],
            "model": (self.model or "unknown")[:200],
            "operation": self.operation,
            "usage": self.usage.to_wire(),
            "latency_ms": max(0, self.latency_ms),
            "status": self.status,
            "agent": attribution.agent_path,
            "customer_id": attribution.customer_id,
            "tags": tags,
            "tenant_id": tenant_id,
            "reservation_id": self.reservation_id,
            "estimated": self.estimated,
        }


def rfc3339(timestamp_ns: int) -> str:
    """Format a Unix timestamp in nanoseconds as RFC 3339 UTC with milliseconds."""
    seconds, rest_ns = divmod(timestamp_ns, 1_000_000_000)
    prefix = _second_prefix(seconds)
    return f"{prefix}.{rest_ns // 1_000_000:03d}Z"


@functools.lru_cache(maxsize=64)
def _second_prefix(seconds: int) -> str:
    # Events of one batch mostly fall within a few seconds: format each second once.
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
