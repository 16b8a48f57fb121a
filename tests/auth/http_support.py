"""An app on a real container for the accounts API tests: a hand-moved clock, a mailbox
instead of the mailer, cheap argon2 parameters, and helpers to sign people in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from dependency_injector import providers
from litestar.testing import AsyncTestClient

from adapters.auth.passwords import Argon2PasswordHasher
from entrypoints.cli import migrate_database
from entrypoints.container import Application, infrastructure_for
from entrypoints.http.app import create_app
from entrypoints.settings import MEMORY_DATABASE_URL, Settings
from tests.auth.fakes import Mailbox
from tests.support.clock import MutableClock

PASSWORD = "correct horse battery staple"


def database_url(backend: str, workdir: Path, postgres_url: str | None = None) -> str:
    if backend == "memory":
        return MEMORY_DATABASE_URL
    if backend == "postgres":
        assert postgres_url is not None
        return postgres_url
    return f"sqlite+aiosqlite:///{workdir / 'accounts.db'}"


@dataclass
class Site:
    container: Application
    client: AsyncTestClient[Any]
    mailbox: Mailbox
    clock: MutableClock

    async def sign_up(self, email: str, **extra: Any) -> dict[str, Any]:
        """Signs up in a fresh cookie jar; returns the body plus the session's headers."""
        response = await self.client.post(
            "/auth/sign-up", json={"email": email, "password": PASSWORD, **extra}
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        body["headers"] = self.session_headers(response)
        self.client.cookies.clear()
        return body

    async def sign_in(self, email: str) -> dict[str, str]:
        response = await self.client.post(
            "/auth/sign-in", json={"email": email, "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        headers = self.session_headers(response)
        self.client.cookies.clear()
        return headers

    @staticmethod
    def session_headers(response: Any) -> dict[str, str]:
        """A signed-in browser's cookie and CSRF header, sent explicitly per request."""
        session = response.cookies["llmo_session"]
        return {"Cookie": f"llmo_session={session}", "X-CSRF-Token": response.json()["csrf_token"]}


def build_container(settings: Settings, clock: MutableClock, mailbox: Mailbox) -> Application:
    migrate_database(settings)
    infra = infrastructure_for(settings)
    infra.clock.override(providers.Object(clock))
    infra.mailer.override(providers.Object(mailbox))
    container = Application(settings=settings, infra=infra)
    container.password_hasher.override(providers.Object(Argon2PasswordHasher.fast_for_tests()))
    return container


@asynccontextmanager
async def site(settings: Settings) -> AsyncIterator[Site]:
    clock, mailbox = MutableClock(), Mailbox()
    settings = replace(settings, dashboard_url="http://testserver")
    container = build_container(settings, clock, mailbox)
    async with AsyncTestClient(app=create_app(container, run_jobs=False)) as client:
        yield Site(container, client, mailbox, clock)
