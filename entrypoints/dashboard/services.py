"""The use cases a dashboard page calls, taken from the container in app state.

One typed facade instead of a dependency per use case: handlers stay short, and
the provider names of the composition root are written down in one place.
"""

from __future__ import annotations

from typing import Any

from litestar.datastructures import State
from litestar.di import NamedDependency

from application.accounts import LocalAccounts
from application.alert_history import AlertHistory
from application.api_keys import ApiKeys
from application.manage_caps import ManageCaps
from application.ports import Clock
from application.spend_reports import SpendReportsService
from application.tenants import ManageMembers, ManageTenants, TenantAccess
from entrypoints.settings import Settings


class Services:
    def __init__(self, container: Any) -> None:
        self._container = container

    def _get(self, name: str) -> Any:
        return getattr(self._container, name)()

    @property
    def clock(self) -> Clock:
        clock: Clock = self._get("clock")
        return clock

    @property
    def settings(self) -> Settings:
        settings: Settings = self._get("settings")
        return settings

    @property
    def reports(self) -> SpendReportsService:
        reports: SpendReportsService = self._get("spend_reports")
        return reports

    @property
    def caps(self) -> ManageCaps:
        caps: ManageCaps = self._get("manage_caps")
        return caps

    @property
    def alerts(self) -> AlertHistory:
        alerts: AlertHistory = self._get("alert_history")
        return alerts

    @property
    def api_keys(self) -> ApiKeys:
        keys: ApiKeys = self._get("api_keys")
        return keys

    @property
    def accounts(self) -> LocalAccounts:
        accounts: LocalAccounts = self._get("local_accounts")
        return accounts

    @property
    def tenant_access(self) -> TenantAccess:
        access: TenantAccess = self._get("tenant_access")
        return access

    @property
    def tenants(self) -> ManageTenants:
        tenants: ManageTenants = self._get("manage_tenants")
        return tenants

    @property
    def members(self) -> ManageMembers:
        members: ManageMembers = self._get("manage_members")
        return members


def provide_services(state: State) -> Services:
    return Services(state.container)


# Handlers name their dependencies explicitly, as Litestar 3 will require.
UseCases = NamedDependency[Services]
