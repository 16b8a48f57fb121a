"""Alert history: what was raised, for which cap and window, and whether it went out."""

from __future__ import annotations

from datetime import datetime

import msgspec
from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromQuery

from application.alert_history import AlertHistory
from application.ports import AlertQuery
from domain.access import Principal
from domain.alerts import Alert, AlertKind, AlertStatus
from entrypoints.http.wire import instant_in, money_out


class AlertOut(msgspec.Struct):
    id: str
    cap_id: str
    cap_name: str
    kind: AlertKind
    threshold: int
    window_start: datetime
    window_end: datetime
    spent: str
    limit: str
    recipients: list[str]
    status: AlertStatus
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime | None


class AlertList(msgspec.Struct):
    alerts: list[AlertOut]


def alert_out(alert: Alert) -> AlertOut:
    return AlertOut(
        id=alert.id,
        cap_id=alert.cap_id,
        cap_name=alert.cap_name,
        kind=alert.kind,
        threshold=alert.threshold,
        window_start=alert.window_start,
        window_end=alert.window_end,
        spent=money_out(alert.spent),
        limit=money_out(alert.limit),
        recipients=list(alert.recipients),
        status=alert.status,
        attempts=alert.attempts,
        last_error=alert.last_error,
        created_at=alert.created_at,
        sent_at=alert.sent_at,
        next_attempt_at=alert.next_attempt_at,
    )


@get("/v1/alerts", tags=["alerts"], summary="Alert history, newest first")
async def list_alerts(
    principal: NamedDependency[Principal],
    alert_history: NamedDependency[AlertHistory],
    cap_id: FromQuery[str | None] = None,
    status: FromQuery[AlertStatus | None] = None,
    since: FromQuery[str | None] = None,
    until: FromQuery[str | None] = None,
    limit: FromQuery[int] = 100,
) -> AlertList:
    query = AlertQuery(
        cap_id=cap_id or None,
        status=status,
        since=instant_in("since", since),
        until=instant_in("until", until),
        limit=limit,
    )
    return AlertList([alert_out(alert) for alert in await alert_history.list(principal, query)])
