"""Spend reports: totals, breakdowns and time series, always within the caller's tenant."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

from application.errors import Invalid, require
from application.ports import UnitOfWorkFactory
from domain.access import Permission, Principal
from domain.reports import (
    MAX_REPORT_DAYS,
    BreakdownRow,
    Bucket,
    Dimension,
    SpendFilter,
    SpendTotals,
    TimePoint,
)

MAX_BREAKDOWN_ROWS = 1000
MAX_HOURLY_POINTS_RANGE = timedelta(days=31)


@dataclass(frozen=True, slots=True)
class SpendSummary:
    spend_filter: SpendFilter
    totals: SpendTotals
    breakdowns: dict[Dimension, list[BreakdownRow]]


class SpendReportsService:
    """Business rules:
    - a report never spans more than 400 days, and hourly series at most 31 days;
    - unpriced calls are counted apart, never folded in as $0;
    - every query is scoped to the caller's tenant.
    """

    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def summary(
        self,
        principal: Principal,
        spend_filter: SpendFilter,
        dimensions: tuple[Dimension, ...] = tuple(Dimension),
        limit: int = 50,
    ) -> SpendSummary:
        require(principal, Permission.READ_SPEND)
        _check_range(spend_filter)
        if not 1 <= limit <= MAX_BREAKDOWN_ROWS:
            raise Invalid("limit", f"must be between 1 and {MAX_BREAKDOWN_ROWS}")
        tenant_id = principal.tenant_id

        async def totals() -> SpendTotals:
            async with self._uow_factory(tenant_id) as uow:
                return await uow.reports.totals(tenant_id, spend_filter)

        async def breakdown(dimension: Dimension) -> list[BreakdownRow]:
            async with self._uow_factory(tenant_id) as uow:
                return await uow.reports.breakdown(tenant_id, spend_filter, dimension, limit)

        # Independent reads, each in its own unit of work: on PostgreSQL they run side by
        # side on separate connections (each statement reads its own snapshot anyway).
        found_totals, rows = await asyncio.gather(
            totals(), asyncio.gather(*(breakdown(dimension) for dimension in dimensions))
        )
        return SpendSummary(spend_filter, found_totals, dict(zip(dimensions, rows, strict=True)))

    async def timeseries(
        self,
        principal: Principal,
        spend_filter: SpendFilter,
        bucket: Bucket,
        group_by: Dimension | None = None,
    ) -> list[TimePoint]:
        require(principal, Permission.READ_SPEND)
        _check_range(spend_filter)
        if (
            bucket is Bucket.HOUR
            and spend_filter.end - spend_filter.start > MAX_HOURLY_POINTS_RANGE
        ):
            raise Invalid("bucket", "hourly series span at most 31 days; use day")
        async with self._uow_factory(principal.tenant_id) as uow:
            return await uow.reports.timeseries(principal.tenant_id, spend_filter, bucket, group_by)


def _check_range(spend_filter: SpendFilter) -> None:
    if spend_filter.end - spend_filter.start > timedelta(days=MAX_REPORT_DAYS):
        raise Invalid("end", f"a report spans at most {MAX_REPORT_DAYS} days")
