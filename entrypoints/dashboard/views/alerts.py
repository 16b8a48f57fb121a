"""Alert history: what was raised, for which cap and window, and whether it was sent."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get

from application.ports import AlertQuery
from domain.alerts import Alert, AlertKind, AlertStatus
from entrypoints.dashboard.csv_export import csv_response
from entrypoints.dashboard.rendering import page
from entrypoints.dashboard.services import Services, UseCases
from entrypoints.dashboard.viewer import CurrentViewer, Viewer
from entrypoints.dashboard.views.common import page_context

Req = Request[Any, Any, Any]

PAGE_LIMIT = 200
EXPORT_LIMIT = 1000


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def alert_query(
    params: dict[str, str], limit: int
) -> tuple[AlertQuery, str | None, dict[str, str]]:
    """The store query, the kind filter (applied here) and any error by field."""
    errors: dict[str, str] = {}
    status = params.get("status") or None
    if status is not None and status not in {s.value for s in AlertStatus}:
        errors["status"] = "Unknown status."
        status = None
    kind = params.get("kind") or None
    if kind is not None and kind not in {k.value for k in AlertKind}:
        errors["kind"] = "Unknown kind."
        kind = None
    since, until = _day(params.get("since")), _day(params.get("until"))
    if params.get("since") and since is None:
        errors["since"] = "Use a day such as 2026-11-01."
    if params.get("until") and until is None:
        errors["until"] = "Use a day such as 2026-11-30."
    if since and until and until < since:
        errors["until"] = "Must be on or after the first day."
        until = None
    query = AlertQuery(
        cap_id=params.get("cap") or None,
        status=AlertStatus(status) if status else None,
        since=datetime.combine(since, time(0), tzinfo=UTC) if since else None,
        until=datetime.combine(until + timedelta(days=1), time(0), tzinfo=UTC) if until else None,
        limit=limit,
    )
    return query, kind, errors


async def _alerts(
    services: Services, viewer: Viewer, params: dict[str, str], limit: int
) -> tuple[list[Alert], dict[str, str]]:
    query, kind, errors = alert_query(params, limit)
    alerts = await services.alerts.list(viewer.principal, query)
    if kind:
        alerts = [a for a in alerts if a.kind.value == kind]
    return alerts, errors


def _params(request: Req) -> dict[str, str]:
    keys = ("cap", "status", "kind", "since", "until")
    return {k: (request.query_params.get(k) or "").strip()[:100] for k in keys}


@get("/alerts", name="dashboard:alerts")
async def alerts_page(request: Req, viewer: CurrentViewer, services: UseCases) -> Response[str]:
    params = _params(request)
    alerts, errors = await _alerts(services, viewer, params, PAGE_LIMIT)
    caps = await services.caps.list(viewer.principal)
    query_string = urlencode({k: v for k, v in params.items() if v and k not in errors})
    return page(
        "alerts.html",
        page_context(
            viewer,
            request,
            "alerts",
            alerts=alerts,
            params=params,
            errors=errors,
            caps=sorted((i.cap for i in caps), key=lambda c: c.name.lower()),
            statuses=[s.value for s in AlertStatus],
            kinds=[k.value for k in AlertKind],
            limit=PAGE_LIMIT,
            export_query=query_string,
        ),
    )


@get("/export/alerts.csv", name="dashboard:alerts-csv")
async def alerts_csv(request: Req, viewer: CurrentViewer, services: UseCases) -> Response[bytes]:
    alerts, _ = await _alerts(services, viewer, _params(request), EXPORT_LIMIT)
    header = (
        "alert_id", "created_at", "cap_id", "cap_name", "kind", "threshold", "spent_usd",
        "limit_usd", "window_start", "window_end", "status", "attempts", "sent_at",
        "last_error", "recipients",
    )  # fmt: skip
    return csv_response(
        "llmobserve-alerts.csv",
        header,
        (
            [
                a.id,
                a.created_at.isoformat(),
                a.cap_id,
                a.cap_name,
                a.kind.value,
                str(a.threshold),
                a.spent.format(),
                a.limit.format(),
                a.window_start.isoformat(),
                a.window_end.isoformat(),
                a.status.value,
                str(a.attempts),
                a.sent_at.isoformat() if a.sent_at else "",
                a.last_error or "",
                " ".join(a.recipients),
            ]
            for a in alerts
        ),
    )
