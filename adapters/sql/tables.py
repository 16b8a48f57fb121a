"""The schema as SQLAlchemy Core tables. Every key starts with tenant_id.

The migrations in `migrations/versions` create exactly this (a test compares them);
PostgreSQL additionally partitions spend_events by month and guards every table
with row-level security. The text key columns of the spend tables (events, event ids,
rollups) have the "C" collation there: bytewise, as SQLite compares text.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    Table,
    Text,
    UniqueConstraint,
)

from adapters.sql.time_plan import BLOCK_HOURS
from adapters.sql.types import KeyText, UtcDateTime, json_document

metadata = MetaData()

# The rollup dimensions hold '' for "none", so that they can be part of a primary key
# on both databases; readers turn '' back into None.
NO_VALUE = ""

tenants = Table(
    "tenants",
    metadata,
    Column("tenant_id", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("default_timezone", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("tenant_id", name="pk_tenants"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("tenant_id", Text, nullable=False),
    Column("key_id", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("display_prefix", Text, nullable=False),
    Column("secret_hash", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_used_at", UtcDateTime),
    Column("revoked_at", UtcDateTime),
    PrimaryKeyConstraint("tenant_id", "key_id", name="pk_api_keys"),
    UniqueConstraint("secret_hash", name="uq_api_keys_secret_hash"),
)

caps = Table(
    "caps",
    metadata,
    Column("tenant_id", Text, nullable=False),
    Column("cap_id", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("scope", Text, nullable=False),
    Column("scope_value", Text),
    Column("period", Text, nullable=False),
    Column("limit_nanos", BigInteger, nullable=False),
    Column("enforcement", Text, nullable=False),
    Column("thresholds", json_document(), nullable=False),
    Column("timezone", Text, nullable=False),
    Column("recipients", json_document(), nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("created_at", UtcDateTime),
    Column("fail_policy", Text),
    PrimaryKeyConstraint("tenant_id", "cap_id", name="pk_caps"),
)

alerts = Table(
    "alerts",
    metadata,
    Column("tenant_id", Text, nullable=False),
    Column("alert_id", Text, nullable=False),
    Column("cap_id", Text, nullable=False),
    Column("cap_name", Text, nullable=False),
    Column("window_start", UtcDateTime, nullable=False),
    Column("window_end", UtcDateTime, nullable=False),
    Column("threshold", Integer, nullable=False),
    Column("kind", Text, nullable=False),
    Column("spent_nanos", BigInteger, nullable=False),
    Column("limit_nanos", BigInteger, nullable=False),
    Column("recipients", json_document(), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("status", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text),
    Column("sent_at", UtcDateTime),
    Column("next_attempt_at", UtcDateTime),
    # A dispatcher's claim: nobody else sends this alert before then.
    Column("lease_until", UtcDateTime),
    PrimaryKeyConstraint("tenant_id", "alert_id", name="pk_alerts"),
    # The exactly-once rule: one alert per (cap, window, threshold, kind).
    UniqueConstraint(
        "tenant_id", "cap_id", "window_start", "threshold", "kind", name="uq_alerts_once"
    ),
)
Index("ix_alerts_tenant_created", alerts.c.tenant_id, alerts.c.created_at)
Index(
    "ix_alerts_pending",
    alerts.c.created_at,
    postgresql_where=alerts.c.status == "pending",
    sqlite_where=alerts.c.status == "pending",
)

price_overrides = Table(
    "price_overrides",
    metadata,
    Column("tenant_id", Text, nullable=False),
    # Time-ordered, so listing by it gives insertion order (the order overrides apply in).
    Column("override_id", Text, nullable=False),
    Column("provider", Text, nullable=False),
    Column("model", Text, nullable=False),
    Column("effective_from", Date, nullable=False),
    Column("input_nanos", BigInteger, nullable=False),
    Column("output_nanos", BigInteger, nullable=False),
    Column("cache_read_nanos", BigInteger),
    Column("cache_write_nanos", BigInteger),
    Column("reasoning_nanos", BigInteger),
    Column("batch_input_nanos", BigInteger),
    Column("batch_output_nanos", BigInteger),
    Column("max_output_tokens", Integer),
    Column("source", Text, nullable=False),
    Column("aliases", json_document(), nullable=False),
    PrimaryKeyConstraint("tenant_id", "override_id", name="pk_price_overrides"),
)

spend_events = Table(
    "spend_events",
    metadata,
    Column("tenant_id", KeyText, nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("event_id", KeyText, nullable=False),
    Column("provider", KeyText, nullable=False),
    Column("model", KeyText, nullable=False),
    Column("operation", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("agent", KeyText),
    Column("customer_id", KeyText),
    Column("tags", json_document(), nullable=False),
    Column("latency_ms", Integer),
    Column("reservation_id", Text),
    Column("estimated", Boolean, nullable=False),
    # NULL means unpriced (unknown model): never a silent $0.
    Column("cost_nanos", BigInteger),
    Column("priced_model", Text),
    Column("input_tokens", Integer, nullable=False),
    Column("output_tokens", Integer, nullable=False),
    Column("cache_read_tokens", Integer, nullable=False),
    Column("cache_write_tokens", Integer, nullable=False),
    Column("reasoning_tokens", Integer, nullable=False),
    # The partition key is part of the key; uniqueness of event ids is spend_event_ids' job.
    PrimaryKeyConstraint("tenant_id", "occurred_at", "event_id", name="pk_spend_events"),
    postgresql_partition_by="RANGE (occurred_at)",
)

# Idempotency: a partitioned table cannot be unique on (tenant_id, event_id) alone.
spend_event_ids = Table(
    "spend_event_ids",
    metadata,
    Column("tenant_id", KeyText, nullable=False),
    Column("event_id", KeyText, nullable=False),
    PrimaryKeyConstraint("tenant_id", "event_id", name="pk_spend_event_ids"),
)

DIMENSION_COLUMNS = ("provider", "model", "agent", "customer_id")
MODEL_DIMENSIONS = ("provider", "model")
MEASURE_COLUMNS = (
    "cost_nanos",
    "unpriced_calls",
    "calls",
    "error_calls",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
)


def _rollup_table(
    name: str, time_column: str, dimensions: tuple[str, ...] = DIMENSION_COLUMNS
) -> Table:
    return Table(
        name,
        metadata,
        Column("tenant_id", KeyText, nullable=False),
        Column(time_column, UtcDateTime, nullable=False),
        *(Column(dimension, KeyText, nullable=False) for dimension in dimensions),
        *(Column(measure, BigInteger, nullable=False) for measure in MEASURE_COLUMNS),
        PrimaryKeyConstraint("tenant_id", time_column, *dimensions, name=f"pk_{name}"),
    )


def _model_rollup_table(name: str, time_column: str) -> Table:
    # `slot` spreads each (provider, model) over a few rows: every batch of a tenant
    # touches its models' rows, and concurrent batches writing one row would wait for
    # each other's commit. Reads sum the slots like any other rows of a group.
    return Table(
        name,
        metadata,
        Column("tenant_id", KeyText, nullable=False),
        Column(time_column, UtcDateTime, nullable=False),
        *(Column(dimension, KeyText, nullable=False) for dimension in MODEL_DIMENSIONS),
        Column("slot", SmallInteger, nullable=False),
        *(Column(measure, BigInteger, nullable=False) for measure in MEASURE_COLUMNS),
        PrimaryKeyConstraint(
            "tenant_id", time_column, *MODEL_DIMENSIONS, "slot", name=f"pk_{name}"
        ),
    )


# UTC hours, blocks of four hours, days, weeks (from Monday) and months; reports read
# the coarsest that fit, and raw events only for the partial hours at a range's ends
# (adapters/sql/time_plan.py).
spend_rollups_hourly = _rollup_table("spend_rollups_hourly", "hour")
spend_rollups_blocks = _rollup_table("spend_rollups_blocks", "block")
spend_rollups_daily = _rollup_table("spend_rollups_daily", "day")
spend_rollups_weekly = _rollup_table("spend_rollups_weekly", "week")
spend_rollups_monthly = _rollup_table("spend_rollups_monthly", "month")

# One customer's spend (its page, its sparkline, its caps) without reading every other's.
Index(
    "ix_spend_rollups_hourly_customer",
    spend_rollups_hourly.c.tenant_id,
    spend_rollups_hourly.c.customer_id,
    spend_rollups_hourly.c.hour,
)
Index(
    "ix_spend_rollups_blocks_customer",
    spend_rollups_blocks.c.tenant_id,
    spend_rollups_blocks.c.customer_id,
    spend_rollups_blocks.c.block,
)
Index(
    "ix_spend_rollups_daily_customer",
    spend_rollups_daily.c.tenant_id,
    spend_rollups_daily.c.customer_id,
    spend_rollups_daily.c.day,
)

# Each rollup table with its time column, which holds the start of the unit.
ROLLUPS = (
    (spend_rollups_hourly, "hour"),
    (spend_rollups_blocks, "block"),
    (spend_rollups_daily, "day"),
    (spend_rollups_weekly, "week"),
    (spend_rollups_monthly, "month"),
)


def unit_start_sql(time_column: str, instant: str) -> str:
    """PostgreSQL for the start of the UTC unit `time_column` names that holds `instant`
    (an SQL expression): date_trunc's hour, day, week (from Monday) and month, and
    four-hour blocks binned from a midnight."""
    if time_column == "block":
        return f"date_bin('{BLOCK_HOURS} hours', {instant}, TIMESTAMPTZ '2000-01-01 00:00:00+00')"
    return f"date_trunc('{time_column}', {instant}, 'UTC')"


# The same sums per provider and model only, hourly and daily: a few rows an hour where
# the full rollups hold one per agent and customer too. They answer every view that
# neither filters nor groups by agent or customer (totals, provider and model
# breakdowns, charts by provider or model, global, provider and model caps).
spend_model_rollups_hourly = _model_rollup_table("spend_model_rollups_hourly", "hour")
spend_model_rollups_daily = _model_rollup_table("spend_model_rollups_daily", "day")
# Concurrent batches of one tenant spread over this many rows per (provider, model).
MODEL_ROLLUP_SLOTS = 4
MODEL_ROLLUPS = (
    (spend_model_rollups_hourly, "hour"),
    (spend_model_rollups_daily, "day"),
)

# PostgreSQL fills the block, daily, weekly and monthly rollups from the hourly ones behind a
# watermark per tenant: they hold the hours before `folded_until` (rollup_folds.py).
# NULL (or no row): nothing folded yet. SQLite keeps every level at ingest; no rows.
rollup_folds = Table(
    "rollup_folds",
    metadata,
    Column("tenant_id", KeyText, nullable=False),
    Column("folded_until", UtcDateTime),
    PrimaryKeyConstraint("tenant_id", name="pk_rollup_folds"),
)

TENANT_TABLES = (
    tenants,
    api_keys,
    caps,
    alerts,
    price_overrides,
    spend_events,
    spend_event_ids,
    spend_rollups_hourly,
    spend_rollups_blocks,
    spend_rollups_daily,
    spend_rollups_weekly,
    spend_rollups_monthly,
    spend_model_rollups_hourly,
    spend_model_rollups_daily,
    rollup_folds,
)
