"""Migration 0006 on PostgreSQL: coarse rollups kept at ingest until then become "the hours
before the watermark", and the downgrade makes them hold every hour again."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command

from adapters.sql.database import migrate
from tests.contract.test_migrations import _alembic, _execute, fresh_postgres  # noqa: F401

pytestmark = pytest.mark.postgres

_MEASURES = "cost_nanos, unpriced_calls, calls, error_calls, input_tokens, output_tokens"
_ZEROS = "0, 0, 0"
COARSE = (("spend_rollups_daily", "day"), ("spend_rollups_weekly", "week"))
COARSE += (("spend_rollups_monthly", "month"),)


def _hour_rows(hours: list[tuple[datetime, str, int]]) -> list[str]:
    """Hourly rows and, as the ingest of 0005 kept them, their coarse rows."""
    statements = []
    for hour, customer, cost in hours:
        values = f"'openai', 'gpt-4o', '', '{customer}', {cost}, 0, 1, 0, 10, 5, {_ZEROS}"
        statements.append(
            f"INSERT INTO spend_rollups_hourly (tenant_id, hour, provider, model, agent,"
            f" customer_id, {_MEASURES}, cache_read_tokens, cache_write_tokens,"
            f" reasoning_tokens) VALUES ('t1', '{hour.isoformat()}', {values})"
        )
        for table, column in COARSE:
            statements.append(
                f"INSERT INTO {table} AS r (tenant_id, {column}, provider, model, agent,"
                f" customer_id, {_MEASURES}, cache_read_tokens, cache_write_tokens,"
                " reasoning_tokens)"
                f" VALUES ('t1', date_trunc('{column}', TIMESTAMPTZ '{hour.isoformat()}', 'UTC'),"
                f" {values}) ON CONFLICT (tenant_id, {column}, provider, model, agent,"
                " customer_id) DO UPDATE SET cost_nanos = r.cost_nanos + EXCLUDED.cost_nanos,"
                " calls = r.calls + EXCLUDED.calls, input_tokens = r.input_tokens + 10,"
                " output_tokens = r.output_tokens + 5"
            )
    return statements


def _coarse_minus_hours_before(url: str, mark: str) -> list[tuple[object, ...]]:
    """Coarse rows that differ from the sum of their hours before `mark` (none if exact)."""
    statements = []
    for table, column in COARSE:
        statements.append(
            f"SELECT '{table}', unit, customer_id, sum(cost) AS off, sum(calls) FROM ("
            f" SELECT {column} AS unit, customer_id, cost_nanos AS cost, calls FROM {table}"
            " UNION ALL"
            f" SELECT date_trunc('{column}', hour, 'UTC'), customer_id, -cost_nanos, -calls"
            f" FROM spend_rollups_hourly WHERE hour < {mark}) AS both_sides"
            " GROUP BY 1, 2, 3 HAVING sum(cost) <> 0 OR sum(calls) <> 0"
        )
    query = " UNION ALL ".join(f"({statement})" for statement in statements)
    return asyncio.run(_execute(url, query))


def test_0006_takes_the_recent_hours_out_of_the_coarse_rollups_and_the_downgrade_adds_back(
    fresh_postgres: str,  # noqa: F811
) -> None:
    url = fresh_postgres
    _alembic(url, command.upgrade, "0005_c_collation_keys")
    before = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    hours = [
        (before - timedelta(days=9), "c1", 100),
        (before - timedelta(hours=5), "c1", 20),
        (before - timedelta(hours=1), "c1", 3),  # recent: the fold's again
        (before, "c2", 4_000),  # recent, and its customer's only hour
    ]
    asyncio.run(_execute(url, *_hour_rows(hours)))

    migrate(url)

    [(mark,)] = asyncio.run(
        _execute(url, "SELECT folded_until FROM rollup_folds WHERE tenant_id = 't1'")
    )
    after = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    assert before - timedelta(hours=2) <= mark <= after - timedelta(hours=2)
    assert _coarse_minus_hours_before(url, f"'{mark.isoformat()}'") == []
    [(c2_rows,)] = asyncio.run(
        _execute(url, "SELECT count(*) FROM spend_rollups_daily WHERE customer_id = 'c2'")
    )
    assert c2_rows == 0  # left with no call: removed

    _alembic(url, command.downgrade, "0005_c_collation_keys")

    assert _coarse_minus_hours_before(url, "'infinity'") == []
