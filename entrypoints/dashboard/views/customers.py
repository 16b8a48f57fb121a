"""Customers: who costs what, sortable, most expensive first; and each customer's own page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import quote, unquote

from litestar import Request, Response, get
from litestar.params import FromPath

from application.errors import NotFound
from domain.caps import CapScope
from domain.reports import MAX_REPORT_DAYS, Dimension, SpendFilter
from entrypoints.dashboard.cap_rows import cap_rows
from entrypoints.dashboard.csv_export import TOTALS_HEADER, csv_response, totals_cells
from entrypoints.dashboard.customer_data import (
    MAX_CUSTOMERS,
    customers_report,
    sort_of,
    with_sparklines,
)
from entrypoints.dashboard.formatting import share_permille
from entrypoints.dashboard.query import FILTER_FIELDS, ViewQuery
from entrypoints.dashboard.rendering import page
from entrypoints.dashboard.services import Services, UseCases
from entrypoints.dashboard.viewer import CurrentViewer, Viewer
from entrypoints.dashboard.views.common import page_context
from entrypoints.dashboard.views.overview import report_context, report_or_errors

Req = Request[Any, Any, Any]

PAGE_SIZE = 50
CUSTOMER_PREFIX = "/customers/"
NOT_CUSTOMER_FILTERS = [f for f in FILTER_FIELDS if f[0] != "customer"]


def _page_number(query: ViewQuery, pages: int) -> int:
    number = int(query.page) if query.page.isdigit() else 1
    return min(max(1, number), pages)


@get("/customers", name="dashboard:customers")
async def customers(request: Req, viewer: CurrentViewer, services: UseCases) -> Response[str]:
    asked = ViewQuery.from_params(request.query_params)
    report, errors = await customers_report(services, viewer, asked, services.clock.now())
    pages = max(1, -(-len(report.rows) // PAGE_SIZE))
    number = _page_number(report.query, pages)
    sort, descending = sort_of(report.query)
    context = page_context(
        viewer,
        request,
        "customers",
        **report_context(report, "/customers", errors, asked),
        rows=await with_sparklines(
            services, viewer, report, report.rows[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
        ),
        total_rows=len(report.rows),
        page_number=number,
        pages=pages,
        sort=sort,
        descending=descending,
        capped=len(report.rows) >= MAX_CUSTOMERS,
    )
    context["filter_fields"] = NOT_CUSTOMER_FILTERS
    return page("customers.html", context)


@get("/export/customers.csv", name="dashboard:customers-csv")
async def customers_csv(request: Req, viewer: CurrentViewer, services: UseCases) -> Response[bytes]:
    asked = ViewQuery.from_params(request.query_params)
    report, _ = await customers_report(services, viewer, asked, services.clock.now())
    return csv_response(
        f"llmobserve-customers-{report.range.first}-{report.range.last}.csv",
        ("customer_id", *TOTALS_HEADER, "share_percent", "previous_cost_usd", "change_percent"),
        (
            [
                row.customer_id,
                *totals_cells(row.totals),
                _permille_cell(row.share),
                row.previous.format(),
                _permille_cell(row.trend),
            ]
            for row in report.rows
        ),
    )


def _permille_cell(value: int | None) -> str:
    if value is None:
        return ""
    sign = "-" if value < 0 else ""
    whole, tenth = divmod(abs(value), 10)
    return f"{sign}{whole}.{tenth}"


def customer_id_of(request: Req) -> str:
    """The customer id exactly as linked: read from the raw path, so "/" and "//" survive."""
    raw = request.scope.get("raw_path") or request.scope["path"].encode()
    path = raw.decode("latin-1").split("?", 1)[0]
    customer_id = unquote(path[len(CUSTOMER_PREFIX) :]) if path.startswith(CUSTOMER_PREFIX) else ""
    if not customer_id or len(customer_id) > 200:
        raise NotFound("customer")
    return customer_id


async def _spent_within_horizon(services: Services, viewer: Viewer, customer_id: str) -> bool:
    now = services.clock.now()
    horizon = SpendFilter(
        now - timedelta(days=MAX_REPORT_DAYS - 1), now + timedelta(days=1), customer_id=customer_id
    )
    found = await services.reports.summary(viewer.principal, horizon, (), limit=1)
    return found.totals.calls > 0


@get("/customers/{rest:path}", name="dashboard:customer")
async def customer(
    request: Req, viewer: CurrentViewer, services: UseCases, rest: FromPath[str]
) -> Response[str]:
    """A customer is known to a tenant by its spend or its caps; anything else is not found."""
    customer_id = customer_id_of(request)
    asked = ViewQuery.from_params(request.query_params).with_(customer="")
    if not asked.by:
        asked = asked.with_(by=Dimension.MODEL.value)
    caps = [
        item
        for item in await services.caps.list(viewer.principal)
        if item.cap.scope is CapScope.CUSTOMER and item.cap.scope_value == customer_id
    ]
    if not caps and not await _spent_within_horizon(services, viewer, customer_id):
        raise NotFound("customer")
    dimensions = (Dimension.MODEL, Dimension.AGENT, Dimension.PROVIDER)
    report, errors = await report_or_errors(
        services, viewer, asked, dimensions=dimensions, customer_id=customer_id
    )
    everyone = await services.reports.summary(
        viewer.principal,
        report.query.spend_filter(report.range.start, report.range.end),
        (),
        limit=1,
    )
    context = page_context(
        viewer,
        request,
        "customers",
        **report_context(report, CUSTOMER_PREFIX + quote(customer_id, safe=""), errors, asked),
        customer_id=customer_id,
        tenant_total=everyone.totals.cost,
        share_of_total=share_permille(report.totals.cost, everyone.totals.cost),
        caps=cap_rows(caps, services.clock.now()),
        dimensions=list(dimensions),
    )
    context["filter_fields"] = NOT_CUSTOMER_FILTERS
    return page("customer.html", context)
