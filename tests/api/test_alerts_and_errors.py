"""Alert history over HTTP, and the error contract for everything unexpected."""

from __future__ import annotations

from typing import Any

import pytest
from dependency_injector import providers
from litestar.testing import AsyncTestClient

from application.spend_reports import SpendReportsService
from domain.tenants import DEFAULT_TENANT_ID, KeyKind
from entrypoints.container import Application
from entrypoints.http.app import create_app
from tests.api.conftest import assert_error_shape, event, fields_of

Client = AsyncTestClient[Any]


async def cap_with_alerts(client: Client, auth: dict[str, str]) -> dict[str, Any]:
    body = {
        "name": "budget",
        "scope": "global",
        "period": "monthly",
        "limit": "0.010",
        "recipients": ["ops@example.com"],
    }
    created: dict[str, Any] = (await client.post("/v1/caps", json=body, headers=auth)).json()
    await client.post("/v1/events", json={"events": [event()]}, headers=auth)  # 60 %
    await client.post("/v1/events", json={"events": [event()]}, headers=auth)  # 120 %
    return created


async def test_crossed_thresholds_show_in_the_history(client: Client, auth: dict[str, str]) -> None:
    cap = await cap_with_alerts(client, auth)

    alerts = (await client.get("/v1/alerts", headers=auth)).json()["alerts"]

    assert sorted((a["threshold"], a["kind"]) for a in alerts) == [
        (50, "threshold"),
        (80, "threshold"),
        (100, "exceeded"),
    ]
    first = alerts[0]
    assert first["cap_id"] == cap["id"]
    assert (first["status"], first["attempts"], first["recipients"]) == (
        "pending",
        0,
        ["ops@example.com"],
    )
    assert first["limit"] == "0.010000"
    assert (first["window_start"], first["window_end"]) == (
        "2026-03-01T00:00:00Z",
        "2026-04-01T00:00:00Z",
    )


async def test_the_history_filters(client: Client, auth: dict[str, str]) -> None:
    cap = await cap_with_alerts(client, auth)

    by_cap = await client.get(
        "/v1/alerts", params={"cap_id": cap["id"], "status": "pending", "limit": 2}, headers=auth
    )
    other_cap = await client.get("/v1/alerts", params={"cap_id": "cap_other"}, headers=auth)
    later = await client.get("/v1/alerts", params={"since": "2026-03-15"}, headers=auth)

    assert len(by_cap.json()["alerts"]) == 2
    assert other_cap.json()["alerts"] == []
    assert later.json()["alerts"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "lost"}, "status"),
        ({"since": "soon"}, "since"),
        ({"limit": "0"}, "limit"),
        ({"since": "2026-03-10", "until": "2026-03-01"}, "until"),
    ],
)
async def test_a_bad_alert_query_is_422(
    client: Client, auth: dict[str, str], params: dict[str, str], field: str
) -> None:
    response = await client.get("/v1/alerts", params=params, headers=auth)

    assert response.status_code == 422
    assert fields_of(response.json()) == [field]


async def test_an_unknown_route_is_a_json_404(client: Client, auth: dict[str, str]) -> None:
    response = await client.get("/v1/nothing-here", headers=auth)

    assert response.status_code == 404
    assert_error_shape(response.json(), 404)


async def test_a_wrong_method_is_a_json_405(client: Client, auth: dict[str, str]) -> None:
    response = await client.put("/v1/caps", headers=auth)

    assert response.status_code == 405
    assert_error_shape(response.json(), 405)


class Exploding(SpendReportsService):
    def __init__(self) -> None:
        pass

    async def summary(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret internals: /etc/passwd")


async def test_an_unexpected_error_is_a_bare_500(container: Application) -> None:
    container.spend_reports.override(providers.Object(Exploding()))
    async with AsyncTestClient(app=create_app(container, run_jobs=False)) as client:
        key = await container.api_keys().issue(DEFAULT_TENANT_ID, "t", KeyKind.MANAGEMENT)
        response = await client.get(
            "/v1/spend/summary", headers={"Authorization": f"Bearer {key.secret}"}
        )

    assert response.status_code == 500
    assert response.json() == {"status_code": 500, "detail": "internal server error", "extra": []}
    assert "passwd" not in response.text


class DownProbe:
    async def __call__(self) -> None:
        raise ConnectionRefusedError("connection refused")


async def test_health_names_what_is_down(container: Application) -> None:
    container.infra.database_probe.override(providers.Object(DownProbe()))

    async with AsyncTestClient(app=create_app(container, run_jobs=False)) as client:
        response = await client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "degraded",
        "checks": {"database": "down: ConnectionRefusedError", "counters": "ok"},
    }
