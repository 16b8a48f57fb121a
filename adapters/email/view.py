"""An alert as words: the one view the email templates and the webhook payload both show."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from application.alert_context import Contributor
from domain.alerts import Alert, AlertKind
from domain.caps import Cap, CapScope
from domain.forecast import Forecast
from domain.money import Money

CONTRIBUTOR_TITLES = {"models": "Models", "agents": "Agents", "customers": "Customers"}


@dataclass(frozen=True, slots=True)
class ContributorView:
    name: str
    cost: str
    calls: int


@dataclass(frozen=True, slots=True)
class AlertView:
    alert_id: str
    kind: str
    subject: str
    headline: str
    tenant_id: str
    tenant_name: str
    cap_id: str
    cap_name: str
    cap_deleted: bool
    scope: str
    period: str
    enforcement: str
    timezone: str
    window_start: str
    window_end: str
    threshold: int
    spent: str
    limit: str
    percent: str
    dashboard_url: str
    forecast_date: str | None = None
    projected_end_spend: str | None = None
    blocked_calls: int | None = None
    contributors_scope: str = "cap"
    contributors: dict[str, list[ContributorView]] = field(default_factory=dict)


def usd(amount: Money) -> str:
    return f"${amount.format(2)}"


def percent_of(spent: Money, limit: Money) -> str:
    hundredths = spent.nanos * 10_000 // limit.nanos if limit.nanos > 0 else 0
    whole, rest = divmod(hundredths, 100)
    return f"{whole}.{rest:02d}"


def scope_text(cap: Cap | None) -> str:
    if cap is None:
        return "unknown (the cap was deleted)"
    if cap.scope is CapScope.GLOBAL:
        return "all spend"
    return f"{cap.scope.value} {cap.scope_value}"


def local_time(instant: datetime, timezone: str) -> str:
    return instant.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")


def build_view(alert: Alert, context: Mapping[str, object]) -> AlertView:
    cap = context.get("cap")
    cap = cap if isinstance(cap, Cap) else None
    timezone = cap.timezone if cap is not None else "UTC"
    forecast = context.get("forecast")
    forecast = forecast if isinstance(forecast, Forecast) else None
    blocked = context.get("blocked_calls")
    blocked = blocked if isinstance(blocked, int) else None
    tenant_name = str(context.get("tenant_name") or alert.tenant_id)
    period = cap.period.value if cap is not None else "window"
    forecast_date = (
        local_time(forecast.crossing_at, timezone)
        if forecast is not None and forecast.crossing_at is not None
        else None
    )
    subject, headline = _wording(alert, period, forecast_date, blocked)
    return AlertView(
        alert_id=alert.id,
        kind=alert.kind.value,
        subject=f"[LLMObserve · {tenant_name}] {subject}",
        headline=headline,
        tenant_id=alert.tenant_id,
        tenant_name=tenant_name,
        cap_id=alert.cap_id,
        cap_name=alert.cap_name,
        cap_deleted=cap is None,
        scope=scope_text(cap),
        period=period,
        enforcement=cap.enforcement.value if cap is not None else "unknown",
        timezone=timezone,
        window_start=local_time(alert.window_start, timezone),
        window_end=local_time(alert.window_end, timezone),
        threshold=alert.threshold,
        spent=usd(alert.spent),
        limit=usd(alert.limit),
        percent=percent_of(alert.spent, alert.limit),
        dashboard_url=str(context.get("dashboard_url") or ""),
        forecast_date=forecast_date,
        projected_end_spend=usd(forecast.projected_end_spend) if forecast is not None else None,
        blocked_calls=blocked,
        contributors_scope=str(context.get("contributors_scope") or "cap"),
        contributors=_contributors(context.get("contributors")),
    )


def _wording(
    alert: Alert, period: str, forecast_date: str | None, blocked: int | None
) -> tuple[str, str]:
    """(subject, headline) for each kind of alert."""
    cap = f"cap “{alert.cap_name}”"
    spent = f"{usd(alert.spent)} of {usd(alert.limit)}"
    match alert.kind:
        case AlertKind.THRESHOLD:
            return (
                f"{alert.cap_name}: {alert.threshold}% of the {period} limit reached",
                f"The {cap} has reached {alert.threshold}% of its {period} limit: {spent} spent.",
            )
        case AlertKind.EXCEEDED:
            return (
                f"{alert.cap_name}: {period} limit exceeded",
                f"The {cap} has reached its {period} limit: {spent} spent.",
            )
        case AlertKind.BLOCKED:
            counted = f"{blocked} call{'s' if blocked != 1 else ''}" if blocked else "Calls"
            return (
                f"{alert.cap_name}: calls blocked by the hard cap",
                f"{counted} refused so far this {period} window: the {cap} is a hard "
                f"limit and {spent} is spent.",
            )
        case AlertKind.FORECAST:
            when = forecast_date[:10] if forecast_date else "before the window ends"
            return (
                f"{alert.cap_name}: on track to exceed the {period} limit on {when}",
                f"At the current rate the {cap} is exceeded on "
                f"{forecast_date or 'a date before the window ends'}: {spent} spent so far.",
            )


def _contributors(raw: object) -> dict[str, list[ContributorView]]:
    if not isinstance(raw, Mapping):
        return {}
    views: dict[str, list[ContributorView]] = {}
    for name in CONTRIBUTOR_TITLES:
        rows = raw.get(name) or []
        views[name] = [
            ContributorView(row.key if row.key is not None else "(none)", usd(row.cost), row.calls)
            for row in rows
            if isinstance(row, Contributor)
        ]
    return views
