"""POST /v1/events: batches, idempotency, and every kind of bad input the wire format names."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.api.conftest import NOW, assert_error_shape, event, fields_of

Client = AsyncTestClient[Any]


async def post_events(client: Client, auth: dict[str, str], events: list[Any]) -> Any:
    return await client.post("/v1/events", json={"events": events}, headers=auth)


async def totals(client: Client, auth: dict[str, str]) -> dict[str, Any]:
    response = await client.get("/v1/spend/summary", headers=auth)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["totals"]
    return result


async def test_a_valid_batch_is_stored_and_priced(client: Client, auth: dict[str, str]) -> None:
    response = await post_events(client, auth, [event(), event()])

    assert response.status_code == 200
    assert response.json() == {"accepted": 2, "duplicates": 0, "rejected": []}
    summary = await totals(client, auth)
    assert summary["calls"] == 2
    assert summary["cost"] == "0.012000"
    assert summary["input_tokens"] == 2400


async def test_a_retried_batch_counts_once(client: Client, auth: dict[str, str]) -> None:
    batch = [event(), event()]
    await post_events(client, auth, batch)

    retry = await post_events(client, auth, batch)

    assert retry.status_code == 200
    assert retry.json() == {"accepted": 0, "duplicates": 2, "rejected": []}
    assert (await totals(client, auth))["calls"] == 2


async def test_event_ids_are_compared_in_canonical_form(
    client: Client, auth: dict[str, str]
) -> None:
    first = event()
    await post_events(client, auth, [first])

    again = await post_events(client, auth, [dict(first, event_id=first["event_id"].upper())])

    assert again.json()["duplicates"] == 1


async def test_a_mixed_batch_stores_the_valid_events_and_lists_the_rest(
    client: Client, auth: dict[str, str]
) -> None:
    bad = event(usage={"input_tokens": -5})
    response = await post_events(client, auth, [event(), bad, event()])

    assert response.status_code == 207
    body = response.json()
    assert body["accepted"] == 2
    assert body["rejected"] == [
        {
            "index": 1,
            "event_id": bad["event_id"],
            "field": "usage.input_tokens",
            "error": "must be between 0 and 100000000",
        }
    ]
    assert (await totals(client, auth))["calls"] == 2


async def test_a_batch_with_only_bad_events_is_422_and_stores_nothing(
    client: Client, auth: dict[str, str]
) -> None:
    response = await post_events(client, auth, [event(model=""), event(provider=5)])

    assert response.status_code == 422
    body = response.json()
    assert body["accepted"] == 0
    assert [(r["index"], r["field"]) for r in body["rejected"]] == [(0, "model"), (1, "provider")]
    assert (await totals(client, auth))["calls"] == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"usage": {"input_tokens": "12"}}, "usage.input_tokens"),
        ({"usage": {"input_tokens": 1.5}}, "usage.input_tokens"),
        ({"usage": {"output_tokens": True}}, "usage.output_tokens"),
        ({"usage": {"output_tokens": -1}}, "usage.output_tokens"),
        ({"usage": {"cache_read_tokens": 100_000_001}}, "usage.cache_read_tokens"),
        ({"usage": {"input_tokens": 10**30}}, "usage.input_tokens"),
        ({"usage": {"output_tokens": 10, "reasoning_tokens": 11}}, "usage.reasoning_tokens"),
        ({"usage": None}, "usage"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"occurred_at": "2019-12-31T23:59:59Z"}, "occurred_at"),
        ({"occurred_at": (NOW + timedelta(minutes=6)).isoformat()}, "occurred_at"),
        ({"occurred_at": "2026-03-14T11:00:00"}, "occurred_at"),
        ({"event_id": "not-a-uuid"}, "event_id"),
        ({"event_id": 17}, "event_id"),
        ({"provider": "x" * 201}, "provider"),
        ({"model": "   "}, "model"),
        ({"status": "exploded"}, "status"),
        ({"tags": {"env": 1}}, "tags"),
        ({"tags": {f"k{i}": "v" for i in range(51)}}, "tags"),
        ({"latency_ms": -3}, "latency_ms"),
        ({"operation": "chat completion with spaces"}, "operation"),
        ({"operation": "chat\n"}, "operation"),
        ({"agent": "a" * 201}, "agent"),
        ({"customer_id": "c" * 201}, "customer_id"),
        ({"reservation_id": "r" * 201}, "reservation_id"),
        ({"latency_ms": 86_400_001}, "latency_ms"),
        ({"tenant_id": "someone-else"}, "tenant_id"),
        ({"estimated": "yes"}, "estimated"),
        ({"customer_id": "cus_\u0000x"}, "customer_id"),
        ({"agent": "\u0000"}, "agent"),
        ({"model": "gpt-4o\u0000"}, "model"),
        ({"tags": {"env": "prod\u0000"}}, "tags"),
        ({"tags": {"\u0000": "x"}}, "tags"),
    ],
)
async def test_a_bad_field_is_named_with_the_event_index(
    client: Client, auth: dict[str, str], change: dict[str, Any], field: str
) -> None:
    bad = event(**change)
    response = await post_events(client, auth, [event(), bad])

    assert response.status_code == 207, response.text
    rejected = response.json()["rejected"]
    assert len(rejected) == 1
    assert rejected[0]["index"] == 1
    assert rejected[0]["field"] == field
    assert rejected[0]["error"]


async def test_rejections_name_their_event_id_whether_or_not_the_batch_decodes_whole(
    client: Client, auth: dict[str, str]
) -> None:
    unreadable, refused = event(provider=5), event(model="")

    mixed = await post_events(client, auth, [event(), unreadable, refused])
    well_formed = await post_events(client, auth, [event(), refused])

    assert [(r["index"], r["field"], r["event_id"]) for r in mixed.json()["rejected"]] == [
        (1, "provider", unreadable["event_id"]),
        (2, "model", refused["event_id"]),
    ]
    assert [(r["index"], r["field"], r["event_id"]) for r in well_formed.json()["rejected"]] == [
        (1, "model", refused["event_id"])
    ]
    assert (await totals(client, auth))["calls"] == 2


async def test_a_missing_field_is_named(client: Client, auth: dict[str, str]) -> None:
    incomplete = event()
    del incomplete["provider"]

    response = await post_events(client, auth, [incomplete])

    assert response.status_code == 422
    assert response.json()["rejected"][0]["field"] == "provider"
    assert response.json()["rejected"][0]["event_id"] == incomplete["event_id"]


async def test_an_event_that_is_not_an_object_is_rejected_alone(
    client: Client, auth: dict[str, str]
) -> None:
    response = await post_events(client, auth, [event(), 5, "x"])

    assert response.status_code == 207
    assert [(r["index"], r["field"], r["event_id"]) for r in response.json()["rejected"]] == [
        (1, "event", None),
        (2, "event", None),
    ]


async def test_a_timestamp_within_the_clock_skew_is_accepted(
    client: Client, auth: dict[str, str]
) -> None:
    response = await post_events(
        client, auth, [event(occurred_at=(NOW + timedelta(minutes=4)).isoformat())]
    )

    assert response.status_code == 200


async def test_duplicate_ids_inside_a_batch_reject_the_repeats(
    client: Client, auth: dict[str, str]
) -> None:
    first = event()
    response = await post_events(client, auth, [first, event(), dict(first, model="gpt-4o-mini")])

    assert response.status_code == 207
    body = response.json()
    assert body["accepted"] == 2
    assert body["rejected"] == [
        {
            "index": 2,
            "event_id": first["event_id"],
            "field": "event_id",
            "error": "repeats the event_id of the event at index 0",
        }
    ]
    assert (await totals(client, auth))["cost"] == "0.012000"


async def test_an_unknown_model_is_stored_unpriced(client: Client, auth: dict[str, str]) -> None:
    await post_events(client, auth, [event(provider="selfhosted", model="acme-llm"), event()])

    summary = await totals(client, auth)
    assert summary["calls"] == 2
    assert summary["unpriced_calls"] == 1
    assert summary["cost"] == "0.006000"


async def test_missing_and_null_counts_are_zero(client: Client, auth: dict[str, str]) -> None:
    response = await post_events(
        client, auth, [event(usage={"input_tokens": 1000, "output_tokens": None})]
    )

    assert response.status_code == 200
    assert (await totals(client, auth))["cost"] == "0.002500"


async def test_an_error_call_costs_nothing(client: Client, auth: dict[str, str]) -> None:
    await post_events(client, auth, [event(status="error")])

    summary = await totals(client, auth)
    assert (summary["calls"], summary["error_calls"], summary["cost"]) == (1, 1, "0.000000")


# The envelope: malformed bodies are refused whole, with a JSON error body.


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"events": [', "body"),
        (b"not json at all", "body"),
        (b'{"events": {}}', "events"),
        (b'{"event": []}', "events"),
        (b"[]", "events"),
        (b'{"events": []}', "events"),
    ],
)
async def test_a_malformed_envelope_is_400(
    client: Client, auth: dict[str, str], body: bytes, field: str
) -> None:
    response = await client.post(
        "/v1/events", content=body, headers={**auth, "Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert_error_shape(response.json(), 400)
    assert fields_of(response.json()) == [field]


async def test_more_than_1000_events_is_413(client: Client, auth: dict[str, str]) -> None:
    response = await post_events(client, auth, [event() for _ in range(1001)])

    assert response.status_code == 413
    assert fields_of(response.json()) == ["events"]
    assert (await totals(client, auth))["calls"] == 0


async def test_exactly_1000_events_are_accepted(client: Client, auth: dict[str, str]) -> None:
    response = await post_events(client, auth, [event() for _ in range(1000)])

    assert response.status_code == 200
    assert response.json()["accepted"] == 1000


async def test_a_body_over_1_mib_is_413(client: Client, auth: dict[str, str]) -> None:
    padded = [event(tags={f"k{i}": "x" * 200 for i in range(50)}) for _ in range(120)]
    body = json.dumps({"events": padded}).encode()
    assert len(body) > 1024 * 1024

    response = await client.post("/v1/events", content=body, headers=auth)

    assert response.status_code == 413
    assert_error_shape(response.json(), 413)


async def test_a_gzip_body_is_accepted(client: Client, auth: dict[str, str]) -> None:
    body = gzip.compress(json.dumps({"events": [event(), event()]}).encode())

    response = await client.post(
        "/v1/events", content=body, headers={**auth, "Content-Encoding": "gzip"}
    )

    assert response.status_code == 200
    assert response.json()["accepted"] == 2


async def test_a_large_batch_fits_when_gzip_brings_it_under_1_mib(
    client: Client, auth: dict[str, str]
) -> None:
    padded = [event(tags={f"k{i}": "x" * 200 for i in range(50)}) for _ in range(120)]
    body = gzip.compress(json.dumps({"events": padded}).encode())
    assert len(body) < 1024 * 1024

    response = await client.post(
        "/v1/events", content=body, headers={**auth, "Content-Encoding": "gzip"}
    )

    assert response.status_code == 200
    assert response.json()["accepted"] == 120


async def test_a_gzip_bomb_is_refused_without_inflating_it(
    client: Client, auth: dict[str, str]
) -> None:
    bomb = gzip.compress(b'{"events": [' + b" " * (64 * 1024 * 1024) + b"]}")
    assert len(bomb) < 1024 * 1024

    response = await client.post(
        "/v1/events", content=bomb, headers={**auth, "Content-Encoding": "gzip"}
    )

    assert response.status_code == 413
    assert "decompressed" in response.json()["detail"]


async def test_a_body_that_is_not_gzip_is_400(client: Client, auth: dict[str, str]) -> None:
    response = await client.post(
        "/v1/events", content=b"plain text", headers={**auth, "Content-Encoding": "gzip"}
    )

    assert response.status_code == 400
    assert fields_of(response.json()) == ["body"]


async def test_an_unsupported_encoding_is_415(client: Client, auth: dict[str, str]) -> None:
    response = await client.post(
        "/v1/events", content=b"{}", headers={**auth, "Content-Encoding": "br"}
    )

    assert response.status_code == 415
    assert fields_of(response.json()) == ["content-encoding"]
