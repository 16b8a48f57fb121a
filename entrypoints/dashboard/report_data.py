"""What the report pages show, read through the spend-report use case (rollups underneath)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from domain.access import Principal
from domain.reports import BreakdownRow, Bucket, Dimension, SpendFilter, SpendTotals, TimePoint
from entrypoints.dashboard.charts import StackedChart, stacked_chart
from entrypoints.dashboard.formatting import change_permille
from entrypoints.dashboard.query import ViewQuery
from entrypoints.dashboard.ranges import DayRange, bucket_for
from entrypoints.dashboard.services import Services

BREAKDOWN_ROWS = 50
DIMENSION_LABELS: dict[Dimension, str] = {
    Dimension.PROVIDER: "Provider",
    Dimension.MODEL: "Model",
    Dimension.AGENT: "Agent",
    Dimension.CUSTOMER: "Customer",
}
# The query-string field each dimension filters on.
FILTER_FIELD: dict[Dimension, str] = {
    Dimension.PROVIDER: "provider",
    Dimension.MODEL: "model",
    Dimension.AGENT: "agent",
    Dimension.CUSTOMER: "customer",
}


@dataclass(frozen=True, slots=True)
class Report:
    query: ViewQuery
    range: DayRange
    bucket: Bucket
    group_by: Dimension
    spend_filter: SpendFilter
    totals: SpendTotals
    previous: SpendTotals
    breakdowns: dict[Dimension, list[BreakdownRow]]
    points: list[TimePoint]
    chart: StackedChart

    @property
    def change(self) -> int | None:
        return change_permille(self.totals.cost, self.previous.cost)

    @property
    def tokens(self) -> int:
        t = self.totals
        return t.input_tokens + t.output_tokens + t.cache_read_tokens + t.cache_write_tokens


def total_tokens(totals: SpendTotals) -> int:
    return (
        totals.input_tokens
        + totals.output_tokens
        + totals.cache_read_tokens
        + totals.cache_write_tokens
    )


async def load_report(
    services: Services,
    principal: Principal,
    query: ViewQuery,
    now: datetime,
    dimensions: tuple[Dimension, ...] = tuple(Dimension),
    customer_id: str | None = None,
) -> Report:
    """Totals, the previous range's totals, breakdowns and the chart of one view."""
    chosen = query.day_range(now)
    bucket = bucket_for(query.bucket or None, chosen)
    group_by = query.group_by()
    extra = {"customer_id": customer_id} if customer_id is not None else {}
    current = query.spend_filter(chosen.start, chosen.end, **extra)
    previous = query.spend_filter(chosen.previous_start, chosen.previous_end, **extra)
    reports = services.reports
    summary, before, points = await asyncio.gather(
        reports.summary(principal, current, dimensions, limit=BREAKDOWN_ROWS),
        reports.summary(principal, previous, (), limit=1),
        reports.timeseries(principal, current, bucket, group_by),
    )
    return Report(
        query=query,
        range=chosen,
        bucket=bucket,
        group_by=group_by,
        spend_filter=current,
        totals=summary.totals,
        previous=before.totals,
        breakdowns=summary.breakdowns,
        points=points,
        chart=stacked_chart(points, chosen.start, chosen.end, bucket),
    )
