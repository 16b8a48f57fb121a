"""Overview, customers and a customer's page: numbers, filters in the URL, CSV, escaping."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from tests.dashboard.conftest import NOW, Browser, Browsers, event

SCRIPT = "<script>alert(1)</script>"


def _at(hours_ago: float) -> str:
    return (NOW - timedelta(hours=hours_ago)).isoformat()


async def _spend(owner: Browser) -> None:
    """cus_big: 3 gpt-4o calls ($0.018); cus_small: 1 call ($0.006); an unpriced model;
    one call 10 days ago (inside 30 days, outside 7)."""
    await owner.events(
        event(customer_id="cus_big"),
        event(customer_id="cus_big"),
        event(customer_id="cus_big", agent="research/web"),
        event(customer_id="cus_small", agent="support"),
        event(provider="selfhosted", model="llama-local", customer_id="cus_small"),
        event(customer_id="cus_old", occurred_at=_at(24 * 10)),
    )


async def test_the_overview_totals_breakdowns_and_unpriced(owner: Browser) -> None:
    await _spend(owner)

    page = await owner.get("/?range=7d")

    assert page.status_code == 200
    assert 'data-testid="total-spend" title="$0.024000">$0.02<' in page.text
    assert 'data-testid="unpriced-calls">1<' in page.text
    assert "used models with no known price" in page.text
    assert "cus_big" in page.text
    assert "cus_old" not in page.text  # ten days ago: not in the last 7 days
    assert "research/web" in page.text
    assert "<svg" in page.text
    month = await owner.get("/?range=30d")
    assert "cus_old" in month.text


async def test_filters_live_in_the_url(owner: Browser) -> None:
    await _spend(owner)

    page = await owner.get("/?range=7d&customer=cus_small")

    assert page.status_code == 200
    assert 'title="$0.006000">$0.006<' in page.text
    assert "Customer: <strong>cus_small</strong>" in page.text
    # Links keep the range and the filter, so a copied link shows the same view.
    assert 'href="/?range=7d&amp;by=model&amp;customer=cus_small"' in page.text
    assert 'href="/?range=7d" title="Remove this filter"' in page.text
    assert 'href="/export/overview.csv?range=7d&amp;customer=cus_small"' in page.text


async def test_a_bad_custom_range_is_explained_beside_the_dates(owner: Browser) -> None:
    page = await owner.get("/?range=custom&start=2026-03-10&end=2026-03-01")
    huge = await owner.get("/?range=custom&start=2020-01-01&end=2026-03-01")
    garbage = await owner.get("/?range=custom&start=yesterday&end=")

    assert page.status_code == 200
    assert "To: must be on or after the first day" in page.text
    assert 'value="2026-03-10"' in page.text
    assert "a range spans at most 400 days" in huge.text
    assert "From: must be a day such as" in garbage.text


async def test_a_custom_range_and_hourly_buckets(owner: Browser) -> None:
    await _spend(owner)

    page = await owner.get("/?range=custom&start=2026-03-14&end=2026-03-14&bucket=hour")

    assert page.status_code == 200
    assert "Spend per hour" in page.text
    assert "2026-03-14 \u2013 2026-03-14 UTC" in page.text


async def test_customers_most_expensive_first_and_sortable(owner: Browser) -> None:
    await _spend(owner)

    by_cost = await owner.get("/customers?range=7d")
    by_name = await owner.get("/customers?range=7d&sort=customer&order=desc")

    assert by_cost.text.index("cus_big") < by_cost.text.index("cus_small")
    assert "75.0%" in by_cost.text  # cus_big: $0.018 of $0.024
    assert by_name.text.index("cus_small") < by_name.text.index("cus_big")


async def test_a_customers_page_and_its_caps(owner: Browser) -> None:
    await _spend(owner)
    await owner.post(
        "/caps/new",
        {
            "name": "Big customer",
            "scope": "customer",
            "scope_value": "cus_big",
            "period": "monthly",
            "limit": "1",
            "enforcement": "block",
            "thresholds": "80",
            "timezone": "UTC",
            "enabled": "on",
        },
    )

    page = await owner.get("/customers/cus_big?range=7d")

    assert page.status_code == 200
    assert 'data-testid="customer-id">cus_big<' in page.text
    assert "gpt-4o-2024-08-06" in page.text
    assert "research/web" in page.text
    assert "Big customer" in page.text
    assert "75.0%" in page.text


async def test_unknown_and_other_tenants_customers_are_not_found(
    owner: Browser, browsers: Browsers
) -> None:
    await _spend(owner)
    stranger = await browsers.sign_up("stranger@other.test", "Other")

    assert (await owner.get("/customers/cus_nobody")).status_code == 404
    assert (await stranger.get("/customers/cus_big")).status_code == 404
    assert "cus_big" not in (await stranger.get("/customers")).text
    assert "cus_big" not in (await stranger.get("/export/customers.csv")).text


async def test_html_in_customer_ids_and_agents_is_escaped_everywhere(
    owner: Browser, browsers: Browsers
) -> None:
    await owner.events(
        event(customer_id=SCRIPT, agent=f"<img src=x onerror=alert(2)>/{SCRIPT}"),
        event(customer_id='"><b>bold</b>', tags={"env": SCRIPT}),
    )
    await owner.post(
        "/caps/new",
        {
            "name": SCRIPT,
            "scope": "customer",
            "scope_value": SCRIPT,
            "period": "daily",
            "limit": "0.001",
            "enforcement": "alert",
            "thresholds": "50",
            "timezone": "UTC",
            "enabled": "on",
        },
    )
    pages = [
        "/",
        "/?range=7d&customer=" + SCRIPT,
        "/?agent=" + SCRIPT,
        "/customers",
        "/customers/%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "/caps",
        "/alerts",
        f"/caps/new?name={SCRIPT}&scope_value={SCRIPT}",
    ]
    for path in pages:
        response = await owner.get(path)
        assert response.status_code == 200, path
        assert SCRIPT not in response.text, path
        assert "<img src=x" not in response.text, path
        assert "<b>bold</b>" not in response.text, path
    customer = await owner.get("/customers/%3Cscript%3Ealert(1)%3C%2Fscript%3E")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in customer.text


async def test_customer_ids_with_slashes_round_trip(owner: Browser) -> None:
    await owner.events(event(customer_id="org/42//team a"))

    listing = await owner.get("/customers")
    page = await owner.get("/customers/org%2F42%2F%2Fteam%20a")

    assert 'href="/customers/org%2F42%2F%2Fteam%20a"' in listing.text
    assert page.status_code == 200
    assert ">org/42//team a<" in page.text


async def test_csv_exports_are_exact_and_spreadsheet_safe(owner: Browser) -> None:
    await _spend(owner)
    await owner.events(event(customer_id='=HYPERLINK("http://evil.test")'))

    overview = await owner.get("/export/overview.csv?range=7d")
    customers = await owner.get("/export/customers.csv?range=7d")
    series = await owner.get("/export/timeseries.csv?range=7d&by=model")

    assert overview.headers["content-type"].startswith("text/csv")
    assert "attachment" in overview.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(overview.text)))
    total = next(r for r in rows if r["dimension"] == "total")
    assert total["cost_usd"] == "0.030000"
    assert total["calls"] == "6"
    assert total["unpriced_calls"] == "1"
    by_customer = {r["customer_id"]: r for r in csv.DictReader(io.StringIO(customers.text))}
    assert by_customer["cus_big"]["cost_usd"] == "0.018000"
    assert by_customer["cus_big"]["share_percent"] == "60.0"
    assert '\'=HYPERLINK("http://evil.test")' in by_customer
    assert "=HYPERLINK" not in [line.split(",")[0] for line in customers.text.splitlines()]
    assert any(r["model"] == "llama-local" for r in csv.DictReader(io.StringIO(series.text)))
