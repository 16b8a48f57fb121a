"""The accounts unit of work on SQL: one connection and transaction, bound to one tenant
(or none) exactly as adapters.sql binds its own, so row-level security applies alike."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.auth.sql_repositories import (
    SqlInvitations,
    SqlMemberships,
    SqlSessions,
    SqlSignInAttempts,
    SqlTenantLinks,
    SqlTokens,
    SqlUsers,
    SqlWebhookReceipts,
)
from adapters.sql.session import SqlTransaction
from adapters.sql.tenants import SqlTenants
from application.auth_ports import AccountsUnitOfWork, AccountsUnitOfWorkFactory


class SqlAccountsUnitOfWork(SqlTransaction, AccountsUnitOfWork):
    def __init__(self, engine: AsyncEngine, tenant_id: str | None) -> None:
        super().__init__(engine, tenant_id)
        self.users = SqlUsers(self._session)
        self.memberships = SqlMemberships(self._session)
        self.invitations = SqlInvitations(self._session)
        self.sessions = SqlSessions(self._session)
        self.tokens = SqlTokens(self._session)
        self.sign_in_attempts = SqlSignInAttempts(self._session)
        self.webhook_receipts = SqlWebhookReceipts(self._session)
        self.tenant_links = SqlTenantLinks(self._session)
        self.tenants = SqlTenants(self._session)


class SqlAccountsUnitOfWorkFactory(AccountsUnitOfWorkFactory):
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    def __call__(self, tenant_id: str | None = None) -> SqlAccountsUnitOfWork:
        return SqlAccountsUnitOfWork(self.engine, tenant_id)
