"""What an alert message shows beyond the alert row: tenant, cap, top spenders, forecast, count.

The renderer and the webhook receive these as a plain mapping (`AlertRenderer.render`'s
context); the keys are listed in `ALERT_CONTEXT_KEYS` and documented in docs/alerts.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from application.forecast import forecast_of
from application.ports import (
    BlockedCallCounter,
    CounterStoreUnavailable,
    RecipientResolver,
    UnitOfWorkFactory,
)
from domain.alerts import Alert, AlertKind
from domain.caps import Cap, CapScope
from domain.money import Money
from domain.reports import Dimension, SpendFilter
from domain.reservations import CounterKey

TOP_CONTRIBUTORS = 5
CONTRIBUTOR_DIMENSIONS: dict[str, Dimension] = {
    "models": Dimension.MODEL,
    "agents": Dimension.AGENT,
    "customers": Dimension.CUSTOMER,
}
ALERT_CONTEXT_KEYS = (
    "tenant_id",
    "tenant_name",
    "cap",
    "recipients",
    "contributors",
    "contributors_scope",
    "forecast",
    "blocked_calls",
    "dashboard_url",
)


@dataclass(frozen=True, slots=True)
class Contributor:
    key: str | None
    cost: Money
    calls: int


def contributor_filter(cap: Cap | None, start: datetime, end: datetime) -> tuple[SpendFilter, bool]:
    """The window's spend narrowed to the cap's scope where a report filter says the same
    thing as the cap; True when it did. An agent cap matches nested agent paths, which an
    equality filter cannot, so its contributors are the tenant's."""
    value = cap.scope_value if cap is not None else None
    match cap.scope if cap is not None else None:
        case CapScope.PROVIDER:
            return SpendFilter(start, end, provider=value), True
        case CapScope.MODEL:
            return SpendFilter(start, end, model=value), True
        case CapScope.CUSTOMER:
            return SpendFilter(start, end, customer_id=value), True
        case CapScope.GLOBAL:
            return SpendFilter(start, end), True
        case _:
            return SpendFilter(start, end), False


class AlertContextReader:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        dashboard_url: str = "",
        blocked_counter: BlockedCallCounter | None = None,
        default_recipients: RecipientResolver | None = None,
    ) -> None:
        self._uow_factory = uow_factory
        self._dashboard_url = dashboard_url
        self._blocked_counter = blocked_counter
        self._default_recipients = default_recipients

    async def gather(self, alert: Alert) -> dict[str, object]:
        async with self._uow_factory(alert.tenant_id) as uow:
            tenant = await uow.tenants.get(alert.tenant_id)
            cap = await uow.caps.get(alert.tenant_id, alert.cap_id)
            spend_filter, scoped = contributor_filter(cap, alert.window_start, alert.window_end)
            contributors = {
                name: [
                    Contributor(row.key, row.totals.cost, row.totals.calls)
                    for row in await uow.reports.breakdown(
                        alert.tenant_id, spend_filter, dimension, TOP_CONTRIBUTORS
                    )
                ]
                for name, dimension in CONTRIBUTOR_DIMENSIONS.items()
            }
        return {
            "tenant_id": alert.tenant_id,
            "tenant_name": tenant.name if tenant is not None else alert.tenant_id,
            "cap": cap,
            "recipients": await self._recipients(alert, cap),
            "contributors": contributors,
            "contributors_scope": "cap" if scoped else "tenant",
            "forecast": forecast_of(alert) if alert.kind is AlertKind.FORECAST else None,
            "blocked_calls": await self._blocked_calls(alert),
            "dashboard_url": self._dashboard_url,
        }

    async def _recipients(self, alert: Alert, cap: Cap | None) -> tuple[str, ...]:
        """The addresses the alert was raised with, else the cap's current ones, else the
        tenant's owners and admins."""
        if alert.recipients:
            return alert.recipients
        if cap is not None and cap.recipients:
            return cap.recipients
        if self._default_recipients is None:
            return ()
        return await self._default_recipients.default_recipients(alert.tenant_id)

    async def _blocked_calls(self, alert: Alert) -> int | None:
        if alert.kind is not AlertKind.BLOCKED or self._blocked_counter is None:
            return None
        key = CounterKey(alert.tenant_id, alert.cap_id, alert.window_start)
        try:
            return await self._blocked_counter.count(key)
        except CounterStoreUnavailable:
            return None
