from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from entrypoints.settings import Settings
from tests.auth.clerk_support import APP_ORIGIN, ISSUER, JwksServer, SigningKey, claims, mint
from tests.auth.http_support import Site, database_url, site
from tests.auth.test_clerk_jwt import forged_tokens
from tests.auth.test_clerk_sync import SECRET, membership_event, signed, user_event

CAP = {"name": "monthly", "scope": "global", "period": "monthly", "limit": "10.00"}


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return SigningKey("kid-1")


def clerk_settings(tmp_path: Path, backend: str, **extra: object) -> Settings:
    options: dict[str, object] = {
        "database_url": database_url(backend, tmp_path),
        "clerk_issuer": ISSUER,
        "clerk_authorized_parties": (APP_ORIGIN,),
        "clerk_webhook_secret": SECRET,
        **extra,
    }
    return Settings(**options)  # type: ignore[arg-type]


@pytest.fixture(params=["memory", "sqlite"])
async def web(
    request: pytest.FixtureRequest, tmp_path: Path, key: SigningKey
) -> AsyncIterator[Site]:
    settings = clerk_settings(tmp_path, request.param, clerk_jwt_key=key.public_pem)
    async with site(settings) as running:
        yield running


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_clerk_token_is_a_member_of_its_organization(web: Site, key: SigningKey) -> None:
    token = mint(key, claims(sub="user_ada", org="org_acme", role="org:admin"))
    me = await web.client.get("/v1/me", headers=bearer(token))
    assert me.status_code == 200, me.text
    body = me.json()
    assert (body["auth"], body["tenant_id"], body["role"]) == ("clerk", "org_acme", "admin")
    created = await web.client.post("/v1/caps", json=CAP, headers=bearer(token))
    assert created.status_code in (200, 201), created.text
    v1 = mint(key, claims(sub="user_ada", org="org_acme", role="org:member", version=1))
    listed = await web.client.get("/v1/caps", headers=bearer(v1))
    assert [c["name"] for c in listed.json()["caps"]] == ["monthly"]
    as_member = await web.client.get("/tenants/org_acme/members", headers=bearer(v1))
    assert {(m["user_id"], m["role"]) for m in as_member.json()["members"]} == {
        ("user_ada", "member")
    }


async def test_hostile_tokens_get_the_same_bare_401(
    web: Site, key: SigningKey, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    other = SigningKey("kid-1")
    answers = set()
    for name, token in forged_tokens(key, other).items():
        if not token:
            continue
        response = await web.client.get("/v1/caps", headers=bearer(token))
        assert response.status_code == 401, (name, response.text)
        answers.add(json.dumps(response.json(), sort_keys=True))
        if len(token) > 20:
            assert token not in caplog.text
    assert len(answers) <= 2  # "authentication required", or the API-key wording for non-JWTs
    for answer in answers:
        assert "expired" not in answer and "signature" not in answer and "azp" not in answer


async def test_the_session_cookie_works_and_needs_csrf_to_write(web: Site, key: SigningKey) -> None:
    token = mint(key, claims(sub="user_ada", org="org_acme", role="org:admin"))
    cookie = {"Cookie": f"__session={token}"}
    assert (await web.client.get("/v1/caps", headers=cookie)).status_code == 200
    assert (await web.client.post("/v1/caps", json=CAP, headers=cookie)).status_code == 401
    double_submit = {
        "Cookie": f"__session={token}; llmo_csrf=abcdefabcdefabcdefabcdef",
        "X-CSRF-Token": "abcdefabcdefabcdefabcdef",
    }
    assert (await web.client.post("/v1/caps", json=CAP, headers=double_submit)).status_code in (
        200,
        201,
    )


async def test_a_stale_clerk_cookie_does_not_mask_a_local_session(
    web: Site, key: SigningKey
) -> None:
    ada = await web.sign_up("ada@example.com")
    expired = mint(key, claims(exp=int(time.time()) - 60))
    headers = {"Cookie": f"__session={expired}; {ada['headers']['Cookie']}"}
    me = await web.client.get("/v1/me", headers=headers)
    assert me.status_code == 200 and me.json()["auth"] == "session"


async def test_the_tenant_header_overrides_the_token_org_only_where_a_member(
    web: Site, key: SigningKey
) -> None:
    acme = mint(key, claims(sub="user_ada", org="org_acme", role="org:admin"))
    await web.client.get("/v1/me", headers=bearer(acme))
    other = mint(key, claims(sub="user_bob", org="org_other", role="org:admin"))
    await web.client.get("/v1/me", headers=bearer(other))
    cross = await web.client.get(
        "/v1/caps", headers={**bearer(acme), "X-LLMObserve-Tenant": "org_other"}
    )
    assert cross.status_code == 404


async def test_webhooks_sync_and_refuse_forgeries_and_replays(web: Site) -> None:
    body, headers = signed(
        membership_event("created", role="org:admin", user_id="user_bob"), msg_id="msg_a"
    )
    applied = await web.client.post("/webhooks/clerk", content=body, headers=headers)
    assert applied.status_code == 200 and applied.json() == {"status": "applied"}
    replay = await web.client.post("/webhooks/clerk", content=body, headers=headers)
    assert replay.status_code == 409
    forged_body, forged_headers = signed(user_event("created", user_id="user_eve"), msg_id="msg_b")
    tampered = forged_body.replace(b"user_eve", b"user_mal")
    refused = await web.client.post("/webhooks/clerk", content=tampered, headers=forged_headers)
    assert refused.status_code == 400
    assert refused.json()["detail"] == "invalid webhook signature"
    async with web.container.infra.accounts_uow_factory()() as uow:
        assert await uow.users.get("user_mal") is None
        assert await uow.users.get("user_eve") is None
        membership = await uow.memberships.get("org_a", "user_bob")
    assert membership is not None and membership.role.value == "admin"
    unsigned = await web.client.post("/webhooks/clerk", content=forged_body)
    assert unsigned.status_code == 400


async def test_webhooks_are_absent_without_a_secret(tmp_path: Path, key: SigningKey) -> None:
    settings = Settings(database_url=database_url("memory", tmp_path))
    async with site(settings) as web:
        body, headers = signed(user_event("created"))
        assert (
            await web.client.post("/webhooks/clerk", content=body, headers=headers)
        ).status_code == 404
        token = mint(key, claims())
        assert (await web.client.get("/v1/me", headers=bearer(token))).status_code == 401


async def test_the_app_fetches_clerk_keys_from_the_jwks_url(
    tmp_path: Path, key: SigningKey
) -> None:
    with JwksServer([key]).running() as jwks:
        settings = clerk_settings(tmp_path, "memory", clerk_jwks_url=jwks.url)
        async with site(settings) as web:
            token = mint(key, claims(sub="user_ada", org="org_acme", role="org:viewer"))
            for _ in range(3):
                me = await web.client.get("/v1/me", headers=bearer(token))
                assert me.status_code == 200 and me.json()["role"] == "viewer"
            assert jwks.fetches == 1
            viewer_write = await web.client.post("/v1/caps", json=CAP, headers=bearer(token))
            assert viewer_write.status_code == 403
