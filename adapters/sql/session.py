"""One unit of work's connection, and the tenant every one of its transactions is bound to.

PostgreSQL row-level security reads the tenant from `app.current_tenant`, set with
`set_config(..., true)`: transaction-local, so a pooled connection forgets it at COMMIT
or ROLLBACK and can never lend it to the next borrower. A unit of work without a tenant
(system jobs) sets `app.system_access` instead, which the read-only system policies on
tenants, api_keys, caps and alerts (and the lease update on alerts) accept.

That binding is each transaction's first statement, so it also tells a dead pooled
connection (a restarted server, a terminated backend) at no extra round trip: the
transaction then starts again once on a fresh connection, nothing having run in it yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar
from types import TracebackType
from typing import Any, Self

from sqlalchemy import CursorResult, Executable, RowMapping, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

# The session whose connection this task (or its parent) holds: SQLite has one connection
# per engine, so a unit of work opened inside another would wait for it forever.
_HOLDING: ContextVar[SqlSession | None] = ContextVar("llmobserve_sql_session", default=None)

_BIND_TENANT = text(
    "SELECT set_config('app.current_tenant', :tenant, true),"
    " set_config('app.system_access', :system, true)"
)


class SqlSession:
    """Checks a connection out on first use; binds each new transaction to the tenant."""

    def __init__(self, engine: AsyncEngine, tenant_id: str | None) -> None:
        self._engine = engine
        self.tenant_id = tenant_id
        self.dialect = engine.dialect.name
        self._connection: AsyncConnection | None = None

    @property
    def postgres(self) -> bool:
        return self.dialect == "postgresql"

    async def connection(self) -> AsyncConnection:
        if self._connection is None:
            self._refuse_nesting_on_sqlite()
            self._connection = await self._engine.connect()
            _HOLDING.set(self)
        if not self._connection.in_transaction():
            try:
                await self._begin(self._connection)
            except DBAPIError as error:
                if not error.connection_invalidated:
                    raise
                # SQLAlchemy has invalidated the dead connection and every pooled one as
                # old as it: the next checkout connects afresh.
                dead, self._connection = self._connection, None
                await dead.close()
                self._connection = await self._engine.connect()
                await self._begin(self._connection)
        return self._connection

    async def _begin(self, connection: AsyncConnection) -> None:
        await connection.begin()
        if self.postgres:
            await connection.execute(
                _BIND_TENANT,
                {
                    "tenant": self.tenant_id or "",
                    "system": "on" if self.tenant_id is None else "off",
                },
            )

    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Any]:
        connection = await self.connection()
        return await connection.execute(statement, parameters)

    async def first(self, statement: Executable, parameters: Any = None) -> RowMapping | None:
        return (await self.execute(statement, parameters)).mappings().first()

    async def rows(self, statement: Executable, parameters: Any = None) -> Sequence[RowMapping]:
        return (await self.execute(statement, parameters)).mappings().all()

    async def commit(self) -> None:
        if self._connection is not None and self._connection.in_transaction():
            await self._connection.commit()

    async def rollback(self) -> None:
        if self._connection is not None and self._connection.in_transaction():
            await self._connection.rollback()

    async def close(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            if _HOLDING.get() is self:
                _HOLDING.set(None)
            await connection.close()

    def _refuse_nesting_on_sqlite(self) -> None:
        holder = _HOLDING.get()
        if (
            self.dialect == "sqlite"
            and holder is not None
            and holder is not self
            and holder._engine is self._engine
            and holder._connection is not None
        ):
            raise RuntimeError(
                "a unit of work was opened inside another on SQLite, which has one connection:"
                " it would wait forever. Finish the outer unit of work first."
            )


class SqlTransaction:
    """One SQL transaction bound to a tenant (or to none, for system jobs): rolled back
    and closed on exit unless committed. The units of work of the spend side and of the
    accounts side both are one of these, so row-level security binds them alike."""

    def __init__(self, engine: AsyncEngine, tenant_id: str | None) -> None:
        self._session = SqlSession(engine, tenant_id)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self._session.rollback()
        finally:
            await self._session.close()

    async def commit(self) -> None:
        await self._session.commit()

    async def rollback(self) -> None:
        await self._session.rollback()
