"""One query over the rollups and the raw events, as `time_plan` divides a range.

Each span contributes rows of (bucket, keys..., measures...); the outer query sums them.
Rollup dimensions hold '' for "none" and the raw side is coalesced to match, so a group
looks the same whichever store it came from.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    Table,
    and_,
    case,
    cast,
    func,
    literal_column,
    or_,
    select,
    union_all,
)

from adapters.sql.dialect import instant
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

# Conditions on the columns a rollup table and spend_events share.
Predicate = Callable[[Table], Sequence[ColumnElement[bool]]]

BUCKET = "bucket"


def no_condition(_: Table) -> Sequence[ColumnElement[bool]]:
    return ()


def spend_totals_query(
    dialect: str,
    tenant_id: str,
    start: datetime,
    end: datetime,
    *,
    where: Predicate = no_condition,
    keys: Sequence[str] = (),
    bucket: Bucket | None = None,
    measures: Sequence[str] = MEASURE_COLUMNS,
    by_model: bool = False,
    coarse_until: datetime | None = None,
) -> Select[Any]:
    """Summed `measures` per (bucket, keys) over [start, end), from the cheapest stores.

    `by_model`: read the model rollups, which hold far fewer rows; only for keys and
    conditions on provider and model alone (another column is a KeyError here).
    `coarse_until`: the tenant's fold watermark (rollup_folds.coarse_until); the model
    rollups are kept whole at ingest and need none."""
    if by_model and not set(keys) <= set(MODEL_DIMENSIONS):
        raise KeyError(f"the model rollups hold no {sorted(set(keys) - set(MODEL_DIMENSIONS))}")
    spans = plan(
        start, end, bucket, finest_only=by_model, coarse_until=None if by_model else coarse_until
    )
    stores = _MODEL_STORES if by_model else _STORES
    parts = [
        _span_rows(dialect, tenant_id, stores, same_scan, where, keys, bucket, measures)
        for same_scan in _one_scan_each(spans, bucket)
    ]
    rows = (parts[0] if len(parts) == 1 else union_all(*parts)).subquery("spans")
    groups = ([rows.c[BUCKET]] if bucket else []) + [rows.c[key] for key in keys]
    sums = {
        measure: func.coalesce(cast(func.sum(rows.c[measure]), BigInteger), 0)
        for measure in measures
    }
    query = select(*groups, *(total.label(name) for name, total in sums.items()))
    if not groups:
        return query
    if "calls" not in sums:
        raise ValueError("grouped sums need the calls measure, to leave out empty groups")
    # A group whose events all lie in subtracted spans nets to zero calls: it had no event
    # in the range, so it is no row of the answer.
    return query.group_by(*groups).having(sums["calls"] > 0)


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


def _span_rows(
    dialect: str,
    tenant_id: str,
    stores: dict[Grain, tuple[Table, str]],
    spans: list[Span],
    where: Predicate,
    keys: Sequence[str],
    bucket: Bucket | None,
    measures: Sequence[str],
) -> Select[Any]:
    """Rows of one store over one or more spans of its grain and sign."""
    grain, sign = spans[0].grain, spans[0].sign
    table, time_column = stores[grain]
    moment = table.c[time_column]
    columns: list[ColumnElement[Any]] = []
    if bucket is not None:
        columns.append(_bucket_of(spans[0], moment, bucket, dialect).label(BUCKET))
    raw = grain is Grain.RAW
    for key in keys:
        column = table.c[key]
        columns.append((func.coalesce(column, NO_VALUE) if raw else column).label(key))
    for measure in measures:
        value = _raw_measure(measure) if raw else table.c[measure]
        columns.append((value if sign > 0 else -value).label(measure))
    in_spans = or_(*(and_(moment >= span.start, moment < span.end) for span in spans))
    return select(*columns).where(table.c.tenant_id == tenant_id, in_spans, *where(table))


_STORES: dict[Grain, tuple[Table, str]] = {
    **{Grain(time_column): (table, time_column) for table, time_column in ROLLUPS},
    Grain.RAW: (spend_events, "occurred_at"),
}
_MODEL_STORES: dict[Grain, tuple[Table, str]] = {
    **{Grain(time_column): (table, time_column) for table, time_column in MODEL_ROLLUPS},
    Grain.RAW: (spend_events, "occurred_at"),
}


def _bucket_of(
    span: Span, moment: ColumnElement[datetime], bucket: Bucket, dialect: str
) -> ColumnElement[datetime]:
    grain = bucket_grain(bucket)
    if span.grain is grain:
        return moment
    # time_plan keeps a finer span inside one bucket, so its bucket is a constant.
    return instant(floor_to(span.start, grain), dialect)


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
