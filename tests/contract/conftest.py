"""Backends for the repository contract: in-memory, SQLite and PostgreSQL.

Each test gets an empty store. PostgreSQL runs in a scratch database of this session
(created, migrated as the owner, dropped at the end); the service side connects as the
`llmobserve_app` role, so every contract test also runs under row-level security.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.memory.unit_of_work import MemoryUnitOfWorkFactory
from adapters.sql.database import SqlUnitOfWorkFactory, make_engine, migrate
from adapters.sql.rollup_folds import fold_rollups
from adapters.sql.tables import TENANT_TABLES
from adapters.sql.unit_of_work import SqlUnitOfWork
from application.ports import UnitOfWorkFactory
from tests.support.postgres import PostgresDatabase, scratch_postgres

BACKENDS = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
# PostgreSQL again, folding the tenant's hourly rollups into the coarse ones after every
# commit: reads then meet the watermark inside their ranges, not only before them.
POSTGRES_FOLDED = pytest.param("postgres-folded", marks=pytest.mark.postgres)
SQL_BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres), POSTGRES_FOLDED]


@dataclass
class Backend:
    name: str
    uow: UnitOfWorkFactory
    engine: AsyncEngine | None = None


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[PostgresDatabase]:
    with scratch_postgres("contract") as database:
        yield database


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrated once; each test copies the file instead of migrating again."""
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    migrate(f"sqlite:///{path}")
    return path


async def truncate_all(database: PostgresDatabase) -> None:
    connection = await asyncpg.connect(database.asyncpg_dsn())
    try:
        names = ", ".join(table.name for table in TENANT_TABLES)
        await connection.execute(f"TRUNCATE {names}")
    finally:
        await connection.close()


@pytest.fixture
def backend_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def sql_location(request: pytest.FixtureRequest, backend_name: str, tmp_path: Path) -> str | None:
    """Resolved outside the event loop: the session fixtures run their own loops."""
    if backend_name == "sqlite":
        copy = tmp_path / "llmobserve.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), copy)
        return f"sqlite:///{copy}"
    if backend_name.startswith("postgres"):
        database: PostgresDatabase = request.getfixturevalue("postgres_database")
        return database.app_url
    return None


@pytest.fixture
async def backend(
    request: pytest.FixtureRequest, backend_name: str, sql_location: str | None
) -> AsyncIterator[Backend]:
    if sql_location is None:
        yield Backend(backend_name, MemoryUnitOfWorkFactory())
        return
    if backend_name.startswith("postgres"):
        await truncate_all(request.getfixturevalue("postgres_database"))
    engine = make_engine(sql_location)
    factory = SqlUnitOfWorkFactory(engine)
    try:
        folding = backend_name == "postgres-folded"
        yield Backend(
            backend_name, FoldingUnitOfWorkFactory(factory) if folding else factory, engine
        )
    finally:
        await engine.dispose()


class FoldingUnitOfWorkFactory(UnitOfWorkFactory):
    """Units of work that fold their tenant's rollups once they have committed."""

    def __init__(self, inner: SqlUnitOfWorkFactory) -> None:
        self._inner = inner

    def __call__(self, tenant_id: str | None = None) -> SqlUnitOfWork:
        unit = self._inner(tenant_id)
        commit = unit.commit

        async def commit_then_fold() -> None:
            await commit()
            if tenant_id is not None:
                await fold_rollups(self._inner.engine, [tenant_id])

        unit.commit = commit_then_fold  # type: ignore[method-assign]
        return unit


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`backend` runs on every backend unless the test module narrows it with BACKENDS."""
    if "backend_name" in metafunc.fixturenames and not any(
        marker.name == "parametrize" and "backend_name" in marker.args[0]
        for marker in metafunc.definition.iter_markers()
    ):
        backends = getattr(metafunc.module, "BACKENDS", BACKENDS)
        metafunc.parametrize("backend_name", backends, indirect=True)
