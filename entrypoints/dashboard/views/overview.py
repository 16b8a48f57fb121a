"""The overview: what was spent in a range, on what and for whom, and how it moved."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get

from domain.reports import Dimension
from entrypoints.dashboard.csv_export import TOTALS_HEADER, csv_response, totals_cells
from entrypoints.dashboard.formatting import share_permille
from entrypoints.dashboard.query import FILTER_FIELDS, GROUPINGS, ViewQuery
from entrypoints.dashboard.ranges import RANGE_LABELS, RangeKind
from entrypoints.dashboard.rendering import page
from entrypoints.dashboard.report_data import (
    DIMENSION_LABELS,
    FILTER_FIELD,
    Report,
    load_report,
    total_tokens,
)
from entrypoints.dashboard.services import Services, UseCases
from entrypoints.dashboard.viewer import CurrentViewer, Viewer
from entrypoints.dashboard.views.common import page_context

Req = Request[Any, Any, Any]


async def report_or_errors(
    services: Services, viewer: Viewer, query: ViewQuery, **kwargs: Any
) -> tuple[Report, dict[str, str]]:
    """The report asked for; a bad custom range shows the default range and says why."""
    now = services.clock.now()
    chosen_query, _, errors = query.checked_range(now)
    report = await load_report(services, viewer.principal, chosen_query, now, **kwargs)
    # The form keeps what was typed, so the message sits beside the value it is about.
    return report, errors


def report_context(
    report: Any, path: str, errors: dict[str, str], typed: ViewQuery | None = None
) -> dict[str, Any]:
    """What the range bar, filters, chart and tables of a report page need."""
    return {
        "report": report,
        "q": report.query,
        "typed": typed or report.query,
        "path": path,
        "range_errors": errors,
        "ranges": [(kind.value, label) for kind, label in RANGE_LABELS.items()],
        "custom": RangeKind.CUSTOM.value,
        "groupings": [(d.value, DIMENSION_LABELS[d]) for d in GROUPINGS],
        "filter_fields": FILTER_FIELDS,
        "dimension_labels": DIMENSION_LABELS,
        "filter_field": FILTER_FIELD,
        "total_tokens": total_tokens,
        "share": share_permille,
    }


@get("/", name="dashboard:overview")
async def overview(request: Req, viewer: CurrentViewer, services: UseCases) -> Response[str]:
    query = ViewQuery.from_params(request.query_params)
    report, errors = await report_or_errors(services, viewer, query)
    suggestions = {
        FILTER_FIELD[d]: [row.key for row in rows if row.key]
        for d, rows in report.breakdowns.items()
    }
    return page(
        "overview.html",
        page_context(
            viewer,
            request,
            "overview",
            **report_context(report, "/", errors, query),
            dimensions=list(Dimension),
            suggestions=suggestions,
        ),
    )


@get("/export/overview.csv", name="dashboard:overview-csv")
async def overview_csv(request: Req, viewer: CurrentViewer, services: UseCases) -> Response[bytes]:
    """The overview as rows: the total, then each breakdown, under the same filters."""
    query = ViewQuery.from_params(request.query_params)
    report, _ = await report_or_errors(services, viewer, query)
    start, end = report.spend_filter.start.isoformat(), report.spend_filter.end.isoformat()
    rows: list[list[object]] = [["total", "", start, end, *totals_cells(report.totals)]]
    for dimension, breakdown in report.breakdowns.items():
        rows += [
            [dimension.value, row.key, start, end, *totals_cells(row.totals)] for row in breakdown
        ]
    return csv_response(
        f"llmobserve-overview-{report.range.first}-{report.range.last}.csv",
        ("dimension", "key", "start", "end", *TOTALS_HEADER),
        rows,
    )


@get("/export/timeseries.csv", name="dashboard:timeseries-csv")
async def timeseries_csv(
    request: Req, viewer: CurrentViewer, services: UseCases
) -> Response[bytes]:
    query = ViewQuery.from_params(request.query_params)
    report, _ = await report_or_errors(services, viewer, query)
    return csv_response(
        f"llmobserve-timeseries-{report.range.first}-{report.range.last}.csv",
        ("bucket_start", report.group_by.value, *TOTALS_HEADER),
        (
            [point.bucket_start.isoformat(), point.group, *totals_cells(point.totals)]
            for point in report.points
        ),
    )
