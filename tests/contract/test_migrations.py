"""Migrations: up from empty on both backends, idempotent, concurrent-safe, and the schema
they make is exactly the one the adapter's tables describe."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection

import adapters.auth.sql_tables  # noqa: F401 - its tables share adapters.sql.tables.metadata
from adapters.sql.database import make_engine, migrate
from adapters.sql.migrate import alembic_config
from adapters.sql.tables import TENANT_TABLES, metadata
from tests.support.services import (
    create_database,
    drop_database,
    require_postgres,
    scratch_database_name,
)

HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()
REPOSITORY = Path(__file__).resolve().parents[2]


def _schema_report(connection: Connection) -> tuple[str | None, list[object], set[str]]:
    context = MigrationContext.configure(
        connection,
        opts={
            "include_name": lambda name, type_, _: (
                not (type_ == "table" and (name or "").startswith("spend_events_"))
            )
        },
    )
    differences = compare_metadata(context, metadata)
    tables = set(connection.dialect.get_table_names(connection))
    return context.get_current_revision(), differences, tables


async def schema_report(url: str) -> tuple[str | None, list[object], set[str]]:
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_schema_report)
    finally:
        await engine.dispose()


@pytest.fixture
def fresh_postgres() -> Iterator[str]:
    admin_url = require_postgres()
    name = scratch_database_name("migrations")
    url = asyncio.run(create_database(admin_url, name))
    try:
        yield url
    finally:
        asyncio.run(drop_database(admin_url, name))


def test_sqlite_migrates_from_empty_twice_and_matches_the_tables(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    migrate(url)
    migrate(url)
    revision, differences, tables = asyncio.run(schema_report(url))
    assert revision == HEAD
    assert differences == []
    assert {table.name for table in TENANT_TABLES} <= tables


def test_sqlite_downgrades_to_empty_and_back(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    migrate(url)

    _alembic(url, command.downgrade, "base")
    assert asyncio.run(schema_report(url))[2] <= {"alembic_version"}
    migrate(url)
    assert asyncio.run(schema_report(url))[0] == HEAD


@pytest.mark.postgres
def test_postgres_migrates_from_empty_twice_and_matches_the_tables(fresh_postgres: str) -> None:
    migrate(fresh_postgres)
    migrate(fresh_postgres)
    revision, differences, tables = asyncio.run(schema_report(fresh_postgres))
    assert revision == HEAD
    assert differences == []
    assert {table.name for table in TENANT_TABLES} <= tables


@pytest.mark.postgres
@pytest.mark.slow
def test_two_processes_migrating_at_once_both_succeed(fresh_postgres: str) -> None:
    script = "import sys; from adapters.sql.database import migrate; migrate(sys.argv[1])"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script, fresh_postgres],
            cwd=REPOSITORY,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    errors = [process.communicate(timeout=120)[1] for process in processes]
    assert [process.returncode for process in processes] == [0, 0], errors

    async def versions() -> list[str]:
        engine = make_engine(fresh_postgres)
        try:
            async with engine.connect() as connection:
                rows = await connection.execute(text("SELECT version_num FROM alembic_version"))
                return [row[0] for row in rows]
        finally:
            await engine.dispose()

    assert asyncio.run(versions()) == [HEAD]


def _alembic(url: str, step: Callable[[Config, str], None], revision: str) -> None:
    """`command.upgrade` or `command.downgrade` to `revision`, on our own engine."""

    async def run() -> None:
        engine = make_engine(url)
        config = alembic_config()
        try:
            async with engine.begin() as connection:

                def in_sync(sync: Connection) -> None:
                    config.attributes["connection"] = sync
                    step(config, revision)

                await connection.run_sync(in_sync)
        finally:
            await engine.dispose()

    asyncio.run(run())


async def _execute(url: str, *statements: str) -> list[tuple[object, ...]]:
    engine = make_engine(url)
    try:
        async with engine.begin() as connection:
            rows: list[tuple[object, ...]] = []
            for statement in statements:
                result = await connection.execute(text(statement))
                rows = [tuple(row) for row in result] if result.returns_rows else rows
            return rows
    finally:
        await engine.dispose()


_MEASURES = (
    "cost_nanos, unpriced_calls, calls, error_calls, input_tokens, output_tokens,"
    " cache_read_tokens, cache_write_tokens, reasoning_tokens"
)


def _rollup_row(table: str, time: str, model: str, agent: str, customer: str, cost: int) -> str:
    return (
        f"INSERT INTO {table} (tenant_id, {'hour' if 'hourly' in table else 'day'}, provider,"
        f" model, agent, customer_id, {_MEASURES}) VALUES ('t1', '{time}', 'openai', '{model}',"
        f" '{agent}', '{customer}', {cost}, 0, 1, 0, 10, 5, 0, 0, 0)"
    )


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_the_model_rollups_are_filled_from_the_rollups_on_upgrade(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = (
        f"sqlite:///{tmp_path / 'old.db'}"
        if backend == "sqlite"
        else request.getfixturevalue("fresh_postgres")
    )
    _alembic(url, command.upgrade, "0003_cap_fail_policy")
    hour, day = "2026-11-20 10:00:00+00:00", "2026-11-20 00:00:00+00:00"
    asyncio.run(
        _execute(
            url,
            _rollup_row("spend_rollups_hourly", hour, "gpt-4o", "a", "c1", 100),
            _rollup_row("spend_rollups_hourly", hour, "gpt-4o", "", "c2", 20),
            _rollup_row("spend_rollups_hourly", hour, "gpt-4o-mini", "a", "c1", 3),
            _rollup_row("spend_rollups_daily", day, "gpt-4o", "a", "c1", 100),
            _rollup_row("spend_rollups_daily", day, "gpt-4o", "", "c2", 20),
        )
    )

    migrate(url)

    tenant = "SELECT set_config('app.current_tenant', 't1', true)" if backend == "postgres" else ""
    hourly = asyncio.run(
        _execute(
            url,
            *([tenant] if tenant else []),
            "SELECT model, cost_nanos, calls, input_tokens FROM spend_model_rollups_hourly"
            " ORDER BY model",
        )
    )
    daily = asyncio.run(
        _execute(
            url,
            *([tenant] if tenant else []),
            "SELECT model, cost_nanos, calls FROM spend_model_rollups_daily ORDER BY model",
        )
    )
    assert hourly == [("gpt-4o", 120, 2, 20), ("gpt-4o-mini", 3, 1, 10)]
    assert daily == [("gpt-4o", 120, 2)]
