"""The SQL adapter's own plumbing: URLs, the time plan, SQLite's writers."""

from __future__ import annotations

import asyncio
import shutil
from datetime import UTC, datetime, timedelta, timezone
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.sql.database import (
    SqlUnitOfWorkFactory,
    ensure_partitions,
    make_engine,
    normalise_url,
    row_level_security_enforced,
)
from adapters.sql.time_plan import Grain, bucket_grain, ceil_to, floor_to, plan
from adapters.sql.urls import UnsupportedDatabaseUrl, with_user
from domain.reports import Bucket, SpendFilter
from tests.contract.builders import T0, event, new_tenant


@pytest.mark.parametrize(
    ("given_url", "expected"),
    [
        ("postgres://u:p@db:5432/app", "postgresql+asyncpg://u:p@db:5432/app"),
        ("postgresql://u@db/app", "postgresql+asyncpg://u@db/app"),
        ("postgresql+asyncpg://u@db/app", "postgresql+asyncpg://u@db/app"),
        ("postgresql://u@db/app?sslmode=require", "postgresql+asyncpg://u@db/app?ssl=require"),
        ("sqlite:///llmobserve.db", "sqlite+aiosqlite:///llmobserve.db"),
        ("sqlite:////var/lib/llmo.db", "sqlite+aiosqlite:////var/lib/llmo.db"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
    ],
)
def test_urls_get_their_async_driver(given_url: str, expected: str) -> None:
    assert normalise_url(given_url) == expected


@pytest.mark.parametrize("bad", ["mysql://u@db/app", "llmobserve.db", ""])
def test_unsupported_urls_are_refused(bad: str) -> None:
    with pytest.raises(UnsupportedDatabaseUrl):
        normalise_url(bad)


def test_with_user_swaps_the_role() -> None:
    url = "postgresql+asyncpg://postgres@127.0.0.1:5432/db"
    assert with_user(url, "llmobserve_app", "p@ss") == (
        "postgresql+asyncpg://llmobserve_app:p%40ss@127.0.0.1:5432/db"
    )


instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2027, 1, 1), timezones=st.just(UTC)
)
ORDER = [Grain.MONTH, Grain.WEEK, Grain.DAY, Grain.BLOCK, Grain.HOUR, Grain.RAW]


@given(
    start=instants,
    length=st.timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(days=400)),
    bucket=st.sampled_from([None, Bucket.HOUR, Bucket.DAY]),
)
def test_the_signed_spans_add_up_to_the_range_exactly(
    start: datetime, length: timedelta, bucket: Bucket | None
) -> None:
    end = start + length
    spans = plan(start, end, bucket)
    # Between any two consecutive boundaries, the signs of the covering spans add up to
    # 1 inside [start, end) and to 0 outside it.
    cuts = sorted({start, end, *(s.start for s in spans), *(s.end for s in spans)})
    for left, right in pairwise(cuts):
        cover = sum(s.sign for s in spans if s.start <= left and right <= s.end)
        assert cover == (1 if start <= left and right <= end else 0), (left, right)
    coarsest = {None: Grain.MONTH, Bucket.DAY: Grain.DAY, Bucket.HOUR: Grain.HOUR}[bucket]
    for span in spans:
        assert span.start < span.end
        assert ORDER.index(span.grain) >= ORDER.index(coarsest)
        if span.grain is not Grain.RAW:
            assert floor_to(span.start, span.grain) == span.start
            assert floor_to(span.end, span.grain) == span.end
        if bucket is not None and span.grain is not bucket_grain(bucket):
            last = span.end - timedelta(microseconds=1)
            assert floor_to(span.start, bucket_grain(bucket)) == floor_to(
                last, bucket_grain(bucket)
            )
        if bucket is not None and span.grain is Grain.RAW:
            last = span.end - timedelta(microseconds=1)
            assert floor_to(span.start, Grain.HOUR) == floor_to(last, Grain.HOUR)


@given(
    start=instants,
    length=st.timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(days=400)),
    bucket=st.sampled_from([None, Bucket.HOUR, Bucket.DAY]),
    mark_offset=st.timedeltas(min_value=timedelta(days=-40), max_value=timedelta(days=440)),
)
def test_with_a_watermark_no_coarse_unit_is_read_past_it(
    start: datetime, length: timedelta, bucket: Bucket | None, mark_offset: timedelta
) -> None:
    """Days, weeks and months hold the hours before the watermark only: a coarse span ends
    by it, or is the unit holding it, which then stands for [its start, the watermark)."""
    end = start + length
    mark = floor_to(start + mark_offset, Grain.HOUR)
    spans = plan(start, end, bucket, coarse_until=mark)
    stands_for = [
        (span, span.start, span.end if span.end <= mark else mark)
        for span in spans
        if span.grain not in (Grain.HOUR, Grain.RAW)
    ]
    for span, _, _ in stands_for:
        whole = floor_to(span.end, span.grain) == span.end and span.end <= mark
        holds_mark = span.end == mark and floor_to(mark, span.grain) == span.start
        assert whole or holds_mark, (span, mark)
    # What each span really reads adds up to the range, exactly once.
    pieces = [(s.sign, s.start, s.end) for s in spans if s.grain in (Grain.HOUR, Grain.RAW)]
    pieces += [(span.sign, lo, hi) for span, lo, hi in stands_for]
    cuts = sorted({start, end, *(lo for _, lo, _ in pieces), *(hi for _, _, hi in pieces)})
    for left, right in pairwise(cuts):
        cover = sum(sign for sign, lo, hi in pieces if lo <= left and right <= hi)
        assert cover == (1 if start <= left and right <= end else 0), (left, right)
    for span in spans:
        if bucket is not None and span.grain is not bucket_grain(bucket):
            last = span.end - timedelta(microseconds=1)
            assert floor_to(span.start, bucket_grain(bucket)) == floor_to(
                last, bucket_grain(bucket)
            )


def test_this_month_is_one_row_up_to_the_watermark_then_hours() -> None:
    now = datetime(2026, 11, 20, 14, 37, 12, tzinfo=UTC)
    mark = datetime(2026, 11, 20, 12, tzinfo=UTC)
    assert shape(plan(datetime(2026, 11, 1, tzinfo=UTC), now, coarse_until=mark)) == [
        (1, "month", "11-01 00:00", "11-20 12:00"),
        (1, "hour", "11-20 12:00", "11-20 14:00"),
        (1, "raw", "11-20 14:00", "11-20 14:37"),
    ]


def shape(spans: list) -> list[tuple[int, str, str, str]]:
    return [
        (s.sign, s.grain.value, s.start.strftime("%m-%d %H:%M"), s.end.strftime("%m-%d %H:%M"))
        for s in sorted(spans, key=lambda s: (s.start, s.end))
    ]


def test_a_kolkata_month_is_a_utc_month_shifted_by_five_and_a_half_hours() -> None:
    start = datetime(2026, 2, 28, 18, 30, tzinfo=UTC)
    end = datetime(2026, 3, 31, 18, 30, tzinfo=UTC)
    assert shape(plan(start, end)) == [
        (1, "raw", "02-28 18:30", "02-28 19:00"),
        (1, "hour", "02-28 19:00", "02-28 20:00"),
        (1, "block", "02-28 20:00", "03-01 00:00"),
        (1, "month", "03-01 00:00", "04-01 00:00"),
        (-1, "raw", "03-31 18:30", "03-31 19:00"),
        (-1, "hour", "03-31 19:00", "03-31 20:00"),
        (-1, "block", "03-31 20:00", "04-01 00:00"),
    ]


def test_the_last_30_days_end_with_this_weeks_rollup_minus_what_is_to_come() -> None:
    now = datetime(2026, 11, 20, 14, 37, 12, tzinfo=UTC)  # a Friday afternoon
    assert shape(plan(now - timedelta(days=30), now)) == [
        (1, "raw", "10-21 14:37", "10-21 15:00"),
        (1, "hour", "10-21 15:00", "10-21 16:00"),
        (1, "block", "10-21 16:00", "10-22 00:00"),
        (1, "day", "10-22 00:00", "10-26 00:00"),
        (1, "week", "10-26 00:00", "11-16 00:00"),
        (1, "week", "11-16 00:00", "11-23 00:00"),
        (-1, "raw", "11-20 14:37", "11-20 15:00"),
        (-1, "hour", "11-20 15:00", "11-20 16:00"),
        (-1, "block", "11-20 16:00", "11-21 00:00"),
        (-1, "day", "11-21 00:00", "11-23 00:00"),
    ]


@pytest.mark.parametrize(
    ("instant", "floor", "ceiling"),
    [
        ("2026-11-20 00:00:00", "2026-11-20 00:00:00", "2026-11-20 00:00:00"),
        ("2026-11-20 03:59:59.999999", "2026-11-20 00:00:00", "2026-11-20 04:00:00"),
        ("2026-11-20 04:00:00", "2026-11-20 04:00:00", "2026-11-20 04:00:00"),
        ("2026-11-20 14:37:12", "2026-11-20 12:00:00", "2026-11-20 16:00:00"),
        ("2026-11-20 23:00:01", "2026-11-20 20:00:00", "2026-11-21 00:00:00"),
        ("2026-12-31 21:00:00", "2026-12-31 20:00:00", "2027-01-01 00:00:00"),
    ],
)
def test_blocks_are_four_utc_hours_from_midnight(instant: str, floor: str, ceiling: str) -> None:
    def at(text: str) -> datetime:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)

    assert floor_to(at(instant), Grain.BLOCK) == at(floor)
    assert ceil_to(at(instant), Grain.BLOCK) == at(ceiling)
    # In another zone, the same instant floors to the same UTC block.
    kolkata = at(instant).astimezone(timezone(timedelta(hours=5, minutes=30)))
    assert floor_to(kolkata, Grain.BLOCK) == at(floor)


def test_a_daily_series_never_reads_coarser_than_days() -> None:
    start = datetime(2026, 3, 1, 10, 15, tzinfo=UTC)
    spans = plan(start, start + timedelta(days=20), Bucket.DAY)
    assert {s.grain for s in spans} <= {Grain.DAY, Grain.BLOCK, Grain.HOUR, Grain.RAW}


async def test_two_sqlite_engines_on_one_file_write_concurrently(
    sqlite_template: Path, tmp_path: Path
) -> None:
    """Two engines stand for two processes (a CLI beside the server): BEGIN IMMEDIATE and
    busy_timeout make the second writer wait instead of failing with 'database is locked'."""
    path = tmp_path / "shared.db"
    shutil.copyfile(sqlite_template, path)
    engines = [make_engine(f"sqlite:///{path}") for _ in range(2)]
    tenant = new_tenant()
    try:
        factories = [SqlUnitOfWorkFactory(engine) for engine in engines]

        async def writer(index: int) -> None:
            factory = factories[index % 2]
            for batch in range(5):
                async with factory(tenant) as uow:
                    # Read first, then write: the pattern that fails on a deferred BEGIN.
                    await uow.price_overrides.list(tenant)
                    await uow.events.add_new(
                        [
                            event(tenant, f"w{index}-b{batch}-{i}", T0 + timedelta(seconds=i))
                            for i in range(20)
                        ]
                    )
                    await asyncio.sleep(0)
                    await uow.commit()

        await asyncio.gather(*(writer(index) for index in range(6)))
        async with factories[0](tenant) as uow:
            totals = await uow.reports.totals(
                tenant, SpendFilter(T0 - timedelta(days=1), T0 + timedelta(days=1))
            )
        assert totals.calls == 6 * 5 * 20
    finally:
        for engine in engines:
            await engine.dispose()


async def test_a_unit_of_work_nested_in_another_on_sqlite_fails_fast(
    sqlite_template: Path, tmp_path: Path
) -> None:
    path = tmp_path / "nested.db"
    shutil.copyfile(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    factory = SqlUnitOfWorkFactory(engine)
    tenant = new_tenant()
    try:
        async with factory(tenant) as outer:
            await outer.caps.list(tenant)
            async with factory(tenant) as inner:
                with pytest.raises(RuntimeError, match="inside another"):
                    await inner.caps.list(tenant)
        async with factory(tenant) as after:  # one after the other is fine
            assert await after.caps.list(tenant) == []
        assert await ensure_partitions(engine, datetime.now(UTC)) == []
        assert await row_level_security_enforced(engine) is False
    finally:
        await engine.dispose()
