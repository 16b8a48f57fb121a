"""The concurrency proof: two collector processes on one PostgreSQL and one Redis.

1,000 concurrent reservations of $0.01 against a $5.00 block cap, issued at once and
spread over both processes (up to 500 in flight at a time): exactly 500 are allowed, and the spend after settling is at most $5.00.
Then with 5 % of the calls failing after reserving (half released, half left to expire
and swept by the worker's job): no hold leaks, the cap's reserved amount returns to zero.
"""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.redis.connection import close_redis, make_redis
from adapters.redis.keys import KeySpace
from adapters.sql.urls import with_user
from domain.money import Money
from entrypoints import worker
from entrypoints.container import build_container
from entrypoints.settings import Settings
from tests.concurrency.collectors import Collector, base_env, run_cli, start_collector
from tests.support.services import (
    create_database,
    drop_database,
    require_postgres,
    require_redis,
    scratch_database_name,
    with_database,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning"),
]

CALLS = 1000
CAP = "5.00"
CENT = "0.01"
APP_ROLE = "llmobserve_app"
# A Redis database of its own: the sweep walks every reservation of the database it is on.
REDIS_DB = "13"
EXPIRING_TTL_SECONDS = 2
# All 1,000 checks are issued at once; each collector serves up to this many at a time.
# More would only queue inside the collector for its database pool (20 connections),
# where a loaded 2-core machine can make a request wait past the pool's 30 s timeout.
IN_FLIGHT_PER_COLLECTOR = 250


@dataclass
class Deployment:
    collectors: list[Collector]
    database_url: str
    redis_url: str
    keys: dict[str, str]  # tenant -> management key


@pytest.fixture(scope="module")
def deployment() -> Iterator[Deployment]:
    admin_url = require_postgres()
    redis_url = with_database(require_redis(), REDIS_DB)
    name = scratch_database_name("concurrency")
    owner_url = asyncio.run(create_database(admin_url, name))
    app_url = with_user(owner_url, APP_ROLE)
    env = base_env(
        LLMOBSERVE_DATABASE_URL=app_url,
        LLMOBSERVE_MIGRATION_DATABASE_URL=owner_url,
        LLMOBSERVE_REDIS_URL=redis_url,
    )
    collectors: list[Collector] = []
    tenants = [f"conc_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    try:
        run_cli(env, "migrate")
        keys = {
            tenant: run_cli(env, "create-api-key", "--tenant", tenant).strip().splitlines()[-1]
            for tenant in tenants
        }
        # Not pytest's tmp_path: parallel pytest runs on this machine prune those.
        log_dir = Path(tempfile.mkdtemp(prefix="llmo-concurrency-"))
        collectors = [start_collector(env, log_dir) for _ in range(2)]
        yield Deployment(collectors, app_url, redis_url, keys)
    finally:
        for collector in collectors:
            collector.stop()
        try:
            asyncio.run(_forget_redis_keys(redis_url, tenants))
        finally:
            asyncio.run(drop_database(admin_url, name))


async def _forget_redis_keys(redis_url: str, tenants: list[str]) -> None:
    redis = make_redis(redis_url)
    try:
        space = KeySpace()
        for tenant in tenants:
            keys = [key async for key in redis.scan_iter(match=f"{space.tag(tenant)}*")]
            if keys:
                await redis.delete(*keys)
        await redis.srem(space.reserving_tenants, *tenants)
    finally:
        await close_redis(redis)


@dataclass
class Tenant:
    clients: list[httpx.AsyncClient]

    def client(self, index: int) -> httpx.AsyncClient:
        return self.clients[index % len(self.clients)]


@pytest.fixture
async def tenant_factory(deployment: Deployment) -> AsyncIterator[Any]:
    opened: list[httpx.AsyncClient] = []

    async def open_tenant(name: str) -> Tenant:
        clients = [
            httpx.AsyncClient(
                base_url=collector.base_url,
                headers={"Authorization": f"Bearer {deployment.keys[name]}"},
                timeout=120,
                # A fresh connection per request: under this load a kept-alive connection
                # can sit idle past the server's keep-alive timeout and be closed just as
                # it is reused, which would lose a request whose fate is then unknown.
                limits=httpx.Limits(
                    max_connections=IN_FLIGHT_PER_COLLECTOR, max_keepalive_connections=0
                ),
            )
            for collector in deployment.collectors
        ]
        opened.extend(clients)
        return Tenant(clients)

    yield open_tenant
    await asyncio.gather(*(client.aclose() for client in opened))


async def block_cap(tenant: Tenant) -> str:
    response = await tenant.client(0).post(
        "/v1/caps",
        json={
            "name": "five dollars a day",
            "scope": "global",
            "period": "daily",
            "limit": CAP,
            "enforcement": "block",
        },
    )
    assert response.status_code in (200, 201), response.text
    return str(response.json()["id"])


async def cap_state(tenant: Tenant, cap_id: str) -> tuple[Money, Money]:
    response = await tenant.client(1).get(f"/v1/caps/{cap_id}")
    assert response.status_code == 200, response.text
    progress = response.json()["progress"]
    assert progress["verified"], progress
    return Money.parse(progress["spent"]), Money.parse(progress["reserved"])


async def check_all(tenant: Tenant, ttl_for: Any = None) -> list[dict[str, Any]]:
    """CALLS concurrent checks of one cent, alternating between the collectors."""

    async def check(index: int) -> dict[str, Any]:
        body: dict[str, Any] = {"provider": "openai", "model": "gpt-4o", "estimated_cost": CENT}
        if ttl_for is not None:
            body["ttl_seconds"] = ttl_for(index)
        response = await tenant.client(index).post("/v1/caps/check", json=body)
        assert response.status_code == 200, response.text
        return {"index": index, **response.json()}

    return await asyncio.gather(*(check(index) for index in range(CALLS)))


async def settle(tenant: Tenant, checks: list[dict[str, Any]]) -> None:
    async def one(position: int, check: dict[str, Any]) -> None:
        response = await tenant.client(position + 1).post(
            f"/v1/reservations/{check['reservation_id']}/settle", json={"actual_cost": CENT}
        )
        assert response.status_code == 200, response.text

    await asyncio.gather(*(one(n, check) for n, check in enumerate(checks)))


async def test_exactly_500_of_1000_concurrent_checks_fit_five_dollars(
    deployment: Deployment, tenant_factory: Any
) -> None:
    tenant = await tenant_factory(next(iter(deployment.keys)))
    cap_id = await block_cap(tenant)
    checks = await check_all(tenant)
    allowed = [check for check in checks if check["allowed"]]
    assert len(allowed) == 500
    assert all(check["verified"] for check in checks)
    # Both processes granted some: the limit held across them, not inside one.
    assert {check["index"] % 2 for check in allowed} == {0, 1}
    spent, reserved = await cap_state(tenant, cap_id)
    assert (spent, reserved) == (Money(0), Money.parse(CAP))
    await settle(tenant, allowed)
    spent, reserved = await cap_state(tenant, cap_id)
    assert spent <= Money.parse(CAP)
    assert (spent, reserved) == (Money.parse(CAP), Money(0))


async def test_calls_failing_after_reserving_leak_no_hold(
    deployment: Deployment, tenant_factory: Any
) -> None:
    tenant = await tenant_factory(list(deployment.keys)[1])
    cap_id = await block_cap(tenant)

    def fate(index: int) -> str:
        return {0: "release", 10: "expire"}.get(index % 20, "settle")  # 5 % fail

    checks = await check_all(tenant, lambda i: EXPIRING_TTL_SECONDS if fate(i) == "expire" else 300)
    allowed = [check for check in checks if check["allowed"]]
    assert len(allowed) == 500
    by_fate: dict[str, list[dict[str, Any]]] = {"release": [], "expire": [], "settle": []}
    for check in allowed:
        by_fate[fate(check["index"])].append(check)
    assert by_fate["release"] and by_fate["expire"]

    async def release(position: int, check: dict[str, Any]) -> None:
        response = await tenant.client(position).post(
            f"/v1/reservations/{check['reservation_id']}/release"
        )
        assert response.status_code == 200, response.text

    await asyncio.gather(
        settle(tenant, by_fate["settle"]),
        *(release(n, check) for n, check in enumerate(by_fate["release"])),
    )
    spent, reserved = await cap_state(tenant, cap_id)
    cents = len(by_fate["settle"])
    assert spent == Money(Money.parse(CENT).nanos * cents)
    assert reserved == Money(Money.parse(CENT).nanos * len(by_fate["expire"]))

    # The abandoned holds expire; the worker's sweep job gives them back.
    await asyncio.sleep(EXPIRING_TTL_SECONDS + 1)
    assert await sweep_on_a_worker(deployment) == 0
    spent, reserved = await cap_state(tenant, cap_id)
    assert reserved == Money(0)
    assert spent == Money(Money.parse(CENT).nanos * cents) and spent <= Money.parse(CAP)


async def sweep_on_a_worker(deployment: Deployment) -> int:
    """Enqueue the sweep and run an arq worker until the queue is empty: failed jobs."""
    container = build_container(
        Settings(database_url=deployment.database_url, redis_url=deployment.redis_url)
    )
    queue = f"llmo-test-queue-{uuid.uuid4().hex[:8]}"
    redis = make_redis(deployment.redis_url)
    await redis.enqueue_job("sweep_reservations", _queue_name=queue)
    return await worker.run_worker(
        container,
        redis,
        burst=True,
        handle_signals=False,
        queue_name=queue,
        keep_result=0,
        poll_delay=0.05,
        cron_jobs=[],
    )


async def test_a_key_revoked_through_one_collector_is_refused_by_the_other_at_once(
    deployment: Deployment,
) -> None:
    # Each collector keeps a copy of the keys it has seen (10 s by default): only the
    # revocation announced over Redis can make the other refuse the key this fast.
    tenant = next(iter(deployment.keys))
    first, second = (collector.base_url for collector in deployment.collectors)
    admin = {"Authorization": f"Bearer {deployment.keys[tenant]}"}
    async with httpx.AsyncClient(timeout=30) as http:
        created = await http.post(
            f"{first}/v1/api-keys", json={"name": "short-lived", "kind": "ingest"}, headers=admin
        )
        assert created.status_code == 201, created.text
        secret, key_id = created.json()["key"], created.json()["id"]
        bearer = {"Authorization": f"Bearer {secret}"}
        check = {"provider": "openai", "model": "gpt-4o", "estimated_cost": "0.000001"}

        async def status_on_second() -> int:
            answer = await http.post(f"{second}/v1/caps/check", json=check, headers=bearer)
            return answer.status_code

        assert await status_on_second() == 200

        revoked = await http.delete(f"{first}/v1/api-keys/{key_id}", headers=admin)
        assert revoked.status_code == 204, revoked.text

        refused_after = None
        started = asyncio.get_running_loop().time()
        while asyncio.get_running_loop().time() - started < 5:
            if await status_on_second() == 401:
                refused_after = asyncio.get_running_loop().time() - started
                break
            await asyncio.sleep(0.05)
        assert refused_after is not None and refused_after < 2.0


def test_the_collectors_logged_no_error(deployment: Deployment) -> None:
    for collector in deployment.collectors:
        assert collector.process.poll() is None, collector.log_tail()
        assert "Traceback" not in collector.log_path.read_text(errors="replace"), (
            collector.log_tail(80)
        )
