"""Hard-block caps over HTTP: check-and-reserve, settle, release, the blocked list."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.api.conftest import assert_error_shape, event, fields_of
from tests.support.clock import MutableClock

Client = AsyncTestClient[Any]
CHECK = {"provider": "openai", "model": "gpt-4o", "agent": "planner", "customer_id": "cus_123"}


async def block_cap(
    client: Client, auth: dict[str, str], limit: str = "0.010", **overrides: Any
) -> dict[str, Any]:
    body = {
        "name": "hard",
        "scope": "global",
        "period": "daily",
        "limit": limit,
        "enforcement": "block",
        **overrides,
    }
    response = await client.post("/v1/caps", json=body, headers=auth)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def check(client: Client, auth: dict[str, str], **body: Any) -> dict[str, Any]:
    response = await client.post("/v1/caps/check", json={**CHECK, **body}, headers=auth)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_without_a_block_cap_every_call_is_allowed_and_nothing_held(
    client: Client, ingest_auth: dict[str, str]
) -> None:
    result = await check(
        client, ingest_auth, estimated_usage={"input_tokens": 1200, "output_tokens": 4096}
    )

    assert result == {
        "allowed": True,
        "reservation_id": None,
        "reserved": "0.000000",
        "expires_at": None,
        "verified": True,
        "blocking_cap": None,
    }


async def test_reservations_refuse_the_call_that_would_pass_the_limit(
    client: Client, auth: dict[str, str], ingest_auth: dict[str, str]
) -> None:
    cap = await block_cap(client, auth)

    first = await check(client, ingest_auth, estimated_cost="0.004")
    second = await check(client, ingest_auth, estimated_cost="0.004")
    third = await check(client, ingest_auth, estimated_cost="0.004")

    assert first["allowed"] and second["allowed"]
    assert first["reserved"] == "0.004000"
    assert first["expires_at"] == "2026-03-14T12:05:00Z"
    assert third["allowed"] is False
    assert third["reservation_id"] is None
    assert third["blocking_cap"] == {
        "id": cap["id"],
        "name": "hard",
        "scope": "global",
        "scope_value": None,
        "period": "daily",
        "limit": "0.010000",
        "spent": "0.000000",
        "reserved": "0.008000",
    }


async def test_an_estimate_from_usage_is_priced(
    client: Client, auth: dict[str, str], ingest_auth: dict[str, str]
) -> None:
    await block_cap(client, auth, limit="1")

    result = await check(
        client, ingest_auth, estimated_usage={"input_tokens": 1200, "output_tokens": 4096}
    )

    assert result["reserved"] == "0.043960"


async def test_a_released_reservation_frees_its_hold(
    client: Client, auth: dict[str, str], ingest_auth: dict[str, str]
) -> None:
    await block_cap(client, auth)
    held = await check(client, ingest_auth, estimated_cost="0.008")
    assert (await check(client, ingest_auth, estimated_cost="0.004"))["allowed"] is False

    released = await client.post(
        f"/v1/reservations/{held['reservation_id']}/release", headers=ingest_auth
    )

    assert released.status_code == 200
    assert released.json()["state"] == "released"
    assert (await check(client, ingest_auth, estimated_cost="0.004"))["allowed"] is True


async def test_settling_swaps_the_hold_for_the_actual_cost(
    client: Client, auth: dict[str, str], ingest_auth: dict[str, str]
) -> None:
    cap = await block_cap(client, auth)
    held = await check(client, ingest_auth, estimated_cost="0.008")

    settled = await client.post(
        f"/v1/reservations/{held['reservation_id']}/settle",
        json={"actual_cost": "0.003"},
        headers=ingest_auth,
    )

    assert settled.status_code == 200
    assert settled.json() == {
        "reservation_id": held["reservation_id"],
        "state": "settled",
        "reserved": "0.008000",
        "actual_cost": "0.003000",
    }
    progress = (await client.get(f"/v1/caps/{cap['id']}", headers=auth)).json()["progress"]
    assert (progress["spent"], progress["reserved"]) == ("0.003000", "0.000000")
    summary = (await client.get("/v1/spend/summary", headers=auth)).json()["totals"]
    assert summary["cost"] == "0.003000"
    again = await client.post(
        f"/v1/reservations/{held['reservation_id']}/settle",
        json={"actual_cost": "0.003"},
        headers=ingest_auth,
    )
    assert again.status_code == 404


async def test_an_event_with_the_reservation_id_settles_it(
    client: Client, auth: dict[str, str], ingest_auth: dict[str, str]
) -> None:
    cap = await block_cap(client, auth, limit="0.020")
    held = await check(client, ingest_auth, estimated_cost="0.010")

    await client.post(
        "/v1/events",
        json={"events": [event(reservation_id=held["reservation_id"])]},
        headers=ingest_auth,
    )

    progress = (await client.get(f"/v1/caps/{cap['id']}", headers=auth)).json()["progress"]
    assert (progress["spent"], progress["reserved"]) == ("0.006000", "0.000000")


async def test_the_blocked_list_names_exhausted_block_caps(
    client: Client, auth: dict[str, str], ingest_auth: dict[str, str]
) -> None:
    cap = await block_cap(
        client, auth, limit="0.006", scope="model", scope_value="gpt-4o-2024-08-06"
    )
    await block_cap(client, auth, limit="5", name="roomy")
    assert (await client.get("/v1/caps/blocked", headers=ingest_auth)).json()["blocked"] == []

    await client.post("/v1/events", json={"events": [event()]}, headers=ingest_auth)
    blocked = (await client.get("/v1/caps/blocked", headers=ingest_auth)).json()

    assert blocked == {
        "blocked": [
            {
                "cap_id": cap["id"],
                "name": "hard",
                "scope": "model",
                "scope_value": "gpt-4o-2024-08-06",
                "period": "daily",
                "limit": "0.006000",
                "spent": "0.006000",
                "window_end": "2026-03-15T00:00:00Z",
            }
        ],
        "refresh_after_seconds": 5,
    }


async def test_a_new_window_starts_empty(
    client: Client, auth: dict[str, str], ingest_auth: dict[str, str], clock: MutableClock
) -> None:
    await block_cap(client, auth, limit="0.006")
    await client.post("/v1/events", json={"events": [event()]}, headers=ingest_auth)
    assert (await check(client, ingest_auth, estimated_cost="0.001"))["allowed"] is False

    clock.advance(days=1)

    assert (await check(client, ingest_auth, estimated_cost="0.001"))["allowed"] is True


async def test_a_refusal_raises_one_blocked_alert(
    client: Client, auth: dict[str, str], ingest_auth: dict[str, str]
) -> None:
    cap = await block_cap(client, auth, limit="0.001")
    for _ in range(3):
        assert (await check(client, ingest_auth, estimated_cost="0.002"))["allowed"] is False

    alerts = (await client.get("/v1/alerts", headers=auth)).json()["alerts"]

    assert [(a["cap_id"], a["kind"]) for a in alerts] == [(cap["id"], "blocked")]


async def test_an_unknown_reservation_is_404(client: Client, ingest_auth: dict[str, str]) -> None:
    for action, body in (("settle", {"actual_cost": "0.1"}), ("release", None)):
        response = await client.post(
            f"/v1/reservations/rsv_nope/{action}", json=body, headers=ingest_auth
        )
        assert response.status_code == 404
        assert_error_shape(response.json(), 404)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"actual_cost": "abc"}, "actual_cost"),
        ({"actual_cost": 0.1}, "actual_cost"),
        ({"actual_cost": "-0.1"}, "actual_cost"),
        ({}, "actual_cost"),
    ],
)
async def test_a_bad_actual_cost_is_422(
    client: Client,
    auth: dict[str, str],
    ingest_auth: dict[str, str],
    body: dict[str, Any],
    field: str,
) -> None:
    await block_cap(client, auth)
    held = await check(client, ingest_auth, estimated_cost="0.001")

    response = await client.post(
        f"/v1/reservations/{held['reservation_id']}/settle", json=body, headers=ingest_auth
    )

    assert response.status_code == 422
    assert fields_of(response.json()) == [field]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"estimated_usage": {"input_tokens": -1}}, "estimated_usage.input_tokens"),
        ({"estimated_usage": {"output_tokens": "many"}}, "estimated_usage.output_tokens"),
        ({"estimated_cost": "1e3"}, "estimated_cost"),
        ({"estimated_cost": 0.5}, "estimated_cost"),
        ({"estimated_cost": "-1"}, "estimated_cost"),
        ({"ttl_seconds": 0}, "ttl_seconds"),
        ({"ttl_seconds": 86_400}, "ttl_seconds"),
        ({"model": ""}, "model"),
        ({"provider": None}, "provider"),
    ],
)
async def test_a_bad_check_is_422_naming_the_field(
    client: Client,
    auth: dict[str, str],
    ingest_auth: dict[str, str],
    body: dict[str, Any],
    field: str,
) -> None:
    await block_cap(client, auth)

    response = await client.post("/v1/caps/check", json={**CHECK, **body}, headers=ingest_auth)

    assert response.status_code == 422, response.text
    assert fields_of(response.json()) == [field]
