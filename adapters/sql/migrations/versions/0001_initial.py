"""Initial schema: tenants, keys, caps, alerts, price overrides, spend events and their
hourly, daily, weekly and monthly rollups.

On PostgreSQL also: spend_events partitioned by month (with a DEFAULT partition, so no
event is ever refused), the partition-making function, the application role and
row-level security on every table.

Revision ID: 0001
Revises:
Create Date: 2026-05-01
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_APP_ROLE = "llmobserve_app"
TENANT_TABLES = (
    "tenants",
    "api_keys",
    "caps",
    "alerts",
    "price_overrides",
    "spend_events",
    "spend_event_ids",
    "spend_rollups_hourly",
    "spend_rollups_daily",
    "spend_rollups_weekly",
    "spend_rollups_monthly",
)
# What the application role may do: events are append-only, rollups only grow.
APP_GRANTS = {
    "tenants": "SELECT, INSERT, UPDATE, DELETE",
    "api_keys": "SELECT, INSERT, UPDATE, DELETE",
    "caps": "SELECT, INSERT, UPDATE, DELETE",
    "alerts": "SELECT, INSERT, UPDATE, DELETE",
    "price_overrides": "SELECT, INSERT, UPDATE, DELETE",
    "spend_events": "SELECT, INSERT",
    "spend_event_ids": "SELECT, INSERT",
    "spend_rollups_hourly": "SELECT, INSERT, UPDATE",
    "spend_rollups_daily": "SELECT, INSERT, UPDATE",
    "spend_rollups_weekly": "SELECT, INSERT, UPDATE",
    "spend_rollups_monthly": "SELECT, INSERT, UPDATE",
}
ROLLUPS = (
    ("spend_rollups_hourly", "hour"),
    ("spend_rollups_daily", "day"),
    ("spend_rollups_weekly", "week"),
    ("spend_rollups_monthly", "month"),
)
# Tables system jobs (no tenant) read across tenants: monitor, dispatcher, key lookup.
SYSTEM_READ_TABLES = ("tenants", "api_keys", "caps", "alerts")
PARTITION_FUNCTION = "llmobserve_ensure_spend_partitions"


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _instant() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    _create_tables()
    if op.get_bind().dialect.name == "postgresql":
        schema = op.get_bind().execute(sa.text("SELECT current_schema()")).scalar_one()
        role = context.config.attributes.get("app_role", DEFAULT_APP_ROLE)
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", role):
            raise ValueError(f"application role {role!r} is not a plain lower-case identifier")
        _create_partitioning(schema)
        _create_app_role(role)
        _grant(role, schema)
        _enable_row_level_security()


def _create_tables() -> None:
    op.create_table(
        "tenants",
        sa.Column("tenant_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("default_timezone", sa.Text(), nullable=False),
        sa.Column("created_at", _instant(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name="pk_tenants"),
    )
    op.create_table(
        "api_keys",
        sa.Column("tenant_id", sa.Text(), nullable=False),
        sa.Column("key_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("display_prefix", sa.Text(), nullable=False),
        sa.Column("secret_hash", sa.Text(), nullable=False),
        sa.Column("created_at", _instant(), nullable=False),
        sa.Column("last_used_at", _instant()),
        sa.Column("revoked_at", _instant()),
        sa.PrimaryKeyConstraint("tenant_id", "key_id", name="pk_api_keys"),
        sa.UniqueConstraint("secret_hash", name="uq_api_keys_secret_hash"),
    )
    op.create_table(
        "caps",
        sa.Column("tenant_id", sa.Text(), nullable=False),
        sa.Column("cap_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("scope_value", sa.Text()),
        sa.Column("period", sa.Text(), nullable=False),
        sa.Column("limit_nanos", sa.BigInteger(), nullable=False),
        sa.Column("enforcement", sa.Text(), nullable=False),
        sa.Column("thresholds", _json(), nullable=False),
        sa.Column("timezone", sa.Text(), nullable=False),
        sa.Column("recipients", _json(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", _instant()),
        sa.PrimaryKeyConstraint("tenant_id", "cap_id", name="pk_caps"),
    )
    op.create_table(
        "alerts",
        sa.Column("tenant_id", sa.Text(), nullable=False),
        sa.Column("alert_id", sa.Text(), nullable=False),
        sa.Column("cap_id", sa.Text(), nullable=False),
        sa.Column("cap_name", sa.Text(), nullable=False),
        sa.Column("window_start", _instant(), nullable=False),
        sa.Column("window_end", _instant(), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("spent_nanos", sa.BigInteger(), nullable=False),
        sa.Column("limit_nanos", sa.BigInteger(), nullable=False),
        sa.Column("recipients", _json(), nullable=False),
        sa.Column("created_at", _instant(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text()),
        sa.Column("sent_at", _instant()),
        sa.Column("next_attempt_at", _instant()),
        sa.Column("lease_until", _instant()),
        sa.PrimaryKeyConstraint("tenant_id", "alert_id", name="pk_alerts"),
        sa.UniqueConstraint(
            "tenant_id", "cap_id", "window_start", "threshold", "kind", name="uq_alerts_once"
        ),
    )
    op.create_index("ix_alerts_tenant_created", "alerts", ["tenant_id", "created_at"])
    op.create_index(
        "ix_alerts_pending",
        "alerts",
        ["created_at"],
        postgresql_where=sa.text("status = 'pending'"),
        sqlite_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "price_overrides",
        sa.Column("tenant_id", sa.Text(), nullable=False),
        sa.Column("override_id", sa.Text(), nullable=False),
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("input_nanos", sa.BigInteger(), nullable=False),
        sa.Column("output_nanos", sa.BigInteger(), nullable=False),
        sa.Column("cache_read_nanos", sa.BigInteger()),
        sa.Column("cache_write_nanos", sa.BigInteger()),
        sa.Column("reasoning_nanos", sa.BigInteger()),
        sa.Column("batch_input_nanos", sa.BigInteger()),
        sa.Column("batch_output_nanos", sa.BigInteger()),
        sa.Column("max_output_tokens", sa.Integer()),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("aliases", _json(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "override_id", name="pk_price_overrides"),
    )
    op.create_table(
        "spend_events",
        sa.Column("tenant_id", sa.Text(), nullable=False),
        sa.Column("occurred_at", _instant(), nullable=False),
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("operation", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("agent", sa.Text()),
        sa.Column("customer_id", sa.Text()),
        sa.Column("tags", _json(), nullable=False),
        sa.Column("latency_ms", sa.Integer()),
        sa.Column("reservation_id", sa.Text()),
        sa.Column("estimated", sa.Boolean(), nullable=False),
        sa.Column("cost_nanos", sa.BigInteger()),
        sa.Column("priced_model", sa.Text()),
        sa.Column("input_tokens", sa.Integer(), nullable=False),
        sa.Column("output_tokens", sa.Integer(), nullable=False),
        sa.Column("cache_read_tokens", sa.Integer(), nullable=False),
        sa.Column("cache_write_tokens", sa.Integer(), nullable=False),
        sa.Column("reasoning_tokens", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "occurred_at", "event_id", name="pk_spend_events"),
        postgresql_partition_by="RANGE (occurred_at)",
    )
    op.create_table(
        "spend_event_ids",
        sa.Column("tenant_id", sa.Text(), nullable=False),
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "event_id", name="pk_spend_event_ids"),
    )
    for name, time_column in ROLLUPS:
        op.create_table(
            name,
            sa.Column("tenant_id", sa.Text(), nullable=False),
            sa.Column(time_column, _instant(), nullable=False),
            sa.Column("provider", sa.Text(), nullable=False),
            sa.Column("model", sa.Text(), nullable=False),
            sa.Column("agent", sa.Text(), nullable=False),
            sa.Column("customer_id", sa.Text(), nullable=False),
            sa.Column("cost_nanos", sa.BigInteger(), nullable=False),
            sa.Column("unpriced_calls", sa.BigInteger(), nullable=False),
            sa.Column("calls", sa.BigInteger(), nullable=False),
            sa.Column("error_calls", sa.BigInteger(), nullable=False),
            sa.Column("input_tokens", sa.BigInteger(), nullable=False),
            sa.Column("output_tokens", sa.BigInteger(), nullable=False),
            sa.Column("cache_read_tokens", sa.BigInteger(), nullable=False),
            sa.Column("cache_write_tokens", sa.BigInteger(), nullable=False),
            sa.Column("reasoning_tokens", sa.BigInteger(), nullable=False),
            sa.PrimaryKeyConstraint(
                "tenant_id",
                time_column,
                "provider",
                "model",
                "agent",
                "customer_id",
                name=f"pk_{name}",
            ),
        )


def _create_partitioning(schema: str) -> None:
    op.execute("CREATE TABLE spend_events_default PARTITION OF spend_events DEFAULT")
    # SECURITY DEFINER: the application role (which owns no table) asks for partitions and
    # the owner makes them. Rows that already sit in the DEFAULT partition for a new month
    # are moved into it first, or attaching the month would fail.
    # (Only our own constants and the quoted schema name are interpolated.)
    op.execute(f"""
        CREATE FUNCTION {PARTITION_FUNCTION}(first_month date, months integer)
        RETURNS SETOF text
        LANGUAGE plpgsql
        SECURITY DEFINER
        SET search_path = {_quote_ident(schema)}, pg_temp
        SET timezone = 'UTC'
        SET lock_timeout = '10s'
        AS $fn$
        DECLARE
            month_start timestamptz;
            month_end timestamptz;
            partition_name text;
        BEGIN
            IF months < 0 OR months > 60 THEN
                RAISE EXCEPTION 'months must be between 0 and 60, not %', months;
            END IF;
            PERFORM pg_advisory_xact_lock(hashtext('llmobserve.spend_partitions'));
            FOR step IN 0..months LOOP
                month_start := date_trunc('month', first_month::timestamp AT TIME ZONE 'UTC')
                               + make_interval(months => step);
                month_end := month_start + interval '1 month';
                partition_name := 'spend_events_p' || to_char(month_start, 'YYYYMM');
                CONTINUE WHEN to_regclass(partition_name) IS NOT NULL;
                EXECUTE format(
                    'CREATE TABLE %I (LIKE spend_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
                    partition_name);
                EXECUTE format(
                    'WITH moved AS (DELETE FROM spend_events_default'
                    ' WHERE occurred_at >= %L AND occurred_at < %L RETURNING *)'
                    ' INSERT INTO %I SELECT * FROM moved',
                    month_start, month_end, partition_name);
                EXECUTE format(
                    'ALTER TABLE spend_events ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
                    partition_name, month_start, month_end);
                RETURN NEXT partition_name;
            END LOOP;
        END
        $fn$
    """)  # noqa: S608
    op.execute(f"REVOKE ALL ON FUNCTION {PARTITION_FUNCTION}(date, integer) FROM PUBLIC")
    op.execute(
        f"SELECT * FROM {PARTITION_FUNCTION}("  # noqa: S608 (a constant)
        "CAST(date_trunc('month', now() AT TIME ZONE 'UTC') AS date), 3)"
    )


def _create_app_role(role: str) -> None:
    # The role is cluster-wide: another database (or a concurrent migration) may have made
    # it already, so creating it is idempotent and race-safe. (`role` is checked to be a
    # plain identifier in upgrade().)
    op.execute(f"""
        DO $do$
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN
                BEGIN
                    CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
                EXCEPTION
                    WHEN duplicate_object OR unique_violation THEN NULL;
                    WHEN insufficient_privilege THEN
                        RAISE EXCEPTION 'role {role} does not exist and % may not create it',
                            current_user
                            USING HINT = 'CREATE ROLE {role} LOGIN NOBYPASSRLS, then migrate again';
                END;
            END IF;
        END
        $do$
    """)  # noqa: S608


def _grant(role: str, schema: str) -> None:
    op.execute(f"GRANT USAGE ON SCHEMA {_quote_ident(schema)} TO {role}")
    for table, privileges in APP_GRANTS.items():
        op.execute(f"GRANT {privileges} ON {table} TO {role}")
    op.execute(f"GRANT EXECUTE ON FUNCTION {PARTITION_FUNCTION}(date, integer) TO {role}")


def _enable_row_level_security() -> None:
    # NULLIF: once set transaction-locally, an unset setting reads back as '' (not NULL).
    tenant = "NULLIF(current_setting('app.current_tenant', true), '')"
    system = "current_setting('app.system_access', true) = 'on'"
    for table in TENANT_TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table}"
            f" USING (tenant_id = {tenant}) WITH CHECK (tenant_id = {tenant})"
        )
    for table in SYSTEM_READ_TABLES:
        op.execute(f"CREATE POLICY system_read ON {table} FOR SELECT USING ({system})")
    op.execute(
        f"CREATE POLICY system_lease ON alerts FOR UPDATE USING ({system}) WITH CHECK ({system})"
    )


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def downgrade() -> None:
    bind = op.get_bind()
    for table in reversed(TENANT_TABLES):
        op.drop_table(table)
    if bind.dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {PARTITION_FUNCTION}(date, integer)")
