"""Who hears about a cap that names nobody: the tenant's owners and admins."""

from __future__ import annotations

from application.auth_ports import AccountsUnitOfWorkFactory
from application.ports import RecipientResolver
from domain.access import Role

NOTIFIED_ROLES = frozenset({Role.OWNER, Role.ADMIN})


class TenantAdmins(RecipientResolver):
    def __init__(self, accounts: AccountsUnitOfWorkFactory) -> None:
        self._accounts = accounts

    async def default_recipients(self, tenant_id: str) -> tuple[str, ...]:
        async with self._accounts(tenant_id) as uow:
            memberships = await uow.memberships.of_tenant(tenant_id)
            addresses = []
            for membership in sorted(
                memberships, key=lambda m: (m.role != Role.OWNER, m.created_at)
            ):
                if membership.role not in NOTIFIED_ROLES:
                    continue
                user = await uow.users.get(membership.user_id)
                if user is not None and user.email and user.email not in addresses:
                    addresses.append(user.email)
        return tuple(addresses)
