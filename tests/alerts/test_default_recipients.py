"""A cap that names nobody alerts the tenant's owners and admins, never members or viewers."""

from __future__ import annotations

from datetime import UTC, datetime

from adapters.auth.memory import MemoryAccountsUnitOfWorkFactory
from application.recipients import TenantAdmins
from domain.access import Role
from domain.accounts import Membership, User

NOW = datetime(2026, 3, 1, tzinfo=UTC)


async def test_owners_first_then_admins_and_nobody_else() -> None:
    accounts = MemoryAccountsUnitOfWorkFactory()
    async with accounts("acme") as uow:
        for user_id, email, role in [
            ("u1", "viewer@acme.test", Role.VIEWER),
            ("u2", "admin@acme.test", Role.ADMIN),
            ("u3", "owner@acme.test", Role.OWNER),
            ("u4", "member@acme.test", Role.MEMBER),
        ]:
            await uow.users.add(User(user_id, email, NOW))
            await uow.memberships.save(Membership("acme", user_id, role, NOW))
        await uow.users.add(User("u5", "other-owner@else.test", NOW))
        await uow.memberships.save(Membership("else", "u5", Role.OWNER, NOW))
        await uow.commit()
    assert await TenantAdmins(accounts).default_recipients("acme") == (
        "owner@acme.test",
        "admin@acme.test",
    )
    assert await TenantAdmins(accounts).default_recipients("nobody") == ()
