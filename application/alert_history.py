"""The alert history of a tenant: what was raised, and whether it was sent."""

from __future__ import annotations

from application.errors import Invalid, require
from application.ports import AlertQuery, UnitOfWorkFactory
from domain.access import Permission, Principal
from domain.alerts import Alert

MAX_ALERTS_PER_PAGE = 1000


class AlertHistory:
    """Business rules:
    - reading alerts needs read access, and sees the caller's tenant only;
    - a page holds 1 to 1000 alerts, newest first.
    """

    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def list(self, principal: Principal, query: AlertQuery) -> list[Alert]:
        require(principal, Permission.READ_SPEND)
        if not 1 <= query.limit <= MAX_ALERTS_PER_PAGE:
            raise Invalid("limit", f"must be between 1 and {MAX_ALERTS_PER_PAGE}")
        if query.since is not None and query.until is not None and query.until <= query.since:
            raise Invalid("until", "must be after since")
        async with self._uow_factory(principal.tenant_id) as uow:
            return await uow.alerts.list(principal.tenant_id, query)
