"""The isolation proof (issue 5, item 6).

Tenant B holds one of everything: caps (alert and block), an alert, spend, API keys, a
held reservation, members, an invitation, a child tenant. Tenant A's credentials (a
management key, an ingest key, its owner's session, and a platform key of A reporting on
behalf) then walk every operation of the OpenAPI schema, with every path and query
parameter pointing at B's resources. For each request the same request is also sent
with a made-up id of the same shape: the two answers must be the same (status and body,
the id aside), so nothing tells A that B's resource exists; no answer may contain any of
B's names, emails, key prefixes or amounts; and B's state, read back through B's own
credentials, must be exactly as before.

Runs on SQLite and on PostgreSQL under row-level security (the app connects as the
`llmobserve_app` role, which does not bypass RLS).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from adapters.sql.database import make_engine, row_level_security_enforced
from entrypoints.settings import Settings
from tests.auth.conftest import PostgresDatabase, truncate
from tests.auth.http_support import PASSWORD, Site, database_url, site
from tests.support.postgres import scratch_postgres

WINDOW = {"start": "2026-03-01T00:00:00Z", "end": "2026-04-01T00:00:00Z"}
IDENTIFIERS = ("tenant_id", "cap_id", "key_id", "reservation_id", "user_id", "invitation_id")


@dataclass
class TenantB:
    headers: dict[str, str]  # the owner's session
    key: dict[str, str]  # a management key
    ids: dict[str, str] = field(default_factory=dict)
    markers: list[str] = field(default_factory=list)  # strings only B's data contains


@dataclass
class TenantA:
    tenant_id: str
    user_id: str
    credentials: dict[str, dict[str, str]]


def event(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event_id": str(uuid.uuid4()),
        "occurred_at": "2026-03-14T11:00:00Z",
        "provider": "openai",
        "model": "gpt-4o-2024-08-06",
        "customer_id": "cus_b_secret_customer",
        "agent": "b-secret-agent",
        "usage": {"input_tokens": 2_000_000, "output_tokens": 100_000},
    }
    body.update(overrides)
    return body


async def ok(response: Any, *codes: int) -> dict[str, Any]:
    assert response.status_code in (codes or (200, 201)), response.text
    return response.json() if response.content else {}


async def management_key(web: Site, owner: dict[str, str], name: str) -> dict[str, Any]:
    """Through the API: the app's event loop owns the database connections."""
    response = await web.client.post(
        "/v1/api-keys", headers=owner, json={"name": name, "kind": "management"}
    )
    return await ok(response, 201)


async def build_tenant_b(web: Site) -> TenantB:
    owner = await web.sign_up(
        "bob.owner@b-corp.example", name="Bob Bsecret", tenant_name="B-Corp Secret Holdings"
    )
    tenant_id = owner["tenant"]["id"]
    mgmt = await management_key(web, owner["headers"], "b secret management key")
    b = TenantB(owner["headers"], {"Authorization": f"Bearer {mgmt['key']}"})
    ingest = {"Authorization": f"Bearer {owner['api_key']['key']}"}
    alert_cap = await ok(
        await web.client.post(
            "/v1/caps",
            headers=b.key,
            json={
                "name": "b-secret-alert-cap",
                "scope": "global",
                "period": "monthly",
                "limit": "7.77",
                "recipients": ["finance@b-corp.example"],
            },
        )
    )
    block_cap = await ok(
        await web.client.post(
            "/v1/caps",
            headers=b.key,
            json={
                "name": "b-secret-block-cap",
                "scope": "model",
                "scope_value": "gpt-4o-2024-08-06",
                "period": "daily",
                "limit": "999.00",
                "enforcement": "block",
            },
        )
    )
    await ok(await web.client.post("/v1/events", headers=ingest, json={"events": [event()]}))
    alerts = await ok(await web.client.get("/v1/alerts", headers=b.key))
    assert alerts["alerts"], "B needs an alert for the proof"
    check = await ok(
        await web.client.post(
            "/v1/caps/check",
            headers=ingest,
            json={
                "provider": "openai",
                "model": "gpt-4o-2024-08-06",
                "estimated_cost": "1.234567",
            },
        )
    )
    assert check["allowed"] and check["reservation_id"]
    member = await web.client.post(
        f"/tenants/{tenant_id}/members",
        headers=b.headers,
        json={"email": "carol.member@b-corp.example", "role": "viewer"},
    )
    invitation = (await ok(member))["id"]
    token = web.mailbox.token_in_last("carol.member@b-corp.example")
    carol = await web.sign_up(
        "carol.member@b-corp.example", invitation_token=token, name="Carol Bsecret"
    )
    pending = await ok(
        await web.client.post(
            f"/tenants/{tenant_id}/members",
            headers=b.headers,
            json={"email": "dave.pending@b-corp.example", "role": "member"},
        ),
        201,
    )
    child = await ok(
        await web.client.post(
            "/tenants",
            headers=b.headers,
            json={"name": "B-Corp Secret Child", "parent_tenant_id": tenant_id},
        ),
        201,
    )
    b.ids = {
        "tenant_id": tenant_id,
        "cap_id": alert_cap["id"],
        "block_cap_id": block_cap["id"],
        "alert_id": alerts["alerts"][0]["id"],
        "key_id": mgmt["id"],
        "reservation_id": check["reservation_id"],
        "user_id": carol["user"]["id"],
        "owner_id": owner["user"]["id"],
        "invitation_id": pending["id"],
        "child_tenant_id": child["id"],
        "ingest_secret": owner["api_key"]["key"],
    }
    assert invitation
    b.markers = [
        "B-Corp Secret",
        "Bsecret",
        "b-corp.example",
        "b-secret",
        "cus_b_secret_customer",
        "7.770000",
        "1.234567",
        mgmt["prefix"],
        owner["api_key"]["prefix"],
        alert_cap["id"],
        block_cap["id"],
        alerts["alerts"][0]["id"],
        mgmt["id"],
        check["reservation_id"],
        carol["user"]["id"],
        owner["user"]["id"],
        pending["id"],
        child["id"],
        tenant_id,
    ]
    return b


async def build_tenant_a(web: Site) -> TenantA:
    owner = await web.sign_up("alice@a-corp.example", tenant_name="A-Corp")
    tenant_id = owner["tenant"]["id"]
    mgmt = await management_key(web, owner["headers"], "a management")
    return TenantA(
        tenant_id,
        owner["user"]["id"],
        {
            "management key": {"Authorization": f"Bearer {mgmt['key']}"},
            "ingest key": {"Authorization": f"Bearer {owner['api_key']['key']}"},
            "owner session": owner["headers"],
            "owner session naming B": {**owner["headers"], "X-LLMObserve-Tenant": "<tenant_id>"},
        },
    )


def ghost_of(value: str) -> str:
    """A made-up id of the same shape: same prefix, same length, never issued."""
    prefix, _, rest = value.rpartition("_")
    return f"{prefix}_{'0' * (len(rest) - 4)}dead" if prefix else "0" * (len(value) - 4) + "dead"


def bodies(a: TenantA, target: dict[str, str]) -> dict[tuple[str, str], Any]:
    """A valid body per operation, aimed at B wherever a body can name B."""
    return {
        ("post", "/v1/events"): {"events": [event(tenant_id=target["tenant_id"])]},
        ("post", "/v1/caps/check"): {
            "provider": "openai",
            "model": "gpt-4o-2024-08-06",
            "estimated_cost": "0.01",
        },
        ("post", "/v1/reservations/{reservation_id}/settle"): {"actual_cost": "0.01"},
        ("post", "/v1/caps"): {
            "name": "a-cap",
            "scope": "global",
            "period": "daily",
            "limit": "1.00",
        },
        ("patch", "/v1/caps/{cap_id}"): {"name": "hijacked", "limit": "0.01"},
        ("post", "/v1/api-keys"): {"name": "a-key"},
        ("post", "/tenants"): {"name": "a-child", "parent_tenant_id": target["tenant_id"]},
        ("patch", "/tenants/{tenant_id}"): {"name": "hijacked"},
        ("post", "/tenants/{tenant_id}/members"): {
            "email": "mallory@a-corp.example",
            "role": "owner",
        },
        ("patch", "/tenants/{tenant_id}/members/{user_id}"): {"role": "owner"},
        ("post", "/auth/sign-in"): {"email": target["email"], "password": "not-the-password"},
        ("post", "/auth/password-reset"): {"email": target["email"]},
        ("post", "/auth/magic-link"): {"email": target["email"]},
        ("post", "/auth/password-reset/confirm"): {"token": target["token"], "password": PASSWORD},
        ("post", "/auth/magic-link/verify"): {"token": target["token"]},
        ("post", "/auth/invitations/accept"): {"token": target["token"]},
    }


# Operations a tenant-A probe must not run, and why.
SKIPPED = {
    ("post", "/auth/sign-up"): "makes a new account; email existence is checked on its own below",
    ("post", "/auth/sign-out"): "would end A's session mid-walk; it touches no tenant data",
}


def substitute(path: str, target: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: target[m.group(1)], path)


def query_for(operation: dict[str, Any], target: dict[str, str]) -> dict[str, str]:
    query: dict[str, str] = {}
    for parameter in operation.get("parameters", []):
        if parameter.get("in") != "query":
            continue
        name = parameter["name"]
        if name in target:
            query[name] = target[name]
        elif name in WINDOW:
            query[name] = WINDOW[name]
    return query


def headers_for(headers: dict[str, str], target: dict[str, str]) -> dict[str, str]:
    return {k: v.replace("<tenant_id>", target["tenant_id"]) for k, v in headers.items()}


def normalised(text: str, target: dict[str, str]) -> str:
    for name in sorted(target, key=lambda n: -len(target[n])):
        text = text.replace(target[name], f"<{name}>")
    # What A's own creations make fresh each time (ids, key secrets) says nothing of B.
    text = re.sub(
        r'"(event_id|id|reservation_id|prefix|expires_at)":"[^"]*"', r'"\1":"<fresh>"', text
    )
    return re.sub(r"llmo_sk_[A-Za-z0-9_\-]+", "llmo_sk_<fresh>", text)


async def snapshot(web: Site, b: TenantB) -> str:
    """Everything B can read about itself, minus fields B's own reads move."""
    tenant = b.ids["tenant_id"]
    parts = []
    for path, params in [
        ("/v1/caps", None),
        ("/v1/alerts", None),
        ("/v1/api-keys", None),
        ("/v1/spend/summary", WINDOW),
        ("/v1/caps/blocked", None),
    ]:
        response = await web.client.get(path, headers=b.key, params=params)
        parts.append(f"{path} {response.status_code} {response.text}")
    for path in (
        f"/tenants/{tenant}",
        f"/tenants/{tenant}/members",
        f"/tenants/{tenant}/invitations",
        "/tenants",
    ):
        response = await web.client.get(path, headers=b.headers)
        parts.append(f"{path} {response.status_code} {response.text}")
    text = "\n".join(parts)
    return re.sub(r'"last_used_at":"[^"]*"', '"last_used_at":"<t>"', text)


async def prove_isolation(web: Site) -> int:
    b = await build_tenant_b(web)
    a = await build_tenant_a(web)
    before = await snapshot(web, b)
    schema = (await web.client.get("/schema/openapi.json")).json()
    real = {**b.ids, "email": "bob.owner@b-corp.example", "token": "b" * 43}
    ghost = {name: ghost_of(value) for name, value in real.items()}
    ghost["email"], ghost["token"] = "nobody@nowhere.example", "g" * 43
    probes = 0
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            if (method, path) in SKIPPED:
                continue
            for who, credentials in a.credentials.items():
                answers = []
                for target in (real, ghost):
                    response = await web.client.request(
                        method.upper(),
                        substitute(path, target),
                        params=query_for(operation, target),
                        json=bodies(a, target).get((method, path)),
                        headers=headers_for(credentials, target),
                    )
                    web.client.cookies.clear()
                    answers.append((response.status_code, normalised(response.text, target)))
                    for marker in b.markers:
                        assert marker not in response.text, (who, method, path, marker)
                    if any(f"{{{name}}}" in path for name in IDENTIFIERS):
                        assert response.status_code not in range(200, 300), (
                            who,
                            method,
                            path,
                            response.status_code,
                            response.text,
                        )
                assert answers[0] == answers[1], (who, method, path, answers)
                probes += 1
    after = await snapshot(web, b)
    assert after == before
    # The same walk's questions, from a credential of A, asked with B's tenant named in
    # the header of every collection route, already ran above ("owner session naming B").
    return probes


async def check_the_walk_covers_the_schema(web: Site) -> None:
    schema = (await web.client.get("/schema/openapi.json")).json()
    operations = {
        (m, p)
        for p, item in schema["paths"].items()
        for m in item
        if m in {"get", "post", "put", "patch", "delete"}
    }
    assert {
        ("get", "/v1/caps/{cap_id}"),
        ("delete", "/v1/api-keys/{key_id}"),
        ("post", "/v1/reservations/{reservation_id}/settle"),
        ("get", "/tenants/{tenant_id}"),
        ("delete", "/tenants/{tenant_id}/members/{user_id}"),
        ("get", "/v1/alerts"),
        ("delete", "/tenants/{tenant_id}/invitations/{invitation_id}"),
    } <= operations
    assert set(SKIPPED) <= operations


@pytest.fixture
async def sqlite_site(tmp_path: Path) -> AsyncIterator[Site]:
    async with site(Settings(database_url=database_url("sqlite", tmp_path))) as web:
        yield web


async def test_tenant_a_learns_nothing_of_tenant_b_on_sqlite(sqlite_site: Site) -> None:
    await check_the_walk_covers_the_schema(sqlite_site)
    probes = await prove_isolation(sqlite_site)
    assert probes >= 4 * 25


async def test_sign_up_is_the_one_place_an_email_shows_it_has_an_account(
    sqlite_site: Site,
) -> None:
    """Documented (docs/auth.md): sign-up says an email is taken, as most products do.
    It says nothing of tenants, and every other route answers alike for known emails."""
    await sqlite_site.sign_up("bob.owner@b-corp.example")
    taken = await sqlite_site.client.post(
        "/auth/sign-up", json={"email": "bob.owner@b-corp.example", "password": PASSWORD}
    )
    assert taken.status_code == 409
    assert "b-corp" not in taken.text.replace("bob.owner@b-corp.example", "")


@pytest.fixture(scope="module")
def isolation_postgres() -> Iterator[PostgresDatabase]:
    with scratch_postgres("isolation") as database:
        yield database


@pytest.mark.postgres
async def test_tenant_a_learns_nothing_of_tenant_b_on_postgres_with_rls(
    isolation_postgres: PostgresDatabase,
) -> None:
    await truncate(isolation_postgres)
    settings = Settings(
        database_url=isolation_postgres.app_url, migration_database_url=isolation_postgres.owner_url
    )
    engine = make_engine(isolation_postgres.app_url)
    try:
        assert await row_level_security_enforced(engine)  # the app's role is held to RLS
    finally:
        await engine.dispose()
    async with site(settings) as web:
        probes = await prove_isolation(web)
        assert probes >= 4 * 25


def test_ghost_ids_keep_the_shape() -> None:
    assert ghost_of("cap_0193abcdef12") == "cap_00000000dead"
    assert len(ghost_of("ten_0001")) == len("ten_0001")
    assert json.dumps(ghost_of("x" * 10))
