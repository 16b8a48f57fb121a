from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from domain.tenants import KeyKind
from entrypoints.settings import Settings
from tests.auth.http_support import PASSWORD, Site, database_url, site

CAP = {"name": "monthly", "scope": "global", "period": "monthly", "limit": "10.00"}


@pytest.fixture(params=["memory", "sqlite"])
async def web(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Site]:
    settings = Settings(database_url=database_url(request.param, tmp_path))
    async with site(settings) as running:
        yield running


def cookie_attributes(response: Any, name: str) -> str:
    headers = [v for k, v in response.headers.multi_items() if k.lower() == "set-cookie"]
    return next(h for h in headers if h.startswith(f"{name}="))


async def test_sign_up_sets_a_session_cookie_and_shows_the_key_once(web: Site) -> None:
    response = await web.client.post(
        "/auth/sign-up", json={"email": "ada@example.com", "password": PASSWORD, "name": "Ada"}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["user"]["email"] == "ada@example.com"
    assert body["tenant"]["role"] == "owner"
    assert body["api_key"]["key"].startswith("llmo_sk_")
    assert len(body["api_key"]["key"]) >= len("llmo_sk_") + 43  # >= 32 random bytes
    session = cookie_attributes(response, "llmo_session")
    assert "HttpOnly" in session and "SameSite=lax" in session.replace("Lax", "lax")
    assert "Secure" not in session  # plain http in this test
    assert response.cookies["llmo_session"] not in response.text
    csrf = cookie_attributes(response, "llmo_csrf")
    assert "HttpOnly" not in csrf and body["csrf_token"] in csrf


async def test_cookies_are_secure_behind_tls(web: Site) -> None:
    response = await web.client.post(
        "/auth/sign-up",
        json={"email": "ada@example.com", "password": PASSWORD},
        headers={"X-Forwarded-Proto": "https"},
    )
    assert "Secure" in cookie_attributes(response, "llmo_session")


async def test_a_session_reads_freely_but_writes_only_with_its_csrf_token(web: Site) -> None:
    ada = await web.sign_up("ada@example.com")
    cookie = {"Cookie": ada["headers"]["Cookie"]}
    me = await web.client.get("/v1/me", headers=cookie)
    assert me.status_code == 200, me.text
    assert me.json()["auth"] == "session" and me.json()["role"] == "owner"
    assert me.json()["tenant_id"] == ada["tenant"]["id"]
    forged = await web.client.post("/v1/caps", json=CAP, headers=cookie)
    assert forged.status_code == 401
    wrong = await web.client.post(
        "/v1/caps", json=CAP, headers={**cookie, "X-CSRF-Token": "x" * 64}
    )
    assert wrong.status_code == 401
    ok = await web.client.post("/v1/caps", json=CAP, headers=ada["headers"])
    assert ok.status_code in (200, 201), ok.text
    listed = await web.client.get("/v1/caps", headers=cookie)
    assert [c["name"] for c in listed.json()["caps"]] == ["monthly"]


async def test_bad_credentials_get_one_bare_401(web: Site) -> None:
    await web.sign_up("ada@example.com")
    bodies = []
    for email, password in [
        ("ada@example.com", "wrong password!!"),
        ("nobody@example.com", PASSWORD),
        ("not an email", PASSWORD),
    ]:
        response = await web.client.post(
            "/auth/sign-in", json={"email": email, "password": password}
        )
        assert response.status_code == 401
        bodies.append(response.json())
    assert bodies[0] == bodies[1] == bodies[2]
    assert bodies[0]["detail"] == "authentication required"
    for cookie in ("llmo_session=nonsense", "llmo_session=" + "a" * 300):
        assert (await web.client.get("/v1/me", headers={"Cookie": cookie})).status_code == 401


async def test_repeated_failures_are_slowed_with_retry_after(web: Site) -> None:
    await web.sign_up("ada@example.com")
    for _ in range(5):
        await web.client.post(
            "/auth/sign-in", json={"email": "ada@example.com", "password": "nope nope nope"}
        )
    throttled = await web.client.post(
        "/auth/sign-in", json={"email": "ada@example.com", "password": PASSWORD}
    )
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "1"
    web.clock.advance(seconds=1)
    assert (
        await web.client.post(
            "/auth/sign-in", json={"email": "ada@example.com", "password": PASSWORD}
        )
    ).status_code == 200


async def test_sign_out_ends_the_session_everywhere(web: Site) -> None:
    ada = await web.sign_up("ada@example.com")
    out = await web.client.post("/auth/sign-out", headers=ada["headers"])
    assert out.status_code == 204
    assert "Max-Age=0" in cookie_attributes(out, "llmo_session")
    web.client.cookies.clear()
    assert (
        await web.client.get("/v1/me", headers={"Cookie": ada["headers"]["Cookie"]})
    ).status_code == 401


async def test_sign_out_needs_the_csrf_token(web: Site) -> None:
    ada = await web.sign_up("ada@example.com")
    refused = await web.client.post("/auth/sign-out", headers={"Cookie": ada["headers"]["Cookie"]})
    assert refused.status_code == 401
    web.client.cookies.clear()
    assert (
        await web.client.get("/v1/me", headers={"Cookie": ada["headers"]["Cookie"]})
    ).status_code == 200


async def test_password_reset_and_magic_link_by_mail(web: Site) -> None:
    await web.sign_up("ada@example.com")
    asked = await web.client.post("/auth/password-reset", json={"email": "ada@example.com"})
    unknown = await web.client.post("/auth/password-reset", json={"email": "eve@example.com"})
    assert asked.status_code == unknown.status_code == 202
    assert asked.json() == unknown.json()
    assert len(web.mailbox.sent) == 1
    token = web.mailbox.token_in_last("ada@example.com")
    assert "http://testserver/reset-password?token=" in web.mailbox.sent[-1].text
    reset = await web.client.post(
        "/auth/password-reset/confirm", json={"token": token, "password": "a whole new passphrase"}
    )
    assert reset.status_code == 200
    again = await web.client.post(
        "/auth/password-reset/confirm", json={"token": token, "password": "yet another passphrase"}
    )
    assert again.status_code == 401
    await web.client.post("/auth/magic-link", json={"email": "ada@example.com"})
    link = web.mailbox.token_in_last("ada@example.com")
    web.client.cookies.clear()
    signed = await web.client.post("/auth/magic-link/verify", json={"token": link})
    assert signed.status_code == 200 and signed.json()["user"]["email_verified"] is True
    assert (
        await web.client.post("/auth/magic-link/verify", json={"token": link})
    ).status_code == 401


async def test_a_person_in_two_tenants_names_one_per_request(web: Site) -> None:
    ada = await web.sign_up("ada@example.com")
    second = await web.client.post(
        "/tenants",
        json={"name": "Second", "default_timezone": "Europe/Paris"},
        headers=ada["headers"],
    )
    assert second.status_code == 201, second.text
    assert second.json()["role"] == "owner"
    both = await web.client.get("/tenants", headers=ada["headers"])
    assert sorted(t["name"] for t in both.json()["tenants"]) == ["Second", "ada@example.com's team"]
    unsure = await web.client.get("/v1/caps", headers=ada["headers"])
    assert unsure.status_code == 400 and "X-LLMObserve-Tenant" in unsure.json()["detail"]
    chosen = {**ada["headers"], "X-LLMObserve-Tenant": second.json()["id"]}
    created = await web.client.post("/v1/caps", json=CAP, headers=chosen)
    assert created.status_code in (200, 201)
    first = {**ada["headers"], "X-LLMObserve-Tenant": ada["tenant"]["id"]}
    assert (await web.client.get("/v1/caps", headers=first)).json()["caps"] == []
    by_cookie = {"Cookie": ada["headers"]["Cookie"] + f"; llmo_tenant={second.json()['id']}"}
    assert len((await web.client.get("/v1/caps", headers=by_cookie)).json()["caps"]) == 1
    me = await web.client.get("/v1/me", headers=ada["headers"])
    assert me.json()["tenant_id"] is None and len(me.json()["tenants"]) == 2


async def test_members_are_invited_by_email_and_managed_by_role(web: Site) -> None:
    ada = await web.sign_up("ada@example.com")
    tenant = ada["tenant"]["id"]
    invited = await web.client.post(
        f"/tenants/{tenant}/members",
        json={"email": "bob@example.com", "role": "admin"},
        headers=ada["headers"],
    )
    assert invited.status_code == 201, invited.text
    token = web.mailbox.token_in_last("bob@example.com")
    assert "http://testserver/invitation?token=" in web.mailbox.sent[-1].text
    bob = await web.sign_up("bob@example.com", invitation_token=token)
    assert bob["tenant"] is None and bob["api_key"] is None
    members = await web.client.get(f"/tenants/{tenant}/members", headers=ada["headers"])
    assert {(m["email"], m["role"]) for m in members.json()["members"]} == {
        ("ada@example.com", "owner"),
        ("bob@example.com", "admin"),
    }
    bob_id = bob["user"]["id"]
    no_owner = await web.client.post(
        f"/tenants/{tenant}/members",
        json={"email": "carol@example.com", "role": "owner"},
        headers=bob["headers"],
    )
    assert no_owner.status_code == 422
    demote_owner = await web.client.patch(
        f"/tenants/{tenant}/members/{ada['user']['id']}",
        json={"role": "viewer"},
        headers=bob["headers"],
    )
    assert demote_owner.status_code == 422
    rename = await web.client.patch(
        f"/tenants/{tenant}", json={"name": "x"}, headers=bob["headers"]
    )
    assert rename.status_code == 403
    demoted = await web.client.patch(
        f"/tenants/{tenant}/members/{bob_id}", json={"role": "viewer"}, headers=ada["headers"]
    )
    assert demoted.status_code == 200 and demoted.json()["role"] == "viewer"
    as_viewer = await web.client.post("/v1/caps", json=CAP, headers=bob["headers"])
    assert as_viewer.status_code == 403  # the changed role applies on the very next request
    removed = await web.client.delete(f"/tenants/{tenant}/members/{bob_id}", headers=ada["headers"])
    assert removed.status_code == 204
    gone = await web.client.get(f"/tenants/{tenant}", headers=bob["headers"])
    assert gone.status_code == 404


async def test_api_keys_see_their_tenant_only_and_make_no_tenants(web: Site) -> None:
    ada = await web.sign_up("ada@example.com")
    bob = await web.sign_up("bob@example.com")
    key = await web.container.api_keys().issue(ada["tenant"]["id"], "mgmt", KeyKind.MANAGEMENT)
    auth = {"Authorization": f"Bearer {key.secret}"}
    listed = await web.client.get("/tenants", headers=auth)
    assert [t["id"] for t in listed.json()["tenants"]] == [ada["tenant"]["id"]]
    assert (
        await web.client.get(f"/tenants/{bob['tenant']['id']}", headers=auth)
    ).status_code == 404
    assert (await web.client.post("/tenants", json={"name": "x"}, headers=auth)).status_code == 403
    me = await web.client.get("/v1/me", headers=auth)
    assert me.json()["auth"] == "api_key" and me.json()["tenant_id"] == ada["tenant"]["id"]
    assert "manage_members" not in me.json()["permissions"]


async def test_a_revoked_key_fails_on_the_next_request(web: Site) -> None:
    ada = await web.sign_up("ada@example.com")
    key = await web.container.api_keys().issue(ada["tenant"]["id"], "mgmt", KeyKind.MANAGEMENT)
    auth = {"Authorization": f"Bearer {key.secret}"}
    assert (await web.client.get("/v1/caps", headers=auth)).status_code == 200
    revoked = await web.client.delete(
        f"/v1/api-keys/{key.key.id}",
        headers=ada["headers"] | {"X-LLMObserve-Tenant": ada["tenant"]["id"]},
    )
    assert revoked.status_code in (200, 204), revoked.text
    assert (await web.client.get("/v1/caps", headers=auth)).status_code == 401


async def test_no_secret_reaches_a_log_line(web: Site, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    ada = await web.sign_up("ada@example.com")
    await web.client.post(
        "/auth/sign-in", json={"email": "ada@example.com", "password": "wrong!wrong!"}
    )
    await web.client.get("/v1/me", headers={"Authorization": "Bearer llmo_sk_" + "x" * 43})
    await web.client.get("/v1/me", headers={"Authorization": "Bearer a.b.c"})
    await web.client.post("/v1/caps", json=CAP, headers={"Cookie": ada["headers"]["Cookie"]})
    logged = caplog.text
    session = ada["headers"]["Cookie"].split("=", 1)[1]
    for secret in (
        PASSWORD,
        "wrong!wrong!",
        ada["api_key"]["key"],
        session,
        "x" * 43,
        ada["csrf_token"],
    ):
        assert secret not in logged
    assert "auth refused" in logged


async def test_sign_up_can_be_closed_to_strangers(tmp_path: Path) -> None:
    settings = Settings(database_url=database_url("memory", tmp_path), sign_up_open=False)
    async with site(settings) as web:
        refused = await web.client.post(
            "/auth/sign-up", json={"email": "a@example.com", "password": PASSWORD}
        )
        assert refused.status_code == 403


async def test_local_accounts_can_be_switched_off(tmp_path: Path) -> None:
    settings = Settings(database_url=database_url("memory", tmp_path), local_accounts=False)
    async with site(settings) as web:
        refused = await web.client.post(
            "/auth/sign-up", json={"email": "a@example.com", "password": PASSWORD}
        )
        assert refused.status_code == 404


async def test_each_key_is_rate_limited(tmp_path: Path) -> None:
    settings = Settings(
        database_url=database_url("memory", tmp_path),
        api_key_rate_burst=3,
        api_key_rate_per_second=0.5,
    )
    async with site(settings) as web:
        first = await web.container.api_keys().issue("t1", "one", KeyKind.MANAGEMENT)
        other = await web.container.api_keys().issue("t1", "two", KeyKind.MANAGEMENT)
        auth = {"Authorization": f"Bearer {first.secret}"}
        codes = [(await web.client.get("/v1/caps", headers=auth)).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        limited = await web.client.get("/v1/caps", headers=auth)
        assert limited.headers["Retry-After"] == "2"
        assert limited.json()["status_code"] == 429
        other_auth = {"Authorization": f"Bearer {other.secret}"}
        assert (await web.client.get("/v1/caps", headers=other_auth)).status_code == 200


async def test_cap_checks_have_a_bucket_of_their_own_per_key(tmp_path: Path) -> None:
    """A hard-block app checks caps before every LLM call: its check must not be refused
    because the same key also sent events and reports."""
    settings = Settings(
        database_url=database_url("memory", tmp_path),
        api_key_rate_burst=2,
        api_key_rate_per_second=0.5,
        cap_check_rate_burst=4,
        cap_check_rate_per_second=0.5,
    )
    check = {"provider": "openai", "model": "gpt-4o", "estimated_usage": {"input_tokens": 10}}
    async with site(settings) as web:
        key = await web.container.api_keys().issue("t1", "app", KeyKind.INGEST)
        auth = {"Authorization": f"Bearer {key.secret}"}
        sent = [
            (
                await web.client.post("/v1/events", json={"events": [wire_event()]}, headers=auth)
            ).status_code
            for _ in range(3)
        ]
        assert sent == [200, 200, 429]  # the key's general bucket is empty
        checks = [
            (await web.client.post("/v1/caps/check", json=check, headers=auth)).status_code
            for _ in range(5)
        ]
        assert checks == [200, 200, 200, 200, 429]  # its own bucket, with its own limit
        limited = await web.client.post("/v1/caps/check", json=check, headers=auth)
        assert limited.json()["status_code"] == 429
        assert limited.headers["Retry-After"] == "2"
        # The other bucket is still empty: checks spent nothing of it, nor it of them.
        again = await web.client.post("/v1/events", json={"events": [wire_event()]}, headers=auth)
        assert again.status_code == 429


async def test_a_zero_cap_check_rate_turns_that_limit_off(tmp_path: Path) -> None:
    settings = Settings(
        database_url=database_url("memory", tmp_path),
        api_key_rate_burst=1,
        api_key_rate_per_second=0.5,
        cap_check_rate_per_second=0,
    )
    check = {"provider": "openai", "model": "gpt-4o"}
    async with site(settings) as web:
        key = await web.container.api_keys().issue("t1", "app", KeyKind.INGEST)
        auth = {"Authorization": f"Bearer {key.secret}"}
        codes = {
            (await web.client.post("/v1/caps/check", json=check, headers=auth)).status_code
            for _ in range(20)
        }
        assert codes == {200}


def wire_event(**overrides: Any) -> dict[str, Any]:
    """gpt-4o, 1200 in / 300 out: $0.006000, an hour before the test clock's now."""
    body: dict[str, Any] = {
        "event_id": str(uuid.uuid4()),
        "occurred_at": "2026-03-14T11:00:00Z",
        "provider": "openai",
        "model": "gpt-4o-2024-08-06",
        "usage": {"input_tokens": 1200, "output_tokens": 300},
    }
    body.update(overrides)
    return body


async def test_a_platform_key_reports_for_its_child_tenants_only(web: Site) -> None:
    ada = await web.sign_up("ada@example.com")
    platform = ada["tenant"]["id"]
    child = await web.client.post(
        "/tenants",
        json={"name": "Customer One", "parent_tenant_id": platform},
        headers=ada["headers"],
    )
    assert child.status_code == 201 and child.json()["parent_tenant_id"] == platform
    stranger = (await web.sign_up("eve@example.com"))["tenant"]["id"]
    key = {"Authorization": f"Bearer {ada['api_key']['key']}"}  # the platform's ingest key
    batch = {
        "events": [
            wire_event(tenant_id=child.json()["id"]),
            wire_event(),
            wire_event(tenant_id=stranger),
            wire_event(tenant_id="ten_does_not_exist"),
        ]
    }
    response = await web.client.post("/v1/events", json=batch, headers=key)
    assert response.status_code == 207, response.text
    body = response.json()
    assert body["accepted"] == 2
    assert [(r["index"], r["field"]) for r in body["rejected"]] == [
        (2, "tenant_id"),
        (3, "tenant_id"),
    ]
    assert body["rejected"][0]["error"] == body["rejected"][1]["error"]  # no existence leak
    owner_of = {**ada["headers"]}
    child_spend = await web.client.get(
        "/v1/spend/summary",
        headers={**owner_of, "X-LLMObserve-Tenant": child.json()["id"]},
        params={"start": "2026-03-14T00:00:00Z", "end": "2026-03-15T00:00:00Z"},
    )
    assert child_spend.status_code == 200, child_spend.text
    assert "0.006000" in child_spend.text
    child_key = await web.container.api_keys().issue(child.json()["id"], "sdk", KeyKind.INGEST)
    upward = await web.client.post(
        "/v1/events",
        json={"events": [wire_event(tenant_id=platform)]},
        headers={"Authorization": f"Bearer {child_key.secret}"},
    )
    assert upward.status_code == 422
