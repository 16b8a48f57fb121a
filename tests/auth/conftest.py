"""The accounts use cases on every backend: in memory, SQLite, and PostgreSQL under
row-level security (the service side connects as the `llmobserve_app` role)."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from adapters.auth.memory import MemoryAccountsUnitOfWorkFactory
from adapters.auth.passwords import Argon2PasswordHasher
from adapters.auth.sql_tables import ACCOUNT_TENANT_TABLES, IDENTITY_TABLES
from adapters.auth.sql_unit_of_work import SqlAccountsUnitOfWorkFactory
from adapters.memory.unit_of_work import MemoryUnitOfWorkFactory
from adapters.sql.database import SqlUnitOfWorkFactory, make_engine, migrate
from adapters.sql.tables import TENANT_TABLES
from application.accounts import LocalAccounts
from application.api_keys import ApiKeys
from application.auth_ports import AccountsUnitOfWorkFactory
from application.clerk_sync import ClerkSync
from application.ports import UnitOfWorkFactory
from application.tenants import ManageMembers, ManageTenants, ReportOnBehalf, TenantAccess
from domain.accounts import Membership, User
from domain.tenants import Tenant
from tests.auth.fakes import CountingIds, Mailbox, ManualClock
from tests.support.postgres import PostgresDatabase, scratch_postgres

BACKENDS = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@dataclass
class World:
    backend: str
    clock: ManualClock
    ids: CountingIds
    mailbox: Mailbox
    uow: UnitOfWorkFactory
    accounts_uow: AccountsUnitOfWorkFactory
    api_keys: ApiKeys
    accounts: LocalAccounts
    access: TenantAccess
    tenants: ManageTenants
    members: ManageMembers
    on_behalf: ReportOnBehalf
    clerk: ClerkSync

    async def user(self, user_id: str) -> User | None:
        async with self.accounts_uow() as uow:
            return await uow.users.get(user_id)

    async def membership(self, tenant_id: str, user_id: str) -> Membership | None:
        async with self.accounts_uow() as uow:
            return await uow.memberships.get(tenant_id, user_id)

    async def memberships_of(self, user_id: str) -> list[Membership]:
        async with self.accounts_uow() as uow:
            return await uow.memberships.of_user(user_id)

    async def tenant(self, tenant_id: str) -> Tenant | None:
        async with self.accounts_uow() as uow:
            return await uow.tenants.get(tenant_id)


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[PostgresDatabase]:
    with scratch_postgres("auth") as database:
        yield database


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("auth-sqlite") / "template.db"
    migrate(f"sqlite:///{path}")
    return path


async def truncate(database: PostgresDatabase) -> None:
    tables = [t.name for t in (*TENANT_TABLES, *ACCOUNT_TENANT_TABLES, *IDENTITY_TABLES)]
    connection = await asyncpg.connect(
        database.owner_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    )
    try:
        await connection.execute(f"TRUNCATE {', '.join(tables)}")
    finally:
        await connection.close()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str | None]:
    """Resolved outside the event loop: the session fixtures run loops of their own."""
    name = str(request.param)
    if name == "sqlite":
        copy = tmp_path / "auth.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), copy)
        return name, f"sqlite:///{copy}"
    if name == "postgres":
        database: PostgresDatabase = request.getfixturevalue("postgres_database")
        asyncio.run(truncate(database))
        return name, database.app_url
    return name, None


@pytest.fixture
async def world(backend: tuple[str, str | None]) -> AsyncIterator[World]:
    name, url = backend
    clock, ids, mailbox = ManualClock(), CountingIds(), Mailbox()
    engine = None
    if url is None:
        uow: UnitOfWorkFactory = MemoryUnitOfWorkFactory()
        accounts_uow: AccountsUnitOfWorkFactory = MemoryAccountsUnitOfWorkFactory(
            tenants_store=uow.store  # type: ignore[attr-defined]
        )
    else:
        engine = make_engine(url)
        uow = SqlUnitOfWorkFactory(engine)
        accounts_uow = SqlAccountsUnitOfWorkFactory(engine)
    api_keys = ApiKeys(uow, ids, clock)
    hasher = Argon2PasswordHasher.fast_for_tests()
    access = TenantAccess(accounts_uow)
    try:
        yield World(
            name,
            clock,
            ids,
            mailbox,
            uow,
            accounts_uow,
            api_keys,
            LocalAccounts(accounts_uow, hasher, ids, clock, mailbox, api_keys),
            access,
            ManageTenants(accounts_uow, access, ids, clock),
            ManageMembers(accounts_uow, ids, clock, mailbox),
            ReportOnBehalf(accounts_uow),
            ClerkSync(accounts_uow, clock, api_keys),
        )
    finally:
        if engine is not None:
            await engine.dispose()
