"""The report query's plumbing: one statement per shape, and PostgreSQL's exact bigint sum."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from adapters.sql.conditions import cap_condition, filter_condition
from adapters.sql.database import APP_ROLE
from adapters.sql.spend_query import spend_totals_query
from domain.caps import CapScope
from domain.reports import SpendFilter
from tests.contract.builders import cap
from tests.support.postgres import PostgresDatabase

END = datetime(2026, 11, 20, 14, 37, 12, tzinfo=UTC)


def test_ranges_of_one_shape_share_a_statement_and_differ_in_parameters() -> None:
    """Building the union of scans costs milliseconds: a shape is built once."""
    first = spend_totals_query(
        "postgresql", "t1", END - timedelta(days=30), END, keys=("provider",), top=10
    )
    # A day later, another tenant, another limit: the same grains and signs of scans.
    later = END + timedelta(days=1)
    second = spend_totals_query(
        "postgresql", "t2", later - timedelta(days=30), later, keys=("provider",), top=5
    )
    assert second.statement is first.statement
    assert second.parameters["tenant_id"] == "t2"
    assert second.parameters["top"] == 5
    assert second.parameters != first.parameters
    # Other keys, another dialect or no ranking: another statement.
    assert (
        spend_totals_query(
            "postgresql", "t1", END - timedelta(days=30), END, keys=("model",), top=10
        ).statement
        is not first.statement
    )
    assert (
        spend_totals_query(
            "sqlite", "t1", END - timedelta(days=30), END, keys=("provider",), top=10
        ).statement
        is not first.statement
    )
    assert (
        spend_totals_query(
            "postgresql", "t1", END - timedelta(days=30), END, keys=("provider",)
        ).statement
        is not first.statement
    )


def test_conditions_key_the_statement_by_kind_and_carry_their_values() -> None:
    window = SpendFilter(END - timedelta(days=1), END, provider="openai")
    openai = spend_totals_query(
        "sqlite", "t", window.start, window.end, where=filter_condition(window)
    )
    anthropic_filter = SpendFilter(window.start, window.end, provider="anthropic")
    anthropic = spend_totals_query(
        "sqlite", "t", window.start, window.end, where=filter_condition(anthropic_filter)
    )
    assert anthropic.statement is openai.statement
    assert (openai.parameters["filter_provider"], anthropic.parameters["filter_provider"]) == (
        "openai",
        "anthropic",
    )
    by_model = SpendFilter(window.start, window.end, model="gpt-4o")
    assert (
        spend_totals_query(
            "sqlite", "t", window.start, window.end, where=filter_condition(by_model)
        ).statement
        is not openai.statement
    )

    # An agent value with a separator matches the whole path only: other SQL.
    segment = cap_condition(cap("t", scope=CapScope.AGENT, scope_value="triage"), "sqlite")
    path = cap_condition(cap("t", scope=CapScope.AGENT, scope_value="support/triage"), "sqlite")
    assert segment.condition != path.condition
    assert segment.values == {"cap_value": "/triage/"}
    assert cap_condition(
        cap("t", scope=CapScope.PROVIDER, scope_value="OpenAI"), "sqlite"
    ).values == {"cap_value": "openai"}


@pytest.fixture
async def owner(postgres_database: PostgresDatabase) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(postgres_database.asyncpg_dsn())
    yield connection
    await connection.close()


async def test_sum_exact_adds_bigints_exactly_and_refuses_to_overflow(
    owner: asyncpg.Connection, postgres_database: PostgresDatabase
) -> None:
    big = 2**62
    total = await owner.fetchval(
        "SELECT sum_exact(v) FROM unnest($1::bigint[]) AS v", [big, big - 1, None, -5]
    )
    assert total == 2**63 - 6  # beyond a double's 53 bits: no rounding on the way
    assert await owner.fetchval("SELECT sum_exact(v) FROM unnest($1::bigint[]) AS v", []) is None
    # Integers widen to it, as the raw events' counts and tokens do in the report's union.
    assert await owner.fetchval("SELECT sum_exact(v) FROM unnest($1::int[]) AS v", [1, 2]) == 3
    with pytest.raises(asyncpg.NumericValueOutOfRangeError):
        await owner.fetchval("SELECT sum_exact(v) FROM unnest($1::bigint[]) AS v", [2**63 - 1, 1])
    # The service's role may call it.
    app = await asyncpg.connect(postgres_database.asyncpg_dsn(APP_ROLE))
    try:
        assert await app.fetchval("SELECT sum_exact(v) FROM unnest($1::bigint[]) AS v", [7]) == 7
    finally:
        await app.close()
