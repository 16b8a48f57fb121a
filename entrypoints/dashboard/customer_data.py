"""Every customer of a range with share of total, change and a daily sparkline.

Two report reads whatever the number of customers (this range's and the previous
range's breakdown by customer), then one daily series for the customers on the page
shown: a series over every customer of a large tenant is the page's slowest read.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from domain.money import Money
from domain.reports import Bucket, Dimension, SpendFilter, SpendTotals
from entrypoints.dashboard.charts import sparkline
from entrypoints.dashboard.formatting import change_permille, share_permille
from entrypoints.dashboard.query import ViewQuery
from entrypoints.dashboard.ranges import DayRange
from entrypoints.dashboard.report_data import total_tokens
from entrypoints.dashboard.services import Services
from entrypoints.dashboard.viewer import Viewer

MAX_CUSTOMERS = 1000
SORTS = ("cost", "calls", "tokens", "trend", "customer")


@dataclass(frozen=True, slots=True)
class CustomerRow:
    customer_id: str | None
    totals: SpendTotals
    previous: Money
    share: int | None
    trend: int | None
    spark: str

    @property
    def tokens(self) -> int:
        return total_tokens(self.totals)


@dataclass(frozen=True, slots=True)
class CustomersReport:
    query: ViewQuery
    range: DayRange
    spend_filter: SpendFilter
    totals: SpendTotals
    rows: list[CustomerRow]


def _sort_key(sort: str) -> Any:
    if sort == "calls":
        return lambda r: (r.totals.calls, r.totals.cost.nanos)
    if sort == "tokens":
        return lambda r: (r.tokens, r.totals.cost.nanos)
    if sort == "trend":
        # Customers new in this range (nothing before) rank above any finite change.
        return lambda r: (r.trend is None and r.totals.cost.nanos > 0, r.trend or 0)
    if sort == "customer":
        return lambda r: (r.customer_id is None, (r.customer_id or "").lower())
    return lambda r: (r.totals.cost.nanos, r.totals.calls)


def sort_of(query: ViewQuery) -> tuple[str, bool]:
    """The sort column and whether it runs descending (numbers default high to low)."""
    sort = query.sort if query.sort in SORTS else "cost"
    if sort == "customer":
        return sort, query.order == "desc"
    return sort, query.order != "asc"


async def customers_report(
    services: Services, viewer: Viewer, asked: ViewQuery, now: datetime
) -> tuple[CustomersReport, dict[str, str]]:
    """Every customer of the range (up to 1000) with share, change and a daily sparkline."""
    query, chosen, errors = asked.with_(customer="").checked_range(now)
    reports, principal = services.reports, viewer.principal
    current_filter = query.spend_filter(chosen.start, chosen.end)
    previous_filter = query.spend_filter(chosen.previous_start, chosen.previous_end)
    current, before = await asyncio.gather(
        reports.summary(principal, current_filter, (Dimension.CUSTOMER,), limit=MAX_CUSTOMERS),
        reports.summary(principal, previous_filter, (Dimension.CUSTOMER,), limit=MAX_CUSTOMERS),
    )
    previous = {row.key: row.totals.cost for row in before.breakdowns[Dimension.CUSTOMER]}
    rows = [
        CustomerRow(
            row.key,
            row.totals,
            previous.get(row.key, Money(0)),
            share_permille(row.totals.cost, current.totals.cost),
            change_permille(row.totals.cost, previous.get(row.key, Money(0))),
            spark="",
        )
        for row in current.breakdowns[Dimension.CUSTOMER]
    ]
    sort, descending = sort_of(query)
    rows.sort(key=_sort_key(sort), reverse=descending)
    return CustomersReport(query, chosen, current_filter, current.totals, rows), errors


async def with_sparklines(
    services: Services, viewer: Viewer, report: CustomersReport, rows: list[CustomerRow]
) -> list[CustomerRow]:
    """`rows` with their daily sparklines, read for just these customers."""
    named = tuple(row.customer_id for row in rows if row.customer_id is not None)
    per_day: dict[str | None, dict[datetime, int]] = defaultdict(dict)
    if named:
        daily = await services.reports.timeseries(
            viewer.principal,
            replace(report.spend_filter, customer_ids=named),
            Bucket.DAY,
            Dimension.CUSTOMER,
        )
        for point in daily:
            per_day[point.group][point.bucket_start] = point.totals.cost.nanos
    days = [report.range.start + timedelta(days=i) for i in range(report.range.days)]
    return [
        replace(row, spark=sparkline([per_day[row.customer_id].get(day, 0) for day in days]))
        if row.customer_id is not None
        else row
        for row in rows
    ]
