"""The dashboard's pure parts: ranges, money display, chart geometry, forms, safe redirects."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from domain.money import Money
from domain.reports import Bucket, SpendTotals, TimePoint
from entrypoints.dashboard.charts import axis_label, nice_step, sparkline, stacked_chart
from entrypoints.dashboard.csv_export import safe_cell
from entrypoints.dashboard.formatting import change_permille, compact, permille_text, usd
from entrypoints.dashboard.forms import parse_cap_form
from entrypoints.dashboard.query import ViewQuery
from entrypoints.dashboard.ranges import RangeError, day_range
from entrypoints.dashboard.viewer import safe_next

NOW = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("nanos", "text"),
    [
        (0, "$0.00"),
        (1_234_567_890_123, "$1,234.57"),
        (10_000_000, "$0.01"),
        (5_000_000, "$0.005"),
        (150_000, "$0.00015"),
        (1, "<$0.000001"),
        (-25_000_000_000, "-$25.00"),
    ],
)
def test_usd_rounds_for_display_without_floats(nanos: int, text: str) -> None:
    assert usd(Money(nanos)) == text


def test_counts_and_changes() -> None:
    assert compact(1_234) == "1.2k"
    assert compact(3_000_000) == "3M"
    assert change_permille(Money(150), Money(100)) == 500
    assert change_permille(Money(1), Money(0)) is None
    assert permille_text(-125, signed=True) == "-12.5%"
    assert permille_text(500, signed=True) == "+50.0%"


@pytest.mark.parametrize(
    ("kind", "first", "last", "previous_first", "previous_last"),
    [
        ("today", date(2026, 3, 14), date(2026, 3, 14), date(2026, 3, 13), date(2026, 3, 13)),
        ("7d", date(2026, 3, 8), date(2026, 3, 14), date(2026, 3, 1), date(2026, 3, 7)),
        ("30d", date(2026, 2, 13), date(2026, 3, 14), date(2026, 1, 14), date(2026, 2, 12)),
        ("month", date(2026, 3, 1), date(2026, 3, 14), date(2026, 2, 1), date(2026, 2, 14)),
        ("nonsense", date(2026, 2, 13), date(2026, 3, 14), date(2026, 1, 14), date(2026, 2, 12)),
    ],
)
def test_ranges_and_their_previous_range(
    kind: str, first: date, last: date, previous_first: date, previous_last: date
) -> None:
    chosen = day_range(kind, NOW)

    assert (chosen.first, chosen.last) == (first, last)
    assert (chosen.previous_first, chosen.previous_last) == (previous_first, previous_last)
    assert chosen.start == datetime.combine(first, time(0), tzinfo=UTC)
    assert chosen.end == datetime.combine(last + timedelta(days=1), time(0), tzinfo=UTC)


def test_month_to_date_compares_with_at_most_the_whole_last_month() -> None:
    chosen = day_range("month", datetime(2026, 3, 31, 8, tzinfo=UTC))

    assert (chosen.previous_first, chosen.previous_last) == (date(2026, 2, 1), date(2026, 2, 28))


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        ("2026-03-10", "2026-03-01", "end"),
        ("", "2026-03-01", "start"),
        ("2019-01-01", "2019-02-01", "start"),
    ],
)
def test_custom_ranges_are_checked(start: str, end: str, field: str) -> None:
    with pytest.raises(RangeError) as caught:
        day_range("custom", NOW, start, end)
    assert caught.value.field == field


def test_view_query_links_keep_the_view_and_drop_emptied_keys() -> None:
    query = ViewQuery.from_params({"range": "7d", "customer": "a&b", "start": "2026-01-01"})

    assert query.url("/") == "/?range=7d&customer=a%26b"  # start only with a custom range
    assert query.url("/", customer="") == "/?range=7d"
    assert query.url("/customers", sort="calls") == "/customers?range=7d&customer=a%26b&sort=calls"


def test_the_stacked_chart_keeps_the_biggest_series_and_folds_the_rest() -> None:
    start = datetime(2026, 3, 13, tzinfo=UTC)
    points = [
        TimePoint(start, f"model-{i}", SpendTotals(cost=Money(1_000_000 * (i + 1)), calls=1))
        for i in range(10)
    ]

    chart = stacked_chart(points, start, datetime(2026, 3, 15, tzinfo=UTC), Bucket.DAY)

    assert [item.label for item in chart.legend][:2] == ["model-9", "model-8"]
    assert chart.legend[-1].label == "3 more"
    assert chart.legend[-1].total == Money(6_000_000)
    assert all(
        s.y >= chart.plot_top and s.y + s.height <= chart.plot_bottom + 1 for s in chart.segments
    )
    assert nice_step(7_000_000_000) == 2_000_000_000
    assert [axis_label(v, 5_000_000) for v in (0, 5_000_000, 15_000_000)] == [
        "$0.000",
        "$0.005",
        "$0.015",
    ]
    assert axis_label(2_000_000_000_000, 500_000_000_000) == "$2,000.00"
    assert sparkline([0, 5, 10]).startswith("M0,23")


def test_the_cap_form_parses_friendly_input() -> None:
    form = parse_cap_form(
        {
            "name": "Budget",
            "scope": "model",
            "scope_value": "gpt-4o",
            "period": "weekly",
            "limit": "$1,250.50",
            "enforcement": "block",
            "thresholds": "100 50% 80, 80",
            "timezone": "Europe/Paris",
            "recipients": "a@x.test\nb@x.test, a@x.test",
            "enabled": "",
        }
    )

    assert form.errors == {}
    assert form.draft is not None
    assert form.draft.limit == Money.parse("1250.50")
    assert form.draft.thresholds == (50, 80, 100)
    assert form.draft.recipients == ("a@x.test", "b@x.test")
    assert form.draft.enabled is False


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("/caps?x=1", "/caps?x=1"),
        ("//evil.test", "/"),
        ("https://evil.test/x", "/"),
        ("/\\evil.test", "/"),
        ("/ok\r\nSet-Cookie: x", "/"),
        ("caps", "/"),
        (None, "/"),
    ],
)
def test_next_is_a_local_path_or_home(raw: str | None, safe: str) -> None:
    assert safe_next(raw) == safe


def test_csv_cells_never_start_a_formula() -> None:
    assert safe_cell("=1+2") == "'=1+2"
    assert safe_cell("@SUM(A1)") == "'@SUM(A1)"
    assert safe_cell("cus_1") == "cus_1"
    assert safe_cell(None) == ""
