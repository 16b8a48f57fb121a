"""The HTTP API on every embedded adapter set: in-memory, and SQLite through the SQL adapter.

Each test gets a fresh container whose clock the test controls, a Litestar
AsyncTestClient around the real app (background jobs off, so nothing runs behind
the test's back), and a management key of the default tenant.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import providers
from litestar.testing import AsyncTestClient

from domain.tenants import DEFAULT_TENANT_ID, KeyKind
from entrypoints.cli import migrate_database
from entrypoints.container import Application, infrastructure_for
from entrypoints.http.app import create_app
from entrypoints.settings import MEMORY_DATABASE_URL, Settings
from tests.support.clock import MutableClock

BACKENDS = ["memory", "sqlite"]
NOW = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrated once per session; each test starts from a copy (migrations take a second)."""
    template = tmp_path_factory.mktemp("template") / "api.db"
    migrate_database(Settings(database_url=sqlite_url(template)))
    return template


@pytest.fixture
def clock() -> MutableClock:
    return MutableClock(NOW)


@pytest.fixture(params=BACKENDS)
def container(request: pytest.FixtureRequest, tmp_path: Path, clock: MutableClock) -> Application:
    url = MEMORY_DATABASE_URL
    if request.param == "sqlite":
        database = tmp_path / "api.db"
        shutil.copyfile(request.getfixturevalue("migrated_sqlite"), database)
        url = sqlite_url(database)
    settings = Settings(database_url=url)
    infra = infrastructure_for(settings)
    infra.clock.override(providers.Object(clock))
    return Application(settings=settings, infra=infra)


@pytest.fixture
async def client(container: Application) -> AsyncIterator[AsyncTestClient[Any]]:
    async with AsyncTestClient(app=create_app(container, run_jobs=False)) as test_client:
        yield test_client


async def issue_key(
    container: Application, kind: KeyKind = KeyKind.MANAGEMENT, tenant: str = DEFAULT_TENANT_ID
) -> dict[str, str]:
    created = await container.api_keys().issue(tenant, f"test {kind.value}", kind)
    return {"Authorization": f"Bearer {created.secret}"}


@pytest.fixture
async def auth(client: AsyncTestClient[Any], container: Application) -> dict[str, str]:
    return await issue_key(container)


@pytest.fixture
async def ingest_auth(client: AsyncTestClient[Any], container: Application) -> dict[str, str]:
    return await issue_key(container, KeyKind.INGEST)


def event(**overrides: Any) -> dict[str, Any]:
    """A valid wire event: gpt-4o, 1200 in / 300 out = $0.006000 at $2.50 / $10 per 1M."""
    body: dict[str, Any] = {
        "event_id": str(uuid.uuid4()),
        "occurred_at": (NOW - timedelta(hours=1)).isoformat().replace("+00:00", "Z"),
        "provider": "openai",
        "model": "gpt-4o-2024-08-06",
        "operation": "chat",
        "usage": {
            "input_tokens": 1200,
            "output_tokens": 300,
            "cache_read_tokens": 0,
            "cache_write_tokens": 0,
            "reasoning_tokens": 0,
        },
        "latency_ms": 812,
        "status": "ok",
        "agent": "planner/research_agent",
        "customer_id": "cus_123",
        "tags": {"env": "prod"},
        "tenant_id": None,
        "reservation_id": None,
        "estimated": False,
    }
    body.update(overrides)
    return body


def fields_of(body: dict[str, Any]) -> list[str]:
    return [item["field"] for item in body["extra"]]


def assert_error_shape(body: dict[str, Any], status: int) -> None:
    assert set(body) == {"status_code", "detail", "extra"}
    assert body["status_code"] == status
    assert isinstance(body["detail"], str) and body["detail"]
    assert all(set(item) == {"field", "message"} for item in body["extra"])
    assert "Traceback" not in body["detail"]
