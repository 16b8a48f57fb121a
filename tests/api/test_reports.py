"""Spend reports over HTTP: totals, breakdowns, filters, time series, and bad ranges."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.api.conftest import event, fields_of

Client = AsyncTestClient[Any]


@pytest.fixture
async def spend(client: Client, auth: dict[str, str]) -> None:
    events = [
        event(),  # $0.006
        event(customer_id="cus_9", agent="support/triage"),  # $0.006
        event(
            provider="anthropic",
            model="claude-3-5-haiku-20241022",
            customer_id="cus_9",
            agent="support/triage",
            usage={"input_tokens": 1000, "output_tokens": 1000, "cache_read_tokens": 2000},
        ),  # $0.00496
        event(provider="selfhosted", model="acme-llm", customer_id=None, agent=None),
        event(occurred_at="2026-03-13T08:30:00Z"),  # the day before
        event(occurred_at="2026-02-27T08:30:00Z"),  # last month: outside the default range
    ]
    response = await client.post("/v1/events", json={"events": events}, headers=auth)
    assert response.json()["accepted"] == 6


@pytest.mark.usefixtures("spend")
async def test_the_summary_covers_the_current_month_by_default(
    client: Client, auth: dict[str, str]
) -> None:
    body = (await client.get("/v1/spend/summary", headers=auth)).json()

    assert (body["start"], body["end"]) == ("2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z")
    assert body["totals"] == {
        "cost": "0.022960",
        "calls": 5,
        "input_tokens": 5800,
        "output_tokens": 2200,
        "cache_read_tokens": 2000,
        "cache_write_tokens": 0,
        "reasoning_tokens": 0,
        "unpriced_calls": 1,
        "error_calls": 0,
    }
    providers = {row["key"]: (row["cost"], row["calls"]) for row in body["breakdowns"]["provider"]}
    assert providers == {
        "openai": ("0.018000", 3),
        "anthropic": ("0.004960", 1),
        "selfhosted": ("0.000000", 1),
    }
    customers = [(row["key"], row["cost"]) for row in body["breakdowns"]["customer"]]
    assert customers[0] == ("cus_123", "0.012000")
    assert ("cus_9", "0.010960") in customers
    assert {row["key"] for row in body["breakdowns"]["agent"]} == {
        "planner/research_agent",
        "support/triage",
        None,
    }
    assert {row["key"] for row in body["breakdowns"]["model"]} >= {"gpt-4o-2024-08-06"}


@pytest.mark.usefixtures("spend")
async def test_filters_narrow_every_part_of_the_summary(
    client: Client, auth: dict[str, str]
) -> None:
    body = (
        await client.get("/v1/spend/summary", params={"customer_id": "cus_9"}, headers=auth)
    ).json()

    assert (body["totals"]["calls"], body["totals"]["cost"]) == (2, "0.010960")
    assert {row["key"] for row in body["breakdowns"]["customer"]} == {"cus_9"}


@pytest.mark.usefixtures("spend")
async def test_an_explicit_range(client: Client, auth: dict[str, str]) -> None:
    body = (
        await client.get(
            "/v1/spend/summary",
            params={"start": "2026-02-01", "end": "2026-03-14T00:00:00Z", "provider": "openai"},
            headers=auth,
        )
    ).json()

    assert (body["totals"]["calls"], body["totals"]["cost"]) == (2, "0.012000")


@pytest.mark.usefixtures("spend")
async def test_a_daily_series_grouped_by_provider(client: Client, auth: dict[str, str]) -> None:
    body = (
        await client.get(
            "/v1/spend/timeseries", params={"bucket": "day", "group_by": "provider"}, headers=auth
        )
    ).json()

    points = {(p["bucket_start"], p["group"]): (p["calls"], p["cost"]) for p in body["points"]}
    assert points == {
        ("2026-03-13T00:00:00Z", "openai"): (1, "0.006000"),
        ("2026-03-14T00:00:00Z", "anthropic"): (1, "0.004960"),
        ("2026-03-14T00:00:00Z", "openai"): (2, "0.012000"),
        ("2026-03-14T00:00:00Z", "selfhosted"): (1, "0.000000"),
    }
    assert (body["bucket"], body["group_by"]) == ("day", "provider")


@pytest.mark.usefixtures("spend")
async def test_an_hourly_series(client: Client, auth: dict[str, str]) -> None:
    body = (
        await client.get("/v1/spend/timeseries", params={"bucket": "hour"}, headers=auth)
    ).json()

    assert [(p["bucket_start"], p["calls"]) for p in body["points"]] == [
        ("2026-03-13T08:00:00Z", 1),
        ("2026-03-14T11:00:00Z", 4),
    ]


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/v1/spend/summary", {"start": "last tuesday"}, "start"),
        ("/v1/spend/summary", {"start": "2026-03-10", "end": "2026-03-01"}, "end"),
        ("/v1/spend/summary", {"start": "2024-01-01", "end": "2026-01-01"}, "end"),
        ("/v1/spend/summary", {"limit": "0"}, "limit"),
        ("/v1/spend/summary", {"limit": "many"}, "limit"),
        ("/v1/spend/timeseries", {"bucket": "week"}, "bucket"),
        ("/v1/spend/timeseries", {"group_by": "colour"}, "group_by"),
        ("/v1/spend/timeseries", {"bucket": "hour", "start": "2026-01-01"}, "bucket"),
    ],
)
async def test_a_bad_query_is_422_naming_the_parameter(
    client: Client, auth: dict[str, str], path: str, params: dict[str, str], field: str
) -> None:
    response = await client.get(path, params=params, headers=auth)

    assert response.status_code == 422, response.text
    assert fields_of(response.json()) == [field]


async def test_an_ingest_key_cannot_read_reports(
    client: Client, ingest_auth: dict[str, str]
) -> None:
    assert (await client.get("/v1/spend/summary", headers=ingest_auth)).status_code == 403
