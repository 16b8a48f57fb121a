"""The second alert channel: a signed JSON POST, or a Slack-compatible {"text": ...}.

A non-2xx answer, a timeout or a refused connection raises, so the dispatcher retries.
Every delivery of one alert carries the same `X-LLMObserve-Delivery` id (the alert id):
a receiver that has seen it can ignore a retried delivery.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from adapters.email.view import AlertView, build_view
from adapters.webhooks.config import WebhookConfig, WebhookFormat
from adapters.webhooks.signing import SIGNATURE_HEADER, sign
from application.alert_context import Contributor
from application.ports import AlertNotifier
from domain.alerts import Alert
from domain.forecast import Forecast

DELIVERY_HEADER = "X-LLMObserve-Delivery"
EVENT_HEADER = "X-LLMObserve-Event"


class WebhookError(RuntimeError):
    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"webhook answered {status}: {body[:200]}")
        self.status = status


class SignedWebhook(AlertNotifier):
    def __init__(self, config: WebhookConfig, clock: Callable[[], float] = time.time) -> None:
        self._config = config
        self._clock = clock

    async def notify(self, alert: Alert, context: Mapping[str, object]) -> None:
        view = build_view(alert, context)
        if self._config.format is WebhookFormat.SLACK:
            payload: dict[str, Any] = slack_payload(view)
        else:
            payload = json_payload(alert, context, view)
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "LLMObserve-Webhook/1",
            DELIVERY_HEADER: alert.id,
            EVENT_HEADER: f"alert.{alert.kind.value}",
        }
        if self._config.secret:
            headers[SIGNATURE_HEADER] = sign(self._config.secret, int(self._clock()), body)
        # A client per delivery: alerts are few, and a client must not outlive its event loop.
        async with httpx.AsyncClient(
            timeout=httpx.Timeout(self._config.timeout_seconds), follow_redirects=False
        ) as client:
            response = await client.post(self._config.url, content=body, headers=headers)
        if not response.is_success:
            raise WebhookError(response.status_code, response.text)


def json_payload(alert: Alert, context: Mapping[str, object], view: AlertView) -> dict[str, Any]:
    forecast = context.get("forecast")
    contributors = context.get("contributors")
    return {
        "id": alert.id,
        "type": f"alert.{alert.kind.value}",
        "created_at": alert.created_at.isoformat(),
        "subject": view.subject,
        "text": view.headline,
        "tenant": {"id": alert.tenant_id, "name": view.tenant_name},
        "cap": {
            "id": alert.cap_id,
            "name": alert.cap_name,
            "scope": view.scope,
            "period": view.period,
            "enforcement": view.enforcement,
            "timezone": view.timezone,
            "deleted": view.cap_deleted,
        },
        "window": {"start": alert.window_start.isoformat(), "end": alert.window_end.isoformat()},
        "threshold": alert.threshold,
        "spent": alert.spent.format(),
        "limit": alert.limit.format(),
        "percent": view.percent,
        "forecast": _forecast(forecast) if isinstance(forecast, Forecast) else None,
        "blocked_calls": view.blocked_calls,
        "top_contributors": {
            name: [
                {"key": row.key, "cost": row.cost.format(), "calls": row.calls}
                for row in rows
                if isinstance(row, Contributor)
            ]
            for name, rows in (contributors.items() if isinstance(contributors, Mapping) else ())
        },
        "dashboard_url": view.dashboard_url or None,
    }


def _forecast(forecast: Forecast) -> dict[str, Any]:
    crossing = forecast.crossing_at
    return {
        "limit_reached_at": crossing.isoformat() if crossing is not None else None,
        "projected_end_spend": forecast.projected_end_spend.format(),
    }


def slack_escape(text: str) -> str:
    """Slack reads &, < and > as markup (links, mentions); user data must not."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(view: AlertView) -> dict[str, Any]:
    lines = [f"*{slack_escape(view.subject)}*", slack_escape(view.headline)]
    lines.append(f"Window: {view.window_start} to {view.window_end} {view.timezone}")
    for name, rows in view.contributors.items():
        if rows:
            top = ", ".join(f"{slack_escape(row.name)} {row.cost}" for row in rows[:3])
            lines.append(f"Top {name}: {top}")
    if view.dashboard_url:
        lines.append(f"<{view.dashboard_url}|Open the dashboard>")
    return {"text": "\n".join(lines)}
