from __future__ import annotations

import base64
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from svix.webhooks import Webhook

from adapters.auth.svix_webhooks import SvixWebhookVerifier
from application.auth_ports import ExternalIdentity, WebhookMessage
from application.clerk_sync import SyncOutcome, clerk_role
from domain.access import Role
from domain.tenants import KeyKind
from tests.auth.conftest import World

SECRET = "whsec_" + base64.b64encode(b"a test secret of 32 bytes length").decode()


def signed(
    payload: dict[str, Any], msg_id: str = "msg_1", at: datetime | None = None, secret: str = SECRET
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload)
    at = at or datetime.now(UTC)
    signature = Webhook(secret).sign(msg_id, at, body)
    headers = {
        "svix-id": msg_id,
        "svix-timestamp": str(int(at.timestamp())),
        "svix-signature": signature,
    }
    return body.encode(), headers


def user_event(kind: str, user_id: str = "user_ada", email: str = "ada@example.com") -> dict:
    return {
        "type": f"user.{kind}",
        "object": "event",
        "data": {
            "id": user_id,
            "object": "user",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "primary_email_address_id": "idn_2",
            "email_addresses": [
                {"id": "idn_1", "email_address": "old@example.com"},
                {"id": "idn_2", "email_address": email},
            ],
        },
    }


def membership_event(kind: str, role: str = "org:member", user_id: str = "user_bob") -> dict:
    return {
        "type": f"organizationMembership.{kind}",
        "object": "event",
        "data": {
            "id": "orgmem_1",
            "object": "organization_membership",
            "role": role,
            "organization": {"id": "org_a", "name": "Acme", "slug": "acme"},
            "public_user_data": {
                "user_id": user_id,
                "identifier": "bob@example.com",
                "first_name": "Bob",
                "last_name": None,
            },
        },
    }


@pytest.fixture
def verifier() -> SvixWebhookVerifier:
    return SvixWebhookVerifier(SECRET)


def test_a_well_signed_message_is_read(verifier: SvixWebhookVerifier) -> None:
    body, headers = signed(user_event("created"))
    message = verifier.verify(body, headers)
    assert message is not None
    assert (message.id, message.type, message.data["id"]) == ("msg_1", "user.created", "user_ada")


def test_header_names_are_case_insensitive(verifier: SvixWebhookVerifier) -> None:
    body, headers = signed(user_event("created"))
    assert verifier.verify(body, {k.upper(): v for k, v in headers.items()}) is not None


@pytest.mark.parametrize(
    "case",
    [
        "tampered body",
        "other secret",
        "stale",
        "from the future",
        "no signature",
        "no id",
        "other id",
        "not json",
    ],
)
def test_bad_or_stale_signatures_are_refused(
    verifier: SvixWebhookVerifier, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    body, headers = signed(user_event("created"))
    match case:
        case "tampered body":
            body = body.replace(b"ada@example.com", b"eve@example.com")
        case "other secret":
            other = "whsec_" + base64.b64encode(b"another secret, also 32 bytes!!!").decode()
            body, headers = signed(user_event("created"), secret=other)
        case "stale":
            body, headers = signed(
                user_event("created"), at=datetime.now(UTC) - timedelta(minutes=6)
            )
        case "from the future":
            body, headers = signed(
                user_event("created"), at=datetime.now(UTC) + timedelta(minutes=6)
            )
        case "no signature":
            del headers["svix-signature"]
        case "no id":
            del headers["svix-id"]
        case "other id":
            headers["svix-id"] = "msg_2"
        case "not json":
            at = datetime.now(UTC)
            headers = {
                "svix-id": "msg_1",
                "svix-timestamp": str(int(at.timestamp())),
                "svix-signature": Webhook(SECRET).sign("msg_1", at, "not json"),
            }
            body = b"not json"
    assert verifier.verify(body, headers) is None
    assert "clerk webhook refused" in caplog.text
    assert SECRET not in caplog.text


@pytest.mark.parametrize(
    ("key", "role"),
    [
        ("org:admin", Role.ADMIN),
        ("admin", Role.ADMIN),
        ("org:member", Role.MEMBER),
        ("org:owner", Role.OWNER),
        ("org:viewer", Role.VIEWER),
        ("org:billing", Role.VIEWER),
        (None, Role.VIEWER),
        ("ORG:ADMIN", Role.ADMIN),
    ],
)
def test_clerk_roles_map_to_ours_least_privilege_by_default(key: str | None, role: Role) -> None:
    assert clerk_role(key) is role


async def test_user_events_keep_users_in_sync(world: World) -> None:
    assert (
        await world.clerk.apply(WebhookMessage("m1", "user.created", user_event("created")["data"]))
        is SyncOutcome.APPLIED
    )
    user = await world.user("user_ada")
    assert user is not None
    assert (user.email, user.name, user.platform_admin) == (
        "ada@example.com",
        "Ada Lovelace",
        False,
    )
    await world.clerk.apply(
        WebhookMessage("m2", "user.updated", user_event("updated", email="ada@new.example")["data"])
    )
    assert (await world.user("user_ada")).email == "ada@new.example"
    await world.clerk.apply(
        WebhookMessage(
            "m3",
            "organizationMembership.created",
            membership_event("created", user_id="user_ada")["data"],
        )
    )
    assert await world.membership("org_a", "user_ada") is not None
    await world.clerk.apply(
        WebhookMessage("m4", "user.deleted", {"id": "user_ada", "deleted": True})
    )
    assert await world.user("user_ada") is None
    assert await world.membership("org_a", "user_ada") is None


async def test_organization_and_membership_events_shape_tenants(world: World) -> None:
    await world.clerk.apply(
        WebhookMessage(
            "m1", "organization.created", {"id": "org_a", "name": "Acme", "slug": "acme"}
        )
    )
    assert (await world.tenant("org_a")).name == "Acme"
    await world.clerk.apply(
        WebhookMessage("m2", "organization.updated", {"id": "org_a", "name": "Acme Inc"})
    )
    assert (await world.tenant("org_a")).name == "Acme Inc"
    await world.clerk.apply(
        WebhookMessage("m3", "organizationMembership.created", membership_event("created")["data"])
    )
    membership = await world.membership("org_a", "user_bob")
    assert membership is not None and membership.role is Role.MEMBER
    await world.clerk.apply(
        WebhookMessage(
            "m4", "organizationMembership.updated", membership_event("updated", "org:admin")["data"]
        )
    )
    assert (await world.membership("org_a", "user_bob")).role is Role.ADMIN
    await world.clerk.apply(
        WebhookMessage("m5", "organizationMembership.deleted", membership_event("deleted")["data"])
    )
    assert await world.membership("org_a", "user_bob") is None


async def test_a_deleted_organization_loses_members_and_keys(world: World) -> None:
    await world.clerk.apply(
        WebhookMessage("m1", "organizationMembership.created", membership_event("created")["data"])
    )
    key = await world.api_keys.issue("org_a", "sdk", KeyKind.INGEST)
    assert await world.api_keys.authenticate(key.secret) is not None
    await world.clerk.apply(
        WebhookMessage("m2", "organization.deleted", {"id": "org_a", "deleted": True})
    )
    assert await world.memberships_of("user_bob") == []
    assert await world.api_keys.authenticate(key.secret) is None


async def test_a_replayed_message_writes_nothing(world: World) -> None:
    first = WebhookMessage("msg_same", "organization.created", {"id": "org_a", "name": "Acme"})
    assert await world.clerk.apply(first) is SyncOutcome.APPLIED
    replay = WebhookMessage("msg_same", "organization.updated", {"id": "org_a", "name": "Evil"})
    assert await world.clerk.apply(replay) is SyncOutcome.REPLAY
    assert (await world.tenant("org_a")).name == "Acme"


async def test_unknown_types_and_shapeless_payloads_are_ignored(world: World) -> None:
    assert (
        await world.clerk.apply(WebhookMessage("m1", "session.created", {"id": "sess"}))
        is SyncOutcome.IGNORED
    )
    assert (
        await world.clerk.apply(
            WebhookMessage("m2", "organizationMembership.created", {"role": "org:admin"})
        )
        is SyncOutcome.IGNORED
    )
    assert await world.tenant("org_a") is None


async def test_a_token_provisions_its_user_tenant_and_role_just_in_time(world: World) -> None:
    identity = await world.clerk.identity(
        ExternalIdentity("user_new", "sess_1", "org_new", "admin", "new-org")
    )
    assert (identity.user_id, identity.token_tenant, identity.token_role) == (
        "user_new",
        "org_new",
        Role.ADMIN,
    )
    assert (await world.tenant("org_new")).name == "new-org"
    assert (await world.membership("org_new", "user_new")).role is Role.ADMIN
    principal = await world.access.principal(identity, None)
    assert principal.tenant_id == "org_new" and principal.role is Role.ADMIN
    demoted = await world.clerk.identity(
        ExternalIdentity("user_new", "sess_2", "org_new", "org:member")
    )
    assert demoted.token_role is Role.MEMBER
    assert (await world.membership("org_new", "user_new")).role is Role.MEMBER


async def test_platform_admin_is_never_taken_from_clerk(world: World) -> None:
    event = user_event("created")
    event["data"]["public_metadata"] = {"platform_admin": True}
    await world.clerk.apply(WebhookMessage("m1", "user.created", event["data"]))
    assert (await world.user("user_ada")).platform_admin is False
