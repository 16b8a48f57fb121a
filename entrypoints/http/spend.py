"""Spend reports: totals with breakdowns, and time series."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromQuery

from application.errors import Invalid
from application.spend_reports import SpendReportsService
from domain.access import Principal
from domain.periods import Period, window_of
from domain.reports import Bucket, Dimension, SpendFilter
from entrypoints.http.wire import TotalsOut, instant_in, totals_fields, totals_out


class BreakdownRowOut(TotalsOut):
    key: str | None


class SummaryOut(msgspec.Struct):
    start: datetime
    end: datetime
    totals: TotalsOut
    breakdowns: dict[str, list[BreakdownRowOut]]


class PointOut(TotalsOut):
    bucket_start: datetime
    group: str | None


class TimeseriesOut(msgspec.Struct):
    start: datetime
    end: datetime
    bucket: Bucket
    group_by: Dimension | None
    points: list[PointOut]


def spend_filter(
    now: NamedDependency[datetime],
    start: str | None,
    end: str | None,
    provider: str | None,
    model: str | None,
    agent: str | None,
    customer_id: str | None,
) -> SpendFilter:
    """The range defaults to the current calendar month in UTC."""
    month = window_of(Period.MONTHLY, now.astimezone(UTC))
    begin = instant_in("start", start) or month.start
    finish = instant_in("end", end) or (month.end if begin < month.end else None)
    if finish is None or finish <= begin:
        raise Invalid("end", "must be after start")
    return SpendFilter(
        begin, finish, provider or None, model or None, agent or None, customer_id or None
    )


@get("/v1/spend/summary", tags=["reports"], summary="Total spend with breakdowns")
async def spend_summary(
    principal: NamedDependency[Principal],
    spend_reports: NamedDependency[SpendReportsService],
    now: NamedDependency[datetime],
    start: FromQuery[str | None] = None,
    end: FromQuery[str | None] = None,
    provider: FromQuery[str | None] = None,
    model: FromQuery[str | None] = None,
    agent: FromQuery[str | None] = None,
    customer_id: FromQuery[str | None] = None,
    limit: FromQuery[int] = 50,
) -> SummaryOut:
    query = spend_filter(now, start, end, provider, model, agent, customer_id)
    summary = await spend_reports.summary(principal, query, limit=limit)
    breakdowns = {
        dimension.value: [
            BreakdownRowOut(**totals_fields(row.totals), key=row.key)  # type: ignore[arg-type]
            for row in rows
        ]
        for dimension, rows in summary.breakdowns.items()
    }
    return SummaryOut(query.start, query.end, totals_out(summary.totals), breakdowns)


@get("/v1/spend/timeseries", tags=["reports"], summary="Spend per hour or day")
async def spend_timeseries(
    principal: NamedDependency[Principal],
    spend_reports: NamedDependency[SpendReportsService],
    now: NamedDependency[datetime],
    bucket: FromQuery[Bucket] = Bucket.DAY,
    group_by: FromQuery[Dimension | None] = None,
    start: FromQuery[str | None] = None,
    end: FromQuery[str | None] = None,
    provider: FromQuery[str | None] = None,
    model: FromQuery[str | None] = None,
    agent: FromQuery[str | None] = None,
    customer_id: FromQuery[str | None] = None,
) -> TimeseriesOut:
    query = spend_filter(now, start, end, provider, model, agent, customer_id)
    points = await spend_reports.timeseries(principal, query, bucket, group_by)
    return TimeseriesOut(
        query.start,
        query.end,
        bucket,
        group_by,
        [
            PointOut(**totals_fields(p.totals), bucket_start=p.bucket_start, group=p.group)  # type: ignore[arg-type]
            for p in points
        ],
    )
