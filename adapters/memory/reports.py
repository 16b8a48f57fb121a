"""Spend reports computed over the in-memory events (the unit layer's reference answers)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from adapters.memory.store import MemoryStore
from application.ports import SpendReports
from domain.events import CallStatus, SpendEvent
from domain.reports import (
    BreakdownRow,
    Bucket,
    Dimension,
    SpendFilter,
    SpendTotals,
    TimePoint,
)
from domain.time_buckets import bucket_start


def totals_of(event: SpendEvent) -> SpendTotals:
    usage = event.usage
    return SpendTotals(
        cost=event.billable_cost,
        calls=1,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cache_read_tokens=usage.cache_read_tokens,
        cache_write_tokens=usage.cache_write_tokens,
        reasoning_tokens=usage.reasoning_tokens,
        unpriced_calls=0 if event.priced else 1,
        error_calls=1 if event.status is CallStatus.ERROR else 0,
    )


def dimension_value(event: SpendEvent, dimension: Dimension) -> str | None:
    match dimension:
        case Dimension.PROVIDER:
            return event.provider
        case Dimension.MODEL:
            return event.model
        case Dimension.AGENT:
            return event.agent
        case Dimension.CUSTOMER:
            return event.customer_id


def sort_rows(rows: Iterable[BreakdownRow]) -> list[BreakdownRow]:
    return sorted(rows, key=lambda row: (-row.totals.cost.nanos, -row.totals.calls, row.key or ""))


class MemorySpendReports(SpendReports):
    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    def _selected(self, tenant_id: str, f: SpendFilter) -> list[SpendEvent]:
        return [
            e
            for e in self._store.events
            if e.tenant_id == tenant_id
            and f.start <= e.occurred_at < f.end
            and (f.provider is None or e.provider == f.provider)
            and (f.model is None or e.model == f.model)
            and (f.agent is None or e.agent == f.agent)
            and (f.customer_id is None or e.customer_id == f.customer_id)
            and (f.customer_ids is None or e.customer_id in f.customer_ids)
        ]

    async def totals(self, tenant_id: str, spend_filter: SpendFilter) -> SpendTotals:
        result = SpendTotals()
        for event in self._selected(tenant_id, spend_filter):
            result += totals_of(event)
        return result

    async def breakdown(
        self, tenant_id: str, spend_filter: SpendFilter, dimension: Dimension, limit: int
    ) -> list[BreakdownRow]:
        groups: dict[str | None, SpendTotals] = defaultdict(SpendTotals)
        for event in self._selected(tenant_id, spend_filter):
            groups[dimension_value(event, dimension)] += totals_of(event)
        return sort_rows(BreakdownRow(key, totals) for key, totals in groups.items())[:limit]

    async def timeseries(
        self, tenant_id: str, spend_filter: SpendFilter, bucket: Bucket, group_by: Dimension | None
    ) -> list[TimePoint]:
        points: dict[tuple[object, str | None], SpendTotals] = defaultdict(SpendTotals)
        for event in self._selected(tenant_id, spend_filter):
            group = dimension_value(event, group_by) if group_by else None
            points[(bucket_start(event.occurred_at, bucket), group)] += totals_of(event)
        return sorted(
            (TimePoint(start, group, totals) for (start, group), totals in points.items()),  # type: ignore[arg-type]
            key=lambda p: (p.bucket_start, p.group or ""),
        )
