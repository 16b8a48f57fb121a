"""Row-level security under the accounts tables: what PostgreSQL itself refuses, whatever
the query says (the second line of defence behind every tenant-scoped repository call)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.exc import DBAPIError

from adapters.auth.sql_unit_of_work import SqlAccountsUnitOfWorkFactory
from adapters.sql.database import make_engine
from domain.access import Role
from domain.accounts import Invitation, Membership, User
from domain.tenants import Tenant
from tests.auth.conftest import PostgresDatabase, truncate
from tests.auth.fakes import START

pytestmark = pytest.mark.postgres


@pytest.fixture
def database(request: pytest.FixtureRequest) -> PostgresDatabase:
    import asyncio

    found: PostgresDatabase = request.getfixturevalue("postgres_database")
    asyncio.run(truncate(found))
    return found


@pytest.fixture
async def accounts(database: PostgresDatabase) -> AsyncIterator[SqlAccountsUnitOfWorkFactory]:
    engine = make_engine(database.app_url)
    factory = SqlAccountsUnitOfWorkFactory(engine)
    for tenant in ("ten_a", "ten_b"):
        async with factory(tenant) as uow:
            await uow.tenants.add(Tenant(tenant, tenant, START))
            await uow.memberships.save(Membership(tenant, "usr_both", Role.MEMBER, START))
            await uow.invitations.add(
                Invitation(
                    f"inv_{tenant}",
                    tenant,
                    "x@example.com",
                    Role.VIEWER,
                    f"hash-{tenant}",
                    None,
                    START,
                    START.replace(year=2030),
                )
            )
            await uow.commit()
    async with factory() as uow:
        await uow.users.add(User("usr_both", "both@example.com", START))
        await uow.commit()
    try:
        yield factory
    finally:
        await engine.dispose()


async def test_a_tenant_bound_unit_of_work_sees_only_its_tenant(
    accounts: SqlAccountsUnitOfWorkFactory,
) -> None:
    async with accounts("ten_a") as uow:
        assert [m.tenant_id for m in await uow.memberships.of_user("usr_both")] == ["ten_a"]
        assert await uow.memberships.get("ten_b", "usr_both") is None
        assert await uow.invitations.by_token_hash("hash-ten_b") is None
        assert await uow.invitations.get("ten_b", "inv_ten_b") is None
        assert not await uow.memberships.remove("ten_b", "usr_both")
        assert [t.id for t in await uow.tenants.list()] == ["ten_a"]
    async with accounts() as uow:  # and B's rows are all still there
        assert await uow.memberships.get("ten_b", "usr_both") is not None


async def test_a_bound_unit_of_work_cannot_write_into_another_tenant(
    accounts: SqlAccountsUnitOfWorkFactory,
) -> None:
    for write in (
        lambda uow: uow.memberships.save(Membership("ten_b", "usr_x", Role.OWNER, START)),
        lambda uow: uow.tenant_links.set_parent("ten_b", "ten_a"),
        lambda uow: uow.invitations.add(
            Invitation("inv_x", "ten_b", "y@example.com", Role.OWNER, "hash-x", None, START, START)
        ),
    ):
        async with accounts("ten_a") as uow:
            with pytest.raises(DBAPIError, match="row-level security"):
                await write(uow)


async def test_the_system_reads_across_tenants_but_writes_only_cleanups(
    accounts: SqlAccountsUnitOfWorkFactory,
) -> None:
    async with accounts() as uow:
        assert {m.tenant_id for m in await uow.memberships.of_user("usr_both")} == {
            "ten_a",
            "ten_b",
        }
        assert (await uow.invitations.by_token_hash("hash-ten_b")) is not None
    async with accounts() as uow:
        with pytest.raises(DBAPIError, match="row-level security"):
            await uow.memberships.save(Membership("ten_a", "usr_x", Role.OWNER, START))
    async with accounts() as uow:
        await uow.memberships.remove_user("usr_both")  # a deleted user leaves every tenant
        await uow.commit()
    async with accounts() as uow:
        assert await uow.memberships.of_user("usr_both") == []
