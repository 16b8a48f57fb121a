"""Signing in and out through the pages, and the redirect back to the page asked for."""

from __future__ import annotations

import pytest
from litestar.testing import AsyncTestClient

from entrypoints.container import Application, infrastructure_for
from entrypoints.http.app import create_app
from entrypoints.settings import MEMORY_DATABASE_URL, Settings
from tests.dashboard.conftest import MEMORY_ONLY, PASSWORD, Browser, Browsers

PROTECTED = [
    "/", "/customers", "/customers/cus_1", "/caps", "/caps/new", "/alerts", "/keys", "/team",
    "/profile", "/admin/tenants", "/welcome", "/team/new", "/export/overview.csv",
    "/export/customers.csv", "/export/alerts.csv", "/export/caps.csv", "/caps/progress.json",
]  # fmt: skip


@MEMORY_ONLY
@pytest.mark.parametrize("path", PROTECTED)
async def test_every_page_sends_a_signed_out_visitor_to_sign_in(
    browsers: Browsers, path: str
) -> None:
    browser = await browsers.new()

    response = await browser.get(path)

    assert response.status_code == 303
    assert response.headers["location"].startswith("/sign-in")


async def test_sign_in_returns_to_the_page_asked_for(browsers: Browsers, owner: Browser) -> None:
    browser = await browsers.new()
    asked = await browser.get("/customers?range=7d&sort=calls")

    response = await browser.form(
        "/sign-in",
        {
            "email": "owner@acme.test",
            "password": PASSWORD,
            "next": "/customers?range=7d&sort=calls",
        },
        token_from=asked.headers["location"],
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/customers?range=7d&sort=calls"
    assert (await browser.get("/customers?range=7d&sort=calls")).status_code == 200


@MEMORY_ONLY
@pytest.mark.parametrize(
    "next_value",
    ["//evil.test/x", "https://evil.test/", "/\\evil.test", "javascript:alert(1)", "evil", "/\x00"],
)
async def test_next_must_be_a_local_path(
    browsers: Browsers, owner: Browser, next_value: str
) -> None:
    browser = await browsers.new()

    response = await browser.form(
        "/sign-in",
        {"email": "owner@acme.test", "password": PASSWORD, "next": next_value},
        token_from="/sign-in",
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/"


async def test_a_wrong_password_says_so_and_signs_nobody_in(
    browsers: Browsers, owner: Browser
) -> None:
    browser = await browsers.new()

    response = await browser.form(
        "/sign-in", {"email": "owner@acme.test", "password": "nope"}, token_from="/sign-in"
    )

    assert response.status_code == 401
    assert "do not match an account" in response.text
    assert "llmo_session" not in browser.cookies
    assert (await browser.get("/")).status_code == 303


async def test_a_form_without_its_token_is_refused(browsers: Browsers, owner: Browser) -> None:
    browser = await browsers.new()
    await browser.get("/sign-in")

    response = await browser.post_without_token(
        "/sign-in", {"email": "owner@acme.test", "password": PASSWORD}
    )

    assert response.status_code == 403
    assert "llmo_session" not in browser.cookies


async def test_sign_up_validates_beside_each_field(browsers: Browsers, owner: Browser) -> None:
    browser = await browsers.new()

    short = await browser.form(
        "/sign-up", {"email": "new@acme.test", "password": "short"}, token_from="/sign-up"
    )
    taken = await browser.form(
        "/sign-up", {"email": "owner@acme.test", "password": PASSWORD}, token_from="/sign-up"
    )
    malformed = await browser.form(
        "/sign-up", {"email": "not-an-email", "password": PASSWORD}, token_from="/sign-up"
    )

    assert short.status_code == 422
    assert 'id="password-error">Use at least 10 characters.' in short.text
    assert 'value="new@acme.test"' in short.text  # what was typed stays
    assert taken.status_code == 422
    assert 'id="email-error">An account with this email exists' in taken.text
    assert malformed.status_code == 422
    assert 'id="email-error">Must be an email address.' in malformed.text


async def test_sign_up_shows_the_first_key_once_and_signs_in(browsers: Browsers) -> None:
    browser = await browsers.sign_up("new@acme.test", "New Co")

    assert browser.first_key is not None
    assert browser.first_key.startswith("llmo_sk_")
    overview = await browser.get("/")
    assert overview.status_code == 200
    assert "New Co" in overview.text
    assert browser.first_key not in overview.text


async def test_sign_out_ends_the_session(owner: Browser) -> None:
    response = await owner.post("/sign-out", {})

    assert response.status_code == 303
    assert (await owner.get("/")).status_code == 303


async def test_signed_in_visitors_skip_the_sign_in_page(owner: Browser) -> None:
    response = await owner.get("/sign-in?next=/caps")

    assert response.status_code == 303
    assert response.headers["location"] == "/caps"


async def test_password_reset_by_email_link(browsers: Browsers, owner: Browser) -> None:
    browser = await browsers.new()

    sent = await browser.form(
        "/forgot-password",
        {"email": "owner@acme.test", "kind": "reset"},
        token_from="/forgot-password",
    )

    assert sent.status_code == 200
    assert "is on its way" in sent.text
    unknown = await browser.form(
        "/forgot-password",
        {"email": "nobody@acme.test", "kind": "reset"},
        token_from="/forgot-password",
    )
    assert "is on its way" in unknown.text  # the same answer: no account enumeration
    refused = await browser.form(
        "/reset-password",
        {
            "token": "not-a-token",
            "password": "another good password",
            "again": "another good password",
        },
        token_from="/reset-password?token=not-a-token",
    )
    assert refused.status_code == 422
    assert "unknown, used or expired" in refused.text


async def test_with_clerk_configured_the_pages_mount_clerks_components() -> None:
    settings = Settings(
        database_url=MEMORY_DATABASE_URL,
        clerk_publishable_key="pk_test_abc",
        clerk_frontend_api="clerk.example.test",
    )
    app = create_app(Application(settings=settings, infra=infrastructure_for(settings)),
                     run_jobs=False)  # fmt: skip
    async with AsyncTestClient(app=app) as client:
        sign_in = await client.get("/sign-in?next=/caps")
        sign_up = await client.get("/sign-up")

    script = 'src="https://clerk.example.test/npm/@clerk/clerk-js@5/dist/clerk.browser.js"'
    assert script in sign_in.text
    assert 'data-clerk-publishable-key="pk_test_abc"' in sign_in.text
    assert 'data-clerk-component="sign-in" data-redirect="/caps"' in sign_in.text
    assert 'action="/sign-in"' not in sign_in.text
    assert 'data-clerk-component="sign-up"' in sign_up.text
