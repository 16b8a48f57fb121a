"""Spend reports from the rollups, with raw events only for partial hours at the edges."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from adapters.sql.conditions import DIMENSION_COLUMN, filter_condition
from adapters.sql.rollup_folds import coarse_until
from adapters.sql.session import SqlSession
from adapters.sql.spend_query import BUCKET, spend_totals_query
from adapters.sql.tables import MODEL_DIMENSIONS, NO_VALUE
from application.ports import SpendReports
from domain.money import Money
from domain.reports import (
    BreakdownRow,
    Bucket,
    Dimension,
    SpendFilter,
    SpendTotals,
    TimePoint,
)


def totals_from(row: Mapping[Any, Any]) -> SpendTotals:
    return SpendTotals(
        cost=Money(int(row["cost_nanos"])),
        calls=int(row["calls"]),
        input_tokens=int(row["input_tokens"]),
        output_tokens=int(row["output_tokens"]),
        cache_read_tokens=int(row["cache_read_tokens"]),
        cache_write_tokens=int(row["cache_write_tokens"]),
        reasoning_tokens=int(row["reasoning_tokens"]),
        unpriced_calls=int(row["unpriced_calls"]),
        error_calls=int(row["error_calls"]),
    )


def _key(value: str) -> str | None:
    return None if value == NO_VALUE else value


def _by_model(spend_filter: SpendFilter, keys: Sequence[str]) -> bool:
    """Whether the model rollups can answer: nothing asked of agent or customer."""
    return (
        spend_filter.agent is None
        and spend_filter.customer_id is None
        and spend_filter.customer_ids is None
        and set(keys) <= set(MODEL_DIMENSIONS)
    )


class SqlSpendReports(SpendReports):
    def __init__(self, session: SqlSession) -> None:
        self._session = session

    async def _coarse_until(self, tenant_id: str, by_model: bool) -> datetime | None:
        # The model rollups are kept whole at ingest: no watermark to read for them.
        return None if by_model else await coarse_until(self._session, tenant_id)

    async def totals(self, tenant_id: str, spend_filter: SpendFilter) -> SpendTotals:
        by_model = _by_model(spend_filter, ())
        query = spend_totals_query(
            self._session.dialect,
            tenant_id,
            spend_filter.start,
            spend_filter.end,
            where=filter_condition(spend_filter),
            by_model=by_model,
            coarse_until=await self._coarse_until(tenant_id, by_model),
        )
        return totals_from((await self._session.execute(*query)).mappings().one())

    async def breakdown(
        self, tenant_id: str, spend_filter: SpendFilter, dimension: Dimension, limit: int
    ) -> list[BreakdownRow]:
        rows = await self.breakdown_by(tenant_id, spend_filter, (dimension,), limit)
        return [BreakdownRow(keys[0], totals) for keys, totals in rows]

    async def breakdown_by(
        self,
        tenant_id: str,
        spend_filter: SpendFilter,
        dimensions: Sequence[Dimension],
        limit: int,
    ) -> list[tuple[tuple[str | None, ...], SpendTotals]]:
        """Totals per combination of dimensions (provider x model x customer, say), ordered
        by cost, then calls, then the keys: the largest first."""
        keys = [DIMENSION_COLUMN[dimension] for dimension in dimensions]
        by_model = _by_model(spend_filter, keys)
        query = spend_totals_query(
            self._session.dialect,
            tenant_id,
            spend_filter.start,
            spend_filter.end,
            where=filter_condition(spend_filter),
            keys=keys,
            by_model=by_model,
            coarse_until=await self._coarse_until(tenant_id, by_model),
            top=limit,
        )
        rows = await self._session.rows(*query)
        return [(tuple(_key(row[key]) for key in keys), totals_from(row)) for row in rows]

    async def timeseries(
        self,
        tenant_id: str,
        spend_filter: SpendFilter,
        bucket: Bucket,
        group_by: Dimension | None,
    ) -> list[TimePoint]:
        key = DIMENSION_COLUMN[group_by] if group_by else None
        keys = [key] if key else []
        by_model = _by_model(spend_filter, keys)
        query = spend_totals_query(
            self._session.dialect,
            tenant_id,
            spend_filter.start,
            spend_filter.end,
            where=filter_condition(spend_filter),
            keys=keys,
            bucket=bucket,
            by_model=by_model,
            coarse_until=await self._coarse_until(tenant_id, by_model),
        )
        points = [
            TimePoint(row[BUCKET], _key(row[key]) if key else None, totals_from(row))
            for row in await self._session.rows(*query)
        ]
        return sorted(points, key=lambda point: (point.bucket_start, point.group or ""))
