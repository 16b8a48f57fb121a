"""Migrations: up from empty on both backends, idempotent, concurrent-safe, and the schema
they make is exactly the one the adapter's tables describe."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

import adapters.auth.sql_tables  # noqa: F401 - its tables share adapters.sql.tables.metadata
from adapters.sql.database import make_engine, migrate
from adapters.sql.migrate import alembic_config
from adapters.sql.partitions import month_start, partition_name
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


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_the_block_rollups_are_filled_from_the_folded_hours_on_upgrade(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """PostgreSQL: a tenant's hours before its watermark, as its days hold (the fold adds
    the rest later); a tenant never folded gets none. SQLite keeps every level whole."""
    postgres = backend == "postgres"
    url = (
        f"sqlite:///{tmp_path / 'old.db'}"
        if not postgres
        else request.getfixturevalue("fresh_postgres")
    )
    _alembic(url, command.upgrade, "0008_rls_once_per_statement")

    def hour(tenant: str, at: str, customer: str, cost: int) -> str:
        instant = f"2026-11-20 {at}:00" + ("+00" if postgres else ".000000")
        return (
            f"INSERT INTO spend_rollups_hourly (tenant_id, hour, provider, model, agent,"
            f" customer_id, {_MEASURES}) VALUES ('{tenant}', '{instant}', 'openai', 'gpt-4o',"
            f" 'a', '{customer}', {cost}, 0, 1, 0, 10, 5, 0, 0, 0)"
        )

    rows = [
        hour("t1", "10:00", "c1", 100),
        hour("t1", "11:00", "c1", 20),
        hour("t1", "13:00", "c1", 3),
        hour("t1", "21:00", "c2", 4),
        hour("t2", "10:00", "c1", 50),
    ]
    if postgres:
        rows.append("INSERT INTO rollup_folds VALUES ('t1', '2026-11-20 13:00:00+00')")
    asyncio.run(_execute(url, *rows))

    migrate(url)

    def blocks(tenant: str) -> list[tuple[object, ...]]:
        bind = [f"SELECT set_config('app.current_tenant', '{tenant}', true)"] if postgres else []
        found = asyncio.run(
            _execute(
                url,
                *bind,
                "SELECT block, customer_id, cost_nanos, calls, input_tokens"
                f" FROM spend_rollups_blocks WHERE tenant_id = '{tenant}' ORDER BY 1, 2",
            )
        )
        return [(_instant(row[0]), *row[1:]) for row in found]

    def at(text: str) -> datetime:
        return datetime.fromisoformat(f"2026-11-20 {text}").replace(tzinfo=UTC)

    if postgres:
        assert blocks("t1") == [(at("08:00"), "c1", 120, 2, 20)]
        assert blocks("t2") == []
    else:
        assert blocks("t1") == [
            (at("08:00"), "c1", 120, 2, 20),
            (at("12:00"), "c1", 3, 1, 10),
            (at("20:00"), "c2", 4, 1, 10),
        ]
        assert blocks("t2") == [(at("08:00"), "c1", 50, 1, 10)]


def _instant(stored: object) -> datetime:
    """A timestamp as read back raw: TIMESTAMPTZ from PostgreSQL, UTC text from SQLite."""
    if isinstance(stored, str):
        return datetime.fromisoformat(stored).replace(tzinfo=UTC)
    assert isinstance(stored, datetime)
    return stored.astimezone(UTC)


# The text key columns of the spend tables compare bytewise on PostgreSQL (0005).
_C_KEYS = {
    "spend_events": ("tenant_id", "event_id", "provider", "model", "agent", "customer_id"),
    "spend_event_ids": ("tenant_id", "event_id"),
    **{
        name: ("tenant_id", "provider", "model", "agent", "customer_id")
        for name in (
            "spend_rollups_hourly",
            "spend_rollups_daily",
            "spend_rollups_weekly",
            "spend_rollups_monthly",
        )
    },
    "spend_model_rollups_hourly": ("tenant_id", "provider", "model"),
    "spend_model_rollups_daily": ("tenant_id", "provider", "model"),
}
_COLLATIONS = (
    "SELECT table_name, column_name, collation_name FROM information_schema.columns"
    " WHERE table_schema = current_schema() AND data_type = 'text'"
)
_POLICIES = (
    "SELECT tablename, policyname, permissive, roles::text, cmd, qual, with_check"
    " FROM pg_policies WHERE schemaname = current_schema()"
    f" AND tablename IN ({', '.join(repr(table) for table in _C_KEYS)}) ORDER BY 1, 2"
)
_INDEXES = (
    "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() ORDER BY 1"
)


def _c_collated(url: str) -> set[tuple[str, str]]:
    rows = asyncio.run(_execute(url, _COLLATIONS))
    return {(str(table), str(column)) for table, column, collation in rows if collation == "C"}


def _declared_c_collated(partitions: set[str]) -> set[tuple[str, str]]:
    """The columns the tables give the "C" collation on PostgreSQL; partitions inherit."""
    dialect = postgresql.dialect()
    declared = {
        (table.name, column.name)
        for table in metadata.tables.values()
        for column in table.columns
        if getattr(column.type.dialect_impl(dialect), "collation", None) == "C"
    }
    inherited = {
        (partition, column)
        for table, column in declared
        if table == "spend_events"
        for partition in partitions
    }
    return declared | inherited


@pytest.mark.postgres
def test_postgres_spend_keys_get_the_c_collation_and_it_migrates_down_and_up(
    fresh_postgres: str,
) -> None:
    url = fresh_postgres
    _alembic(url, command.upgrade, "0004_model_rollups")
    # One event in this month's partition, one in the DEFAULT partition (no month of its own).
    event = (
        "INSERT INTO spend_events (tenant_id, occurred_at, event_id, provider, model, operation,"
        " status, agent, customer_id, tags, estimated, input_tokens, output_tokens,"
        " cache_read_tokens, cache_write_tokens, reasoning_tokens) VALUES ('t1', {at}, '{id}',"
        " 'openai', 'gpt-4o', 'chat', 'ok', 'a', 'c1', '{{}}', false, 1, 1, 0, 0, 0)"
    )
    asyncio.run(
        _execute(
            url,
            event.format(at="now()", id="e-now"),
            event.format(at="'2020-01-15 10:00:00+00'", id="e-2020"),
            "INSERT INTO spend_event_ids VALUES ('t1', 'e-now'), ('t1', 'e-2020')",
            _rollup_row("spend_rollups_hourly", "2020-01-15 10:00:00+00", "gpt-4o", "a", "c1", 7),
        )
    )
    assert _c_collated(url) == set()
    policies, indexes = (asyncio.run(_execute(url, query)) for query in (_POLICIES, _INDEXES))
    assert [row[:2] for row in policies] == [
        (table, "tenant_isolation") for table in sorted(_C_KEYS)
    ]

    _alembic(url, command.upgrade, "0007_sum_exact")  # 0008 rewrites the policies' expressions
    # A month partition made after the migration (moving its event out of DEFAULT).
    made = asyncio.run(
        _execute(url, "SELECT * FROM llmobserve_ensure_spend_partitions('2020-01-01', 0)")
    )
    assert made == [("spend_events_p202001",)]

    collated = _c_collated(url)
    this_month = partition_name(month_start(datetime.now(UTC)))
    for table, columns in {
        **_C_KEYS,
        "spend_events_default": _C_KEYS["spend_events"],
        this_month: _C_KEYS["spend_events"],
        "spend_events_p202001": _C_KEYS["spend_events"],
    }.items():
        assert {(table, column) for column in columns} <= collated, table
    assert ("spend_rollups_hourly", "customer_id") in collated
    # Exactly what the tables declare: no other text column (caps, keys, auth) changed.
    partitions = {table for table, _ in collated if table.startswith("spend_events_")}
    assert collated == {
        (table, column)
        for table, column in _declared_c_collated(partitions)
        if table not in _MADE_AFTER_0007
    }
    # PostgreSQL refuses to alter a column a policy reads: the policies were made again,
    # the same; the indexes were rebuilt under their own names.
    assert asyncio.run(_execute(url, _POLICIES)) == policies
    assert {row[0] for row in asyncio.run(_execute(url, _INDEXES))} >= {row[0] for row in indexes}
    # The rows are still found through the rebuilt keys.
    found = asyncio.run(
        _execute(
            url,
            "SET LOCAL enable_seqscan = off",
            "SELECT (SELECT count(*) FROM spend_event_ids WHERE tenant_id = 't1'"
            "        AND event_id IN ('e-now', 'e-2020')),"
            " (SELECT count(*) FROM spend_events WHERE tenant_id = 't1'),"
            " (SELECT count(*) FROM spend_events_default),"
            " (SELECT sum(cost_nanos) FROM spend_rollups_hourly WHERE tenant_id = 't1'"
            "        AND customer_id = 'c1')",
        )
    )
    assert found == [(2, 2, 0, 7)]

    _alembic(url, command.downgrade, "0004_model_rollups")
    assert _c_collated(url) == set()
    assert asyncio.run(_execute(url, _POLICIES)) == policies

    _alembic(url, command.upgrade, "0007_sum_exact")
    assert _c_collated(url) == collated
    assert asyncio.run(_execute(url, _POLICIES)) == policies
    migrate(url)
    assert asyncio.run(schema_report(url))[:2] == (HEAD, [])
    # Tables made later have the "C" keys from the start.
    assert _c_collated(url) == _declared_c_collated(partitions)


# Tables made by later migrations, with "C" keys of their own.
_MADE_AFTER_0007 = {"spend_rollups_blocks"}

_ALL_POLICIES = (
    "SELECT tablename, policyname, permissive, roles::text, cmd, qual, with_check"
    " FROM pg_policies WHERE schemaname = current_schema() ORDER BY 1, 2"
)


@pytest.mark.postgres
def test_postgres_policies_read_the_bound_tenant_once_per_statement_and_migrate_down_and_up(
    fresh_postgres: str,
) -> None:
    url = fresh_postgres
    _alembic(url, command.upgrade, "0007_sum_exact")
    per_row = asyncio.run(_execute(url, _ALL_POLICIES))
    assert {row[1] for row in per_row} == {
        "tenant_isolation",
        "system_read",
        "system_lease",
        "system_cleanup",
    }

    _alembic(url, command.upgrade, "0008_rls_once_per_statement")
    per_statement = asyncio.run(_execute(url, _ALL_POLICIES))
    # The same policies on the same tables, for the same roles and commands...
    assert [row[:5] for row in per_statement] == [row[:5] for row in per_row]
    # ...each reading the setting in a scalar subquery (an initplan: once per statement).
    _assert_read_once_per_statement(per_statement)
    for row in per_row:
        assert "SELECT" not in f"{row[5]} {row[6]}", row

    _alembic(url, command.downgrade, "0007_sum_exact")
    assert asyncio.run(_execute(url, _ALL_POLICIES)) == per_row
    _alembic(url, command.upgrade, "0008_rls_once_per_statement")
    assert asyncio.run(_execute(url, _ALL_POLICIES)) == per_statement
    # The tables made later (0009's blocks) have such policies from the start.
    migrate(url)
    at_head = asyncio.run(_execute(url, _ALL_POLICIES))
    assert {row[0] for row in at_head} - {row[0] for row in per_statement} == _MADE_AFTER_0007
    _assert_read_once_per_statement(at_head)


def _assert_read_once_per_statement(policies: list[tuple[object, ...]]) -> None:
    for table, policy, _, _, kind, qual, with_check in policies:
        setting = "app.current_tenant" if policy == "tenant_isolation" else "app.system_access"
        for expression in (qual, with_check) if kind in ("ALL", "UPDATE") else (qual,):
            assert expression is not None, (table, policy)
            assert f"( SELECT NULLIF(current_setting('{setting}'" in str(expression) or (
                f"( SELECT current_setting('{setting}'" in str(expression)
            ), (table, policy, expression)
