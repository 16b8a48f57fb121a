"""Which store answers which part of a time range: rollups, coarsest first, then raw events.

A range [start, end) is covered by whole UTC months, weeks (from Monday, as weekly caps
count), days, blocks (four hours from 00:00, 04:00, ... 20:00 UTC: six to a day) and
hours, each read from its rollup table; only partial hours need raw events. Blocks are
there for the hours at a range's ends: "the last 30 days" begins mid-afternoon, and the
hours to midnight are an hour and two blocks, not nine hours of rows. Windows in zones
such as Asia/Kolkata start on the half hour, so their edges always read a few raw
events. A time series uses no grain coarser than its bucket.

On PostgreSQL the block, daily, weekly and monthly rollups hold the hours before a
watermark only (`coarse_until`, see adapters/sql/rollup_folds.py); hours are always
complete. A coarse unit is then used whole only when it ends by the watermark, and the
unit that holds the watermark stands for [its start, watermark): one row instead of its
hours.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from domain.reports import Bucket

_EPOCH_MONDAY = datetime(1970, 1, 5, tzinfo=UTC)
# A block's hours; it divides a day, so blocks nest in days as hours nest in blocks.
BLOCK_HOURS = 4


class Grain(enum.Enum):
    MONTH = "month"
    WEEK = "week"
    DAY = "day"
    BLOCK = "block"
    HOUR = "hour"
    RAW = "raw"


_USABLE: dict[Bucket | None, tuple[Grain, ...]] = {
    None: (Grain.MONTH, Grain.WEEK, Grain.DAY, Grain.BLOCK, Grain.HOUR),
    Bucket.DAY: (Grain.DAY, Grain.BLOCK, Grain.HOUR),
    Bucket.HOUR: (Grain.HOUR,),
}


@dataclass(frozen=True, slots=True)
class Span:
    """[start, end) read from one grain's store; sign -1 subtracts it (see `plan`)."""

    grain: Grain
    start: datetime
    end: datetime
    sign: int = 1

    def negated(self) -> Span:
        return Span(self.grain, self.start, self.end, -self.sign)


def bucket_grain(bucket: Bucket) -> Grain:
    return Grain.HOUR if bucket is Bucket.HOUR else Grain.DAY


def floor_to(instant: datetime, grain: Grain) -> datetime:
    instant = instant.astimezone(UTC)
    match grain:
        case Grain.MONTH:
            return instant.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        case Grain.WEEK:
            week = timedelta(days=7)
            return _EPOCH_MONDAY + ((instant - _EPOCH_MONDAY) // week) * week
        case Grain.DAY:
            return instant.replace(hour=0, minute=0, second=0, microsecond=0)
        case Grain.BLOCK:
            hour = instant.hour - instant.hour % BLOCK_HOURS
            return instant.replace(hour=hour, minute=0, second=0, microsecond=0)
        case Grain.HOUR:
            return instant.replace(minute=0, second=0, microsecond=0)
        case Grain.RAW:
            return instant


def ceil_to(instant: datetime, grain: Grain) -> datetime:
    floor = floor_to(instant, grain)
    if floor == instant:
        return floor
    match grain:
        case Grain.MONTH:
            return floor.replace(year=floor.year + floor.month // 12, month=floor.month % 12 + 1)
        case Grain.WEEK:
            return floor + timedelta(days=7)
        case Grain.DAY:
            return floor + timedelta(days=1)
        case Grain.BLOCK:
            return floor + timedelta(hours=BLOCK_HOURS)
        case _:
            return floor + timedelta(hours=1)


def next_unit(unit_start: datetime, grain: Grain) -> datetime:
    return ceil_to(unit_start + timedelta(microseconds=1), grain)


def plan(
    start: datetime,
    end: datetime,
    bucket: Bucket | None = None,
    finest_only: bool = False,
    coarse_until: datetime | None = None,
) -> list[Span]:
    """Signed spans whose sum is exactly [start, end), at about the least reading cost.

    Whole units of the coarsest grain that fits come from its rollup; what is left at
    each end lies within one unit and is covered either directly by finer grains or as
    that whole unit minus the rest of it, whichever reads fewer rows. "The last 30 days"
    thus ends with this week's rollup minus the days and hours still to come, which hold
    nothing yet. Sums stay exact: they are integers.

    For a time series, every piece at the bucket's grain and finer stays within one
    unit, so a span's bucket is a constant unless its own grain is the bucket's.
    `finest_only` plans with days and hours alone, for stores that keep no coarser grain.
    `coarse_until`: the hour before which the day, week and month stores are complete
    (None: always); after it, hours and raw events answer.
    """
    grains = _USABLE[bucket]
    if finest_only:  # stores kept by day and hour only (the model rollups)
        grains = tuple(grain for grain in grains if grain in (Grain.DAY, Grain.HOUR))
    start, end, bounded = start.astimezone(UTC), end.astimezone(UTC), bucket is not None
    if coarse_until is None or grains == (Grain.HOUR,):
        return list(_cover(start, end, grains, bounded))
    mark = floor_to(coarse_until, Grain.HOUR)
    if end < mark:
        return list(_cover(start, end, grains, bounded, mark))
    spans = list(_up_to_mark(start, mark, grains, bounded)) if start < mark else []
    # After the watermark hours only, a day at a time for a series (its buckets).
    tail_start = max(start, mark)
    pieces = _days(tail_start, end) if bucket is Bucket.DAY else [(tail_start, end)]
    for piece_start, piece_end in pieces:
        spans.extend(_cover(piece_start, piece_end, (Grain.HOUR,), bounded))
    return spans


def _days(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    pieces = []
    while start < end:
        piece_end = min(end, next_unit(floor_to(start, Grain.DAY), Grain.DAY))
        pieces.append((start, piece_end))
        start = piece_end
    return pieces


@lru_cache(maxsize=4096)
def _up_to_mark(
    start: datetime, mark: datetime, grains: tuple[Grain, ...], bounded: bool
) -> tuple[Span, ...]:
    """[start, mark), where each coarse unit holding `mark` holds exactly [its start, mark):
    it is one row however far into it the watermark is."""
    options = [_cover(start, mark, grains, bounded, mark)]
    for grain in grains:
        if grain is Grain.HOUR:
            break
        unit_start = floor_to(mark, grain)
        if unit_start == mark:
            continue  # the mark is on this grain's boundary: no partial unit
        partial = Span(grain, unit_start, mark)
        if unit_start >= start:
            options.append((*_cover(start, unit_start, grains, bounded, mark), partial))
        else:  # the partial unit minus what lies before the range
            before = _cover(unit_start, start, grains, bounded, mark)
            options.append((partial, *(span.negated() for span in before)))
    return min(options, key=_cost)


# The relative rows read per unit of each grain (raw: per hour of events), for choosing.
# Most groups that spend in a day spend in most of its blocks, fewer in a given hour.
_COST = {
    Grain.MONTH: 1.0,
    Grain.WEEK: 1.0,
    Grain.DAY: 1.0,
    Grain.BLOCK: 0.8,
    Grain.HOUR: 0.5,
    Grain.RAW: 2.0,
}


def _cost(spans: tuple[Span, ...]) -> float:
    total = 0.0
    for span in spans:
        if span.grain is Grain.RAW:
            total += _COST[Grain.RAW] * (span.end - span.start) / timedelta(hours=1)
        else:
            total += _COST[span.grain] * _units(span)
    return total


def _units(span: Span) -> int:
    """Rows per group: a unit cut short by the watermark is still one row."""
    if span.grain is Grain.MONTH:
        whole = (span.end.year - span.start.year) * 12 + span.end.month - span.start.month
        return whole + (floor_to(span.end, Grain.MONTH) != span.end)
    size = {
        Grain.WEEK: timedelta(days=7),
        Grain.DAY: timedelta(days=1),
        Grain.BLOCK: timedelta(hours=BLOCK_HOURS),
    }.get(span.grain, timedelta(hours=1))
    return -(-(span.end - span.start) // size)


@lru_cache(maxsize=8192)
def _cover(
    start: datetime,
    end: datetime,
    grains: tuple[Grain, ...],
    bounded: bool,
    mark: datetime | None = None,
) -> tuple[Span, ...]:
    """The cheapest signed spans summing to [start, end), from `grains` (coarsest first),
    using no coarse unit that ends after `mark` (None: any)."""
    if start >= end:
        return ()
    if not grains:
        return (Span(Grain.RAW, start, end),)
    grain, finer = grains[0], grains[1:]
    inner_start, inner_end = ceil_to(start, grain), floor_to(end, grain)
    options: list[tuple[Span, ...]] = []
    if inner_start < inner_end:
        options.append(
            (
                Span(grain, inner_start, inner_end),
                *_within_unit(start, inner_start, grain, finer, bounded, mark),
                *_within_unit(inner_end, end, grain, finer, bounded, mark),
            )
        )
    else:
        if not bounded:  # nothing whole here: let finer grains span the boundary freely
            options.append(_cover(start, end, finer, bounded, mark))
        if inner_start == inner_end:  # straddles one boundary
            options.append(
                (
                    *_within_unit(start, inner_start, grain, finer, bounded, mark),
                    *_within_unit(inner_start, end, grain, finer, bounded, mark),
                )
            )
        else:
            options.append(_within_unit(start, end, grain, finer, bounded, mark))
    return min(options, key=_cost)


def _within_unit(
    start: datetime,
    end: datetime,
    grain: Grain,
    finer: tuple[Grain, ...],
    bounded: bool,
    mark: datetime | None,
) -> tuple[Span, ...]:
    """[start, end) inside one unit of `grain`: finer grains, or the unit minus the rest."""
    if start >= end:
        return ()
    direct = _cover(start, end, finer, bounded, mark)
    unit_start = floor_to(start, grain)
    unit_end = next_unit(unit_start, grain)
    if (end - start) * 2 <= unit_end - unit_start:
        return direct  # the rest is the larger part: subtracting it would not pay
    if mark is not None and grain is not Grain.HOUR and unit_end > mark:
        return direct  # the unit's rollup does not hold all of it yet
    rest = (
        *_cover(unit_start, start, finer, bounded, mark),
        *_cover(end, unit_end, finer, bounded, mark),
    )
    complement = (Span(grain, unit_start, unit_end), *(span.negated() for span in rest))
    return min((direct, complement), key=_cost)  # a tie keeps the direct cover
