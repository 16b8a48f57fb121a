"""Dashboard pages through Litestar's test client, on the real app and container.

Each test gets a fresh container (in-memory, and SQLite through the SQL adapter) with
a clock it controls. People sign up, sign in and get invited through the pages
themselves, so every test also walks the cookies and form tokens a browser uses.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from typing import Any

import httpx
import pytest
from dependency_injector import providers
from litestar.testing import AsyncTestClient

from adapters.auth.passwords import Argon2PasswordHasher
from application.accounts import Identity
from domain.access import Principal
from entrypoints.cli import migrate_database
from entrypoints.container import Application, infrastructure_for
from entrypoints.http.app import create_app
from entrypoints.settings import MEMORY_DATABASE_URL, Settings
from tests.support.clock import MutableClock

NOW = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"
BACKENDS = ["memory", "sqlite"]
# For long parametrised checks of page logic that storage does not change.
MEMORY_ONLY = pytest.mark.parametrize("container", ["memory"], indirect=True)
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_FIRST_KEY = re.compile(r'data-testid="first-key">([^<]+)<')
_INVITE_LINK = re.compile(r'data-testid="invite-link">([^<]+)<')


@pytest.fixture
def clock() -> MutableClock:
    return MutableClock(NOW)


@pytest.fixture(params=BACKENDS)
def container(request: pytest.FixtureRequest, tmp_path: Path, clock: MutableClock) -> Application:
    url = MEMORY_DATABASE_URL
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'dashboard.db'}"
    settings = Settings(database_url=url)
    migrate_database(settings)
    infra = infrastructure_for(settings)
    infra.clock.override(providers.Object(clock))
    container = Application(settings=settings, infra=infra)
    # Argon2 at production cost makes each sign-up slow; the pages are what is tested here.
    container.password_hasher.override(providers.Object(Argon2PasswordHasher.fast_for_tests()))
    return container


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no form token"
    return found.group(1)


class Browser:
    """One person's browser: its own cookie jar over the test's one client of the app.

    The app runs once per test (one lifespan); each browser swaps its cookies in for
    its requests, so several people can use the app side by side.
    """

    def __init__(self, client: AsyncTestClient[Any]) -> None:
        self._client = client
        self._jar = httpx.Cookies()
        self.email = ""
        self.first_key: str | None = None

    @property
    def cookies(self) -> httpx.Cookies:
        return self._jar

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        self._client.cookies = self._jar
        kwargs.setdefault("follow_redirects", False)
        try:
            return await self._client.request(method, path, **kwargs)
        finally:
            self._jar = httpx.Cookies(self._client.cookies)
            self._client.cookies = httpx.Cookies()

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", path, **kwargs)

    async def form(self, path: str, data: dict[str, str], token_from: str) -> httpx.Response:
        """Post a form the way a browser does: with the token of the page it came from."""
        page = await self.get(token_from)
        return await self.request("POST", path, data={"csrf_token": csrf_of(page.text), **data})

    async def post(self, path: str, data: dict[str, str], token_from: str = "/profile") -> Any:
        """Post a form with the token a page of this signed-in session carries."""
        return await self.form(path, data, token_from)

    async def post_without_token(self, path: str, data: dict[str, str]) -> httpx.Response:
        return await self.request("POST", path, data=data)

    async def events(self, *events: dict[str, Any], key: str | None = None) -> None:
        """Events through the real ingest API, with this person's first key."""
        response = await self._client.post(
            "/v1/events",
            json={"events": list(events)},
            headers={"Authorization": f"Bearer {key or self.first_key}"},
        )
        assert response.status_code == 200, response.text


class Browsers:
    """Opens browsers on one running app."""

    def __init__(self, container: Application, client: AsyncTestClient[Any]) -> None:
        self.container = container
        self._client = client

    async def new(self) -> Browser:
        return Browser(self._client)

    async def sign_up(
        self, email: str, tenant_name: str = "Acme", invitation: str | None = None
    ) -> Browser:
        browser = await self.new()
        query = f"?invitation={invitation}" if invitation else ""
        form = {
            "name": email.split("@")[0].title(),
            "email": email,
            "password": PASSWORD,
            "tenant_name": tenant_name,
            "next": "/",
        }
        if invitation:
            form["invitation"] = invitation
        response = await browser.form("/sign-up", form, token_from="/sign-up" + query)
        assert response.status_code in (201, 303), response.text
        key = _FIRST_KEY.search(response.text)
        browser.email = email
        browser.first_key = key.group(1) if key else None
        return browser

    async def invitation(self, inviter: Browser, email: str, role: str) -> str:
        """`inviter` invites `email` as `role` on the team page: the link's token."""
        response = await inviter.post("/team/invite", {"email": email, "role": role})
        assert response.status_code == 201, response.text
        link = unescape(_INVITE_LINK.search(response.text).group(1))  # type: ignore[union-attr]
        return link.split("token=", 1)[1]

    async def invite(self, inviter: Browser, email: str, role: str) -> Browser:
        """An invitation, taken up by a new person signing up with it."""
        return await self.sign_up(email, invitation=await self.invitation(inviter, email, role))

    async def invite_existing(self, inviter: Browser, invitee: Browser, role: str) -> None:
        """An invitation, accepted by a person who is signed in already."""
        token = await self.invitation(inviter, invitee.email, role)
        accepted = await invitee.form("/invitation", {"token": token}, f"/invitation?token={token}")
        assert accepted.status_code == 303, accepted.text

    async def user_id(self, email: str) -> str:
        async with self.container.infra.accounts_uow_factory()() as uow:
            user = await uow.users.by_email(email)
        assert user is not None
        return user.id

    async def principal(self, email: str, tenant_id: str | None = None) -> Principal:
        """A person's principal, for arranging data through the use cases directly."""
        async with self.container.infra.accounts_uow_factory()() as uow:
            user = await uow.users.by_email(email)
        assert user is not None
        return await self.container.tenant_access().principal(Identity.of(user), tenant_id)

    async def make_platform_admin(self, browser: Browser) -> None:
        async with self.container.infra.accounts_uow_factory()() as uow:
            user = await uow.users.by_email(browser.email)
            assert user is not None
            await uow.users.save(replace(user, platform_admin=True))
            await uow.commit()


@pytest.fixture
async def browsers(container: Application) -> AsyncIterator[Browsers]:
    async with AsyncTestClient(app=create_app(container, run_jobs=False)) as client:
        yield Browsers(container, client)


@pytest.fixture
async def owner(browsers: Browsers) -> Browser:
    return await browsers.sign_up("owner@acme.test", "Acme")


def event(**overrides: Any) -> dict[str, Any]:
    """A wire event: gpt-4o, 1200 in / 300 out = $0.006000, an hour before NOW."""
    body: dict[str, Any] = {
        "event_id": str(uuid.uuid4()),
        "occurred_at": (NOW - timedelta(hours=1)).isoformat(),
        "provider": "openai",
        "model": "gpt-4o-2024-08-06",
        "usage": {"input_tokens": 1200, "output_tokens": 300},
        "agent": "planner",
        "customer_id": "cus_1",
    }
    body.update(overrides)
    return body
