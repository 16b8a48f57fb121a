"""Dashboard pages on real volumes: server-side render time of each page, p50 and p95.

Point it at a database that `report_rollups.py --keep` loaded (10 million events for
one tenant over 30 days, 2,000 customers, ~200 models). It adds an owner to that
tenant, signs in as a browser would, and renders each page through the real app in
this process (Litestar's test client: no network, so the figure is the server's time).
The clock is set to the data's last day, so "30 days" covers all of it.

    .venv/bin/python benchmarks/report_rollups.py --events 10000000 --keep
    .venv/bin/python benchmarks/dashboard_pages.py --database llmo_bench_reports_...
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from dependency_injector import providers
from litestar.testing import AsyncTestClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.auth.passwords import Argon2PasswordHasher
from adapters.sql.urls import with_user
from domain.access import Role
from domain.accounts import Membership, User
from domain.tenants import Tenant
from entrypoints.container import Application, close_infrastructure, infrastructure_for
from entrypoints.http.accounts.credentials import SESSION_COOKIE, TENANT_COOKIE
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from tests.support.clock import MutableClock
from tests.support.services import test_database_url, with_database

TENANT = "bench_tenant"
DATA_END = datetime(2026, 11, 20, 14, 37, tzinfo=UTC)  # report_rollups.py's END
EMAIL = "bench-owner@example.com"
PASSWORD = "a long bench password"
PAGES = {
    "overview, 30 days": "/?range=30d",
    "overview, 30 days, by model": "/?range=30d&by=model",
    "overview, 7 days, hourly": "/?range=7d&bucket=hour",
    "overview, one customer": "/?range=30d&customer=cus_00042",
    "customers": "/customers?range=30d",
    "customer page": "/customers/cus_00042?range=30d",
    "caps": "/caps",
    "alerts": "/alerts",
    "overview CSV": "/export/overview.csv?range=30d",
}


def container_for(owner_url: str) -> Application:
    settings = Settings(
        database_url=with_user(owner_url, "llmobserve_app"),
        migration_database_url=owner_url,
    )
    infra = infrastructure_for(settings)
    infra.clock.override(providers.Object(MutableClock(DATA_END)))
    container = Application(settings=settings, infra=infra)
    container.password_hasher.override(providers.Object(Argon2PasswordHasher.fast_for_tests()))
    return container


async def sign_in(owner_url: str) -> str:
    """An owner of the bench tenant, signed in; its session secret. The setup container is
    closed here: the app's own runs on the test client's event loop."""
    container = container_for(owner_url)
    hasher = container.password_hasher()
    async with container.infra.accounts_uow_factory()(TENANT) as uow:
        if await uow.tenants.get(TENANT) is None:
            await uow.tenants.add(Tenant(TENANT, "Bench", DATA_END))
        if await uow.users.by_email(EMAIL) is None:
            user = User("usr_bench_owner", EMAIL, DATA_END, "Bench", hasher.hash(PASSWORD))
            await uow.users.add(user)
            await uow.memberships.save(Membership(TENANT, user.id, Role.OWNER, DATA_END))
        await uow.commit()
    signed_in = await container.local_accounts().sign_in(EMAIL, PASSWORD)
    await close_infrastructure(container)
    return signed_in.secret


async def measure(owner_url: str, session: str, runs: int) -> None:
    # As `llmobserve-server serve` runs it (the start-up heap frozen).
    app = create_app(container_for(owner_url), run_jobs=False, freeze_heap=True)
    async with AsyncTestClient(app) as client:
        client.cookies.set(SESSION_COOKIE, session)
        client.cookies.set(TENANT_COOKIE, TENANT)
        print(f"{'page':<40} {'p50':>9} {'p95':>9} {'max':>9}   (ms, {runs} runs, server side)")
        for name, path in PAGES.items():
            first = await client.get(path)
            if first.status_code != 200:
                raise RuntimeError(f"{path}: HTTP {first.status_code}\n{first.text[:400]}")
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                response = await client.get(path)
                times.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200
            times.sort()
            p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
            print(f"{name:<40} {statistics.median(times):9.1f} {p95:9.1f} {times[-1]:9.1f}")
    print("target: every page under 300 ms server-side")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True, help="a database kept by report_rollups")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    # The test client logs each request at INFO: 135 lines would bury the figures.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    owner_url = with_database(test_database_url(), args.database)
    session = asyncio.run(sign_in(owner_url))
    asyncio.run(measure(owner_url, session, args.runs))


if __name__ == "__main__":
    main()
