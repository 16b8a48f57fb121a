"""API keys: required everywhere but /healthz and /schema, hashed, revocable at once."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from domain.tenants import KeyKind
from entrypoints.container import Application
from tests.api.conftest import assert_error_shape, event

Client = AsyncTestClient[Any]


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Bearer not-a-key",
        "Bearer llmo_sk_" + "x" * 43,
        "llmo_sk_" + "x" * 43,
    ],
)
async def test_a_missing_or_bad_key_is_401(client: Client, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}

    response = await client.get("/v1/caps", headers=headers)

    assert response.status_code == 401
    assert_error_shape(response.json(), 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/events"),
        ("POST", "/v1/caps/check"),
        ("GET", "/v1/caps/blocked"),
        ("GET", "/v1/spend/summary"),
        ("GET", "/v1/spend/timeseries"),
        ("GET", "/v1/alerts"),
        ("GET", "/v1/api-keys"),
        ("POST", "/v1/reservations/x/release"),
    ],
)
async def test_every_v1_route_needs_a_key(client: Client, method: str, path: str) -> None:
    assert (await client.request(method, path, json={})).status_code == 401


async def test_health_and_schema_need_no_key(client: Client) -> None:
    health = await client.get("/healthz")
    schema = await client.get("/schema/openapi.json")

    assert health.status_code == 200
    assert health.json() == {"status": "ok", "checks": {"database": "ok", "counters": "ok"}}
    assert schema.status_code == 200
    assert "/v1/events" in schema.json()["paths"]


async def test_a_created_key_is_shown_once_and_works(client: Client, auth: dict[str, str]) -> None:
    created = await client.post(
        "/v1/api-keys", json={"name": "sdk", "kind": "ingest"}, headers=auth
    )

    assert created.status_code == 201
    body = created.json()
    assert body["key"].startswith("llmo_sk_") and len(body["key"]) >= 48
    assert body["prefix"] == body["key"][:16]
    new_auth = {"Authorization": f"Bearer {body['key']}"}
    posted = await client.post("/v1/events", json={"events": [event()]}, headers=new_auth)
    assert posted.status_code == 200
    listed = (await client.get("/v1/api-keys", headers=auth)).json()["api_keys"]
    assert body["id"] in {k["id"] for k in listed}
    assert all("key" not in k for k in listed)
    assert body["key"] not in str(listed)


async def test_a_revoked_key_fails_on_the_next_request(
    client: Client, auth: dict[str, str], ingest_auth: dict[str, str]
) -> None:
    assert (await client.get("/v1/caps/blocked", headers=ingest_auth)).status_code == 200
    key_id = next(
        k["id"]
        for k in (await client.get("/v1/api-keys", headers=auth)).json()["api_keys"]
        if k["kind"] == "ingest"
    )

    revoked = await client.delete(f"/v1/api-keys/{key_id}", headers=auth)

    assert revoked.status_code == 204
    assert (await client.get("/v1/caps/blocked", headers=ingest_auth)).status_code == 401
    listed = (await client.get("/v1/api-keys", headers=auth)).json()["api_keys"]
    assert next(k for k in listed if k["id"] == key_id)["revoked_at"] is not None


async def test_an_ingest_key_may_not_manage_keys(
    client: Client, ingest_auth: dict[str, str]
) -> None:
    response = await client.post("/v1/api-keys", json={"name": "x"}, headers=ingest_auth)

    assert response.status_code == 403
    assert_error_shape(response.json(), 403)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "x", "kind": "root"}, "kind"),
        ({}, "name"),
    ],
)
async def test_a_bad_key_request_is_422(
    client: Client, auth: dict[str, str], body: dict[str, Any], field: str
) -> None:
    response = await client.post("/v1/api-keys", json=body, headers=auth)

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["extra"]] == [field]


async def test_another_tenants_key_cannot_be_revoked(
    client: Client, auth: dict[str, str], container: Application
) -> None:
    other = await container.api_keys().issue("acme", "theirs", KeyKind.INGEST)

    response = await client.delete(f"/v1/api-keys/{other.key.id}", headers=auth)

    assert response.status_code == 404
    assert await container.api_keys().authenticate(other.secret) is not None


async def test_a_key_records_when_it_was_last_used(client: Client, auth: dict[str, str]) -> None:
    await client.get("/v1/caps", headers=auth)

    keys = (await client.get("/v1/api-keys", headers=auth)).json()["api_keys"]

    assert keys[0]["last_used_at"] is not None
