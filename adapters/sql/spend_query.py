"""One query over the rollups and the raw events, as `time_plan` divides a range.

Each span contributes rows of (bucket, keys..., measures...); the outer query sums them.
Rollup dimensions hold '' for "none" and the raw side is coalesced to match, so a group
looks the same whichever store it came from.

Building such a statement in SQLAlchemy costs milliseconds of CPU (seven scans of a dozen
columns for "the last 30 days"), more than some of the queries take to run. Every value
(tenant, span edges, filter values, limit) is therefore a named bound parameter, and one
statement per shape (grains and signs of the scans, keys, measures, condition kind) is
built once and kept, so SQLAlchemy's compiled cache finds it at once.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple, Protocol

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Table,
    and_,
    bindparam,
    case,
    desc,
    func,
    literal_column,
    or_,
    select,
    union_all,
)

from adapters.sql.dialect import binary_order, exact_sum, instant
from adapters.sql.tables import (
    MEASURE_COLUMNS,
    MODEL_DIMENSIONS,
    MODEL_ROLLUPS,
    NO_VALUE,
    ROLLUPS,
    spend_events,
)
from adapters.sql.time_plan import Grain, Span, bucket_grain, floor_to, plan
from domain.events import CallStatus
from domain.reports import Bucket

BUCKET = "bucket"


class Condition(Hashable, Protocol):
    """Conditions on the columns a rollup table and spend_events share, written with
    named bound parameters only: equal conditions must write the same SQL, for one
    statement serves them all."""

    def __call__(self, table: Table) -> Sequence[ColumnElement[bool]]: ...


class Where(NamedTuple):
    """A condition and the values of its bound parameters."""

    condition: Condition
    values: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class _Nothing:
    def __call__(self, table: Table) -> Sequence[ColumnElement[bool]]:
        return ()


NOTHING = Where(_Nothing(), {})


class SpendQuery(NamedTuple):
    statement: Select[Any]
    parameters: dict[str, Any]


# (grain, sign, spans) of each scan: with the other arguments, what the SQL depends on.
_Layout = tuple[tuple[Grain, int, int], ...]


def spend_totals_query(
    dialect: str,
    tenant_id: str,
    start: datetime,
    end: datetime,
    *,
    where: Where = NOTHING,
    keys: Sequence[str] = (),
    bucket: Bucket | None = None,
    measures: Sequence[str] = MEASURE_COLUMNS,
    by_model: bool = False,
    coarse_until: datetime | None = None,
    top: int | None = None,
) -> SpendQuery:
    """Summed `measures` per (bucket, keys) over [start, end), from the cheapest stores.

    `by_model`: read the model rollups, which hold far fewer rows; only for keys and
    conditions on provider and model alone (another column is a KeyError here).
    `coarse_until`: the tenant's fold watermark (rollup_folds.coarse_until); the model
    rollups are kept whole at ingest and need none.
    `top`: only the `top` largest groups, by cost, then calls, then the keys."""
    if by_model and not set(keys) <= set(MODEL_DIMENSIONS):
        raise KeyError(f"the model rollups hold no {sorted(set(keys) - set(MODEL_DIMENSIONS))}")
    spans = plan(
        start, end, bucket, finest_only=by_model, coarse_until=None if by_model else coarse_until
    )
    scans = _one_scan_each(spans, bucket)
    parameters: dict[str, Any] = {"tenant_id": tenant_id, **where.values}
    for index, scan in enumerate(scans):
        for position, span in enumerate(scan):
            parameters[f"s{index}_{position}_start"] = span.start
            parameters[f"s{index}_{position}_end"] = span.end
        if bucket is not None and scan[0].grain is not bucket_grain(bucket):
            parameters[f"s{index}_bucket"] = floor_to(scan[0].start, bucket_grain(bucket))
    if top is not None:
        parameters["top"] = top
    layout = tuple((scan[0].grain, scan[0].sign, len(scan)) for scan in scans)
    statement = _statement(
        dialect,
        layout,
        where.condition,
        tuple(keys),
        bucket,
        tuple(measures),
        by_model,
        top is not None,
    )
    return SpendQuery(statement, parameters)


@lru_cache(maxsize=256)
def _statement(
    dialect: str,
    layout: _Layout,
    condition: Condition,
    keys: tuple[str, ...],
    bucket: Bucket | None,
    measures: tuple[str, ...],
    by_model: bool,
    ranked: bool,
) -> Select[Any]:
    stores = _MODEL_STORES if by_model else _STORES
    parts = [
        _scan_rows(dialect, stores, index, scan, condition, keys, bucket, measures)
        for index, scan in enumerate(layout)
    ]
    rows = (parts[0] if len(parts) == 1 else union_all(*parts)).subquery("spans")
    groups = ([rows.c[BUCKET]] if bucket else []) + [rows.c[key] for key in keys]
    sums = {measure: func.coalesce(exact_sum(rows.c[measure], dialect), 0) for measure in measures}
    query = select(*groups, *(total.label(name) for name, total in sums.items()))
    if not groups:
        return query
    if "calls" not in sums:
        raise ValueError("grouped sums need the calls measure, to leave out empty groups")
    # A group whose events all lie in subtracted spans nets to zero calls: it had no event
    # in the range, so it is no row of the answer.
    query = query.group_by(*groups).having(sums["calls"] > 0)
    if not ranked:
        return query
    columns = query.selected_columns
    return query.order_by(
        desc(columns.cost_nanos),
        desc(columns.calls),
        *(binary_order(columns[key], dialect) for key in keys),
    ).limit(bindparam("top", type_=Integer))


def _one_scan_each(spans: list[Span], bucket: Bucket | None) -> list[list[Span]]:
    """Spans of one grain and sign read in one scan, unless their constant buckets differ."""
    merged: dict[tuple[Grain, int], list[Span]] = {}
    alone: list[list[Span]] = []
    for span in spans:
        if bucket is None or span.grain is bucket_grain(bucket):
            merged.setdefault((span.grain, span.sign), []).append(span)
        else:
            alone.append([span])
    return [*merged.values(), *alone]


def _scan_rows(
    dialect: str,
    stores: dict[Grain, tuple[Table, str]],
    index: int,
    scan: tuple[Grain, int, int],
    condition: Condition,
    keys: Sequence[str],
    bucket: Bucket | None,
    measures: Sequence[str],
) -> Select[Any]:
    """Rows of one store over one or more spans of its grain and sign (scan `index`)."""
    grain, sign, count = scan
    table, time_column = stores[grain]
    moment = table.c[time_column]
    columns: list[ColumnElement[Any]] = []
    if bucket is not None:
        # time_plan keeps a finer span inside one bucket, so its bucket is a constant.
        bucket_of = (
            moment if grain is bucket_grain(bucket) else instant(f"s{index}_bucket", dialect)
        )
        columns.append(bucket_of.label(BUCKET))
    raw = grain is Grain.RAW
    for key in keys:
        column = table.c[key]
        columns.append((func.coalesce(column, NO_VALUE) if raw else column).label(key))
    for measure in measures:
        value = _raw_measure(measure) if raw else table.c[measure]
        columns.append((value if sign > 0 else -value).label(measure))
    edge = moment.type
    in_spans = or_(
        *(
            and_(
                moment >= bindparam(f"s{index}_{position}_start", type_=edge),
                moment < bindparam(f"s{index}_{position}_end", type_=edge),
            )
            for position in range(count)
        )
    )
    tenant = bindparam("tenant_id", type_=table.c.tenant_id.type)
    return select(*columns).where(table.c.tenant_id == tenant, in_spans, *condition(table))


_STORES: dict[Grain, tuple[Table, str]] = {
    **{Grain(time_column): (table, time_column) for table, time_column in ROLLUPS},
    Grain.RAW: (spend_events, "occurred_at"),
}
_MODEL_STORES: dict[Grain, tuple[Table, str]] = {
    **{Grain(time_column): (table, time_column) for table, time_column in MODEL_ROLLUPS},
    Grain.RAW: (spend_events, "occurred_at"),
}


def _raw_measure(measure: str) -> ColumnElement[Any]:
    events = spend_events.c
    one: ColumnElement[int] = literal_column("1")
    zero: ColumnElement[int] = literal_column("0")
    match measure:
        case "cost_nanos":
            return func.coalesce(events.cost_nanos, zero)
        case "unpriced_calls":
            return case((events.cost_nanos.is_(None), one), else_=zero)
        case "calls":
            return one
        case "error_calls":
            return case((events.status == CallStatus.ERROR.value, one), else_=zero)
        case _:
            return events[measure]
