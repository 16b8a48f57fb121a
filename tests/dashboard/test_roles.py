"""Pages respect the role matrix exactly as the API does: hidden controls, refused posts."""

from __future__ import annotations

import pytest

from domain.access import Principal
from tests.dashboard.conftest import MEMORY_ONLY, Browser, Browsers

CAP_FORM = {
    "name": "Monthly",
    "scope": "global",
    "period": "monthly",
    "limit": "100",
    "enforcement": "alert",
    "thresholds": "50, 80, 100",
    "timezone": "UTC",
    "enabled": "on",
}


@pytest.fixture
async def viewer(browsers: Browsers, owner: Browser) -> Browser:
    return await browsers.invite(owner, "viewer@acme.test", "viewer")


@pytest.fixture
async def member(browsers: Browsers, owner: Browser) -> Browser:
    return await browsers.invite(owner, "member@acme.test", "member")


@pytest.fixture
async def admin(browsers: Browsers, owner: Browser) -> Browser:
    return await browsers.invite(owner, "admin@acme.test", "admin")


async def test_a_viewer_sees_no_edit_controls(owner: Browser, viewer: Browser) -> None:
    await owner.post("/caps/new", CAP_FORM)

    caps = await viewer.get("/caps")
    team = await viewer.get("/team")
    overview = await viewer.get("/")

    assert caps.status_code == 200
    assert "Monthly" in caps.text
    assert 'href="/caps/new"' not in caps.text
    assert "/edit" not in caps.text
    assert 'action="/team/invite"' not in team.text
    assert 'action="/team/settings"' not in team.text
    assert "/role" not in team.text
    assert 'href="/keys"' not in overview.text  # no API keys in the navigation


@MEMORY_ONLY
@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/caps/new", CAP_FORM),
        ("/keys", {"name": "sneaky", "kind": "management"}),
        ("/team/invite", {"email": "friend@acme.test", "role": "owner"}),
        ("/team/settings", {"name": "Renamed", "default_timezone": "UTC"}),
    ],
)
async def test_a_viewer_posting_anyway_is_refused(
    viewer: Browser, path: str, data: dict[str, str]
) -> None:
    response = await viewer.post(path, data)

    assert response.status_code == 403
    assert "Not allowed" in response.text


async def test_a_viewer_cannot_edit_delete_or_revoke_an_existing_thing(
    owner: Browser, viewer: Browser, browsers: Browsers
) -> None:
    await owner.post("/caps/new", CAP_FORM)
    cap = (await browsers.container.manage_caps().list(await _owner_principal(browsers)))[0].cap
    keys_page = await owner.get("/keys")
    key_id = keys_page.text.split('data-key-id="', 1)[1].split('"', 1)[0]

    edit_form = await viewer.get(f"/caps/{cap.id}/edit")
    edit = await viewer.post(f"/caps/{cap.id}/edit", {**CAP_FORM, "limit": "1"})
    delete = await viewer.post(f"/caps/{cap.id}/delete", {})
    revoke = await viewer.post(f"/keys/{key_id}/revoke", {})

    assert [edit_form.status_code, edit.status_code, delete.status_code, revoke.status_code] == [
        403,
        403,
        403,
        403,
    ]
    assert (await owner.get("/caps")).text.count("Monthly") == 1
    assert "revoked" not in (await owner.get("/keys")).text


async def test_a_viewer_is_refused_the_keys_page(viewer: Browser) -> None:
    assert (await viewer.get("/keys")).status_code == 403


async def test_a_member_manages_caps_but_not_keys_or_people(member: Browser) -> None:
    created = await member.post("/caps/new", CAP_FORM)

    assert created.status_code == 303
    assert (await member.get("/keys")).status_code == 403
    assert (
        await member.post("/team/invite", {"email": "x@acme.test", "role": "viewer"})
    ).status_code == 403


async def test_an_admin_manages_keys_and_members_but_not_tenant_settings(admin: Browser) -> None:
    assert (await admin.get("/keys")).status_code == 200
    invited = await admin.post("/team/invite", {"email": "x@acme.test", "role": "viewer"})
    settings = await admin.post("/team/settings", {"name": "Renamed", "default_timezone": "UTC"})
    owner_grant = await admin.post("/team/invite", {"email": "y@acme.test", "role": "owner"})

    assert invited.status_code == 201
    assert settings.status_code == 403
    assert owner_grant.status_code == 422
    assert "may not grant owner" in owner_grant.text


async def test_roles_change_at_once(owner: Browser, viewer: Browser, browsers: Browsers) -> None:
    assert (await viewer.get("/caps/new")).status_code == 403
    user_id = await browsers.user_id("viewer@acme.test")

    changed = await owner.post(f"/team/members/{user_id}/role", {"role": "member"})

    assert changed.status_code == 303
    assert (await viewer.get("/caps/new")).status_code == 200


async def test_the_last_owner_cannot_leave(owner: Browser, browsers: Browsers) -> None:
    principal = await _owner_principal(browsers)

    response = await owner.post(f"/team/members/{principal.user_id}/remove", {})

    assert response.status_code == 422
    assert "at least one owner" in response.text


async def _owner_principal(browsers: Browsers) -> Principal:
    return await browsers.principal("owner@acme.test")
