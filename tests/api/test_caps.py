"""Caps over HTTP: create, read with live progress, change, delete, and invalid caps refused."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from entrypoints.container import Application
from tests.api.conftest import assert_error_shape, event, fields_of, issue_key

Client = AsyncTestClient[Any]


def cap(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Monthly budget",
        "scope": "global",
        "period": "monthly",
        "limit": "10.00",
    }
    body.update(overrides)
    return body


async def create(client: Client, auth: dict[str, str], **overrides: Any) -> dict[str, Any]:
    response = await client.post("/v1/caps", json=cap(**overrides), headers=auth)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_a_created_cap_comes_back_with_its_progress(
    client: Client, auth: dict[str, str]
) -> None:
    created = await create(
        client,
        auth,
        scope="customer",
        scope_value="cus_123",
        enforcement="block",
        thresholds=[25, 100],
        recipients=["ops@example.com"],
        timezone="Europe/Paris",
    )

    assert created["limit"] == "10.000000"
    assert (created["scope"], created["scope_value"], created["enforcement"]) == (
        "customer",
        "cus_123",
        "block",
    )
    assert created["thresholds"] == [25, 100]
    assert created["progress"] == {
        "window_start": "2026-02-28T23:00:00Z",
        "window_end": "2026-03-31T22:00:00Z",
        "spent": "0.000000",
        "reserved": "0.000000",
        "remaining": "10.000000",
        "percent": "0.00",
        "exhausted": False,
        "verified": True,
    }
    fetched = await client.get(f"/v1/caps/{created['id']}", headers=auth)
    assert fetched.json() == created


async def test_progress_follows_the_spend(client: Client, auth: dict[str, str]) -> None:
    created = await create(client, auth, limit="0.024")
    await client.post("/v1/events", json={"events": [event(), event()]}, headers=auth)

    progress = (await client.get(f"/v1/caps/{created['id']}", headers=auth)).json()["progress"]

    assert (progress["spent"], progress["remaining"], progress["percent"]) == (
        "0.012000",
        "0.012000",
        "50.00",
    )


async def test_caps_are_listed(client: Client, auth: dict[str, str]) -> None:
    first = await create(client, auth, name="a")
    second = await create(client, auth, name="b", scope="model", scope_value="gpt-4o")

    listed = (await client.get("/v1/caps", headers=auth)).json()["caps"]

    assert {c["id"] for c in listed} == {first["id"], second["id"]}


async def test_a_cap_is_changed_field_by_field(client: Client, auth: dict[str, str]) -> None:
    created = await create(client, auth)

    response = await client.patch(
        f"/v1/caps/{created['id']}", json={"limit": "20", "enabled": False}, headers=auth
    )

    assert response.status_code == 200
    changed = response.json()
    assert (changed["limit"], changed["enabled"], changed["name"]) == (
        "20.000000",
        False,
        "Monthly budget",
    )


async def test_a_cap_carries_its_own_fail_policy(client: Client, auth: dict[str, str]) -> None:
    created = await create(client, auth, enforcement="block", fail_policy="closed")
    assert created["fail_policy"] == "closed"
    inherit = await client.patch(
        f"/v1/caps/{created['id']}", json={"fail_policy": None}, headers=auth
    )
    assert inherit.status_code == 200 and inherit.json()["fail_policy"] is None
    assert (await create(client, auth, name="other"))["fail_policy"] is None


async def test_a_scoped_cap_becomes_global_without_its_value(
    client: Client, auth: dict[str, str]
) -> None:
    created = await create(client, auth, scope="agent", scope_value="planner")

    response = await client.patch(
        f"/v1/caps/{created['id']}", json={"scope": "global"}, headers=auth
    )

    assert response.status_code == 200
    assert (response.json()["scope"], response.json()["scope_value"]) == ("global", None)


async def test_a_deleted_cap_is_gone(client: Client, auth: dict[str, str]) -> None:
    created = await create(client, auth)

    deleted = await client.delete(f"/v1/caps/{created['id']}", headers=auth)
    again = await client.get(f"/v1/caps/{created['id']}", headers=auth)

    assert deleted.status_code == 204
    assert again.status_code == 404
    assert_error_shape(again.json(), 404)
    assert (await client.delete(f"/v1/caps/{created['id']}", headers=auth)).status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"scope": "galaxy"}, "scope"),
        ({"period": "hourly"}, "period"),
        ({"enforcement": "maybe"}, "enforcement"),
        ({"limit": "0"}, "limit"),
        ({"limit": "-5"}, "limit"),
        ({"limit": "1e3"}, "limit"),
        ({"limit": "ten dollars"}, "limit"),
        ({"limit": "0.0000000001"}, "limit"),
        ({"limit": "2000000000"}, "limit"),
        ({"limit": 0.1}, "limit"),
        ({"limit": 10}, "limit"),
        ({"name": ""}, "name"),
        ({"scope": "customer"}, "scope_value"),
        ({"scope_value": "cus_1"}, "scope_value"),
        ({"thresholds": [80, 50]}, "thresholds"),
        ({"thresholds": [0]}, "thresholds"),
        ({"recipients": ["ops@example.com", "not an address"]}, "recipients[1]"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"fail_policy": "sometimes"}, "fail_policy"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_an_invalid_cap_is_422_naming_the_field(
    client: Client, auth: dict[str, str], change: dict[str, Any], field: str
) -> None:
    response = await client.post("/v1/caps", json=cap(**change), headers=auth)

    assert response.status_code == 422, response.text
    assert_error_shape(response.json(), 422)
    assert fields_of(response.json()) == [field]
    assert (await client.get("/v1/caps", headers=auth)).json()["caps"] == []


async def test_money_as_a_json_number_says_why(client: Client, auth: dict[str, str]) -> None:
    response = await client.post("/v1/caps", json=cap(limit=0.1), headers=auth)

    assert "decimal string" in response.json()["extra"][0]["message"]


async def test_a_missing_field_is_named(client: Client, auth: dict[str, str]) -> None:
    body = cap()
    del body["limit"]

    response = await client.post("/v1/caps", json=body, headers=auth)

    assert response.status_code == 422
    assert fields_of(response.json()) == ["limit"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"limit": "-1"}, "limit"),
        ({"limit": 5}, "limit"),
        ({"scope": "customer"}, "scope_value"),
        ({"thresholds": []}, "thresholds"),
    ],
)
async def test_an_invalid_change_is_422_and_changes_nothing(
    client: Client, auth: dict[str, str], change: dict[str, Any], field: str
) -> None:
    created = await create(client, auth)

    response = await client.patch(f"/v1/caps/{created['id']}", json=change, headers=auth)

    assert response.status_code == 422
    assert fields_of(response.json()) == [field]
    assert (await client.get(f"/v1/caps/{created['id']}", headers=auth)).json() == created


async def test_malformed_json_is_400(client: Client, auth: dict[str, str]) -> None:
    response = await client.post(
        "/v1/caps", content=b'{"name": ', headers={**auth, "Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert_error_shape(response.json(), 400)
    assert fields_of(response.json()) == ["body"]


async def test_another_tenants_cap_does_not_exist(
    client: Client, auth: dict[str, str], container: Application
) -> None:
    created = await create(client, auth)
    other = await issue_key(container, tenant="acme")

    for method in ("GET", "PATCH", "DELETE"):
        response = await client.request(
            method,
            f"/v1/caps/{created['id']}",
            headers=other,
            json={"limit": "1"} if method == "PATCH" else None,
        )
        assert response.status_code == 404, method
    assert (await client.get("/v1/caps", headers=other)).json()["caps"] == []


async def test_an_ingest_key_may_not_manage_caps(
    client: Client, ingest_auth: dict[str, str]
) -> None:
    response = await client.post("/v1/caps", json=cap(), headers=ingest_auth)

    assert response.status_code == 403
    assert_error_shape(response.json(), 403)
