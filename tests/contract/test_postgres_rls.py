"""PostgreSQL row-level security: the service's role sees one tenant's rows or none.

The raw SQL here runs as `llmobserve_app`, the role the service connects with, with no
WHERE clause on the tenant: only the policies stand between tenants.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import asyncpg
import pytest
from sqlalchemy import text

from adapters.sql.database import APP_ROLE, make_engine, row_level_security_enforced
from adapters.sql.rollup_folds import fold_rollups
from adapters.sql.tables import TENANT_TABLES
from domain.tenants import Tenant
from tests.contract.builders import T0, alert, api_key, cap, event, new_tenant, price
from tests.contract.conftest import Backend, PostgresDatabase

BACKENDS = [pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture
async def two_tenants(backend: Backend) -> tuple[str, str]:
    """Two tenants with a row in every tenant table."""
    tenants = new_tenant(), new_tenant()
    for tenant in tenants:
        async with backend.uow(tenant) as uow:
            await uow.tenants.add(Tenant(tenant, tenant, T0))
            await uow.events.add_new([event(tenant, "e1", datetime(2026, 3, 10, tzinfo=UTC))])
            await uow.caps.add(cap(tenant))
            await uow.alerts.add_if_absent(alert(tenant))
            await uow.price_overrides.add(tenant, price("gpt-4o", date(2025, 1, 1)))
            await uow.commit()
    for tenant in tenants:
        async with backend.uow(tenant) as uow:
            await uow.api_keys.add(api_key(tenant, "key_1", f"secret-{tenant}"))
            await uow.commit()
    assert backend.engine is not None
    await fold_rollups(backend.engine, tenants)  # the daily, weekly and monthly rows
    return tenants


@pytest.fixture
async def app_connection(postgres_database: PostgresDatabase) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(postgres_database.asyncpg_dsn(APP_ROLE))
    try:
        yield connection
    finally:
        await connection.close()


async def count_all(connection: asyncpg.Connection) -> dict[str, int]:
    return {
        table.name: await connection.fetchval(f"SELECT count(*) FROM {table.name}")
        for table in TENANT_TABLES
    }


async def test_without_tenant_context_the_app_role_sees_no_row(
    two_tenants: tuple[str, str], app_connection: asyncpg.Connection
) -> None:
    assert set((await count_all(app_connection)).values()) == {0}
    # Once a transaction-local setting has been used, it reads back as '' (not NULL).
    async with app_connection.transaction():
        await app_connection.execute(
            "SELECT set_config('app.current_tenant', $1, true)", two_tenants[0]
        )
    assert await app_connection.fetchval("SELECT current_setting('app.current_tenant', true)") == ""
    assert set((await count_all(app_connection)).values()) == {0}


async def test_a_tenant_reads_only_its_own_rows_even_without_a_where_clause(
    two_tenants: tuple[str, str], app_connection: asyncpg.Connection
) -> None:
    first, second = two_tenants
    async with app_connection.transaction():
        await app_connection.execute("SELECT set_config('app.current_tenant', $1, true)", first)
        counts = await count_all(app_connection)
        seen = {
            table.name: {
                r[0] for r in await app_connection.fetch(f"SELECT tenant_id FROM {table.name}")
            }
            for table in TENANT_TABLES
        }
    assert all(count >= 1 for count in counts.values()), counts
    assert all(tenants == {first} for tenants in seen.values()), seen
    assert second not in str(seen)


async def test_a_tenant_cannot_write_another_tenants_rows(
    two_tenants: tuple[str, str], app_connection: asyncpg.Connection
) -> None:
    first, second = two_tenants
    async with app_connection.transaction():
        await app_connection.execute("SELECT set_config('app.current_tenant', $1, true)", first)
        updated = await app_connection.execute("UPDATE caps SET name = 'hijacked'")
        deleted = await app_connection.execute("DELETE FROM caps WHERE tenant_id = $1", second)
    assert (updated, deleted) == ("UPDATE 1", "DELETE 0")
    async with app_connection.transaction():
        await app_connection.execute("SELECT set_config('app.current_tenant', $1, true)", first)
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
            await app_connection.execute(
                "INSERT INTO spend_event_ids (tenant_id, event_id) VALUES ($1, 'forged')", second
            )


async def test_system_access_reads_only_what_system_jobs_need(
    two_tenants: tuple[str, str], app_connection: asyncpg.Connection
) -> None:
    async with app_connection.transaction():
        await app_connection.execute("SELECT set_config('app.system_access', 'on', true)")
        counts = await count_all(app_connection)
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
            await app_connection.execute(
                "INSERT INTO caps SELECT tenant_id, 'cap_new', name, scope, scope_value, period, limit_nanos,"
                " enforcement, thresholds, timezone, recipients, enabled, created_at"
                " FROM caps LIMIT 1"
            )
    for table in ("tenants", "api_keys", "caps", "alerts"):
        assert counts[table] == 2, table
    for table in ("spend_events", "spend_event_ids", "spend_rollups_hourly", "price_overrides"):
        assert counts[table] == 0, table


async def test_the_app_role_cannot_bypass_the_policies(
    postgres_database: PostgresDatabase, app_connection: asyncpg.Connection
) -> None:
    role = await app_connection.fetchrow(
        "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
    )
    assert (role["rolsuper"], role["rolbypassrls"]) == (False, False)
    assert (
        await app_connection.fetchval(
            "SELECT count(*) FROM pg_tables WHERE tableowner = current_user"
        )
        == 0
    )
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await app_connection.execute("ALTER TABLE caps DISABLE ROW LEVEL SECURITY")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await app_connection.execute("SELECT count(*) FROM spend_events_default")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await app_connection.execute("DELETE FROM spend_events")
    await app_connection.execute("SET row_security = off")
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        await app_connection.fetchval("SELECT count(*) FROM caps")


async def test_every_tenant_table_forces_its_policies(app_connection: asyncpg.Connection) -> None:
    rows = await app_connection.fetch(
        "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class"
        " WHERE relname = ANY($1::text[])",
        [table.name for table in TENANT_TABLES],
    )
    assert {r["relname"]: (r["relrowsecurity"], r["relforcerowsecurity"]) for r in rows} == {
        table.name: (True, True) for table in TENANT_TABLES
    }


async def test_a_unit_of_work_bound_to_one_tenant_cannot_read_another(
    backend: Backend, two_tenants: tuple[str, str]
) -> None:
    first, second = two_tenants
    async with backend.uow(first) as uow:
        assert await uow.caps.list(second) == []
        assert await uow.tenants.get(second) is None
        assert await uow.api_keys.by_hash("x") is None
        assert [t.id for t in await uow.tenants.list()] == [first]


async def test_pooled_connections_do_not_carry_a_tenant_over(
    backend: Backend, two_tenants: tuple[str, str]
) -> None:
    first, _ = two_tenants
    assert backend.engine is not None
    async with backend.uow(first) as uow:
        assert len(await uow.caps.list(first)) == 1
        await uow.commit()
    # The same pooled connection, without a tenant: the setting ended with the transaction.
    async with backend.engine.connect() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM caps"))).scalar() == 0


async def test_rls_enforcement_is_reported_per_role(
    backend: Backend, postgres_database: PostgresDatabase
) -> None:
    assert backend.engine is not None
    assert await row_level_security_enforced(backend.engine) is True
    owner = make_engine(postgres_database.owner_url)
    try:
        assert await row_level_security_enforced(owner) is False  # a superuser bypasses RLS
    finally:
        await owner.dispose()
