"""Tenants on the pages: the switcher, invitations, leaving, the platform admin's list."""

from __future__ import annotations

from tests.dashboard.conftest import PASSWORD, Browser, Browsers, event


async def test_a_person_in_two_tenants_switches_between_them(
    owner: Browser, browsers: Browsers
) -> None:
    other = await browsers.sign_up("founder@beta.test", "Beta")
    await other.events(event(customer_id="cus_beta"))
    await owner.events(event(customer_id="cus_acme"))
    acme_id = (await browsers.principal("owner@acme.test")).tenant_id
    await browsers.invite_existing(other, owner, "viewer")  # joining selects the new tenant

    in_beta = await owner.get("/customers")
    switched = await owner.post("/switch-tenant", {"tenant_id": acme_id, "next": "/customers"})
    in_acme = await owner.get("/customers")

    assert 'id="tenant-switch"' in in_beta.text
    assert "cus_beta" in in_beta.text
    assert "cus_acme" not in in_beta.text
    assert switched.status_code == 303
    assert switched.headers["location"] == "/customers"
    assert "cus_acme" in in_acme.text
    assert "cus_beta" not in in_acme.text
    assert (await owner.get("/caps/new")).status_code == 200  # the owner of Acme


async def test_switching_to_a_tenant_of_someone_else_is_not_found(
    owner: Browser, browsers: Browsers
) -> None:
    stranger = await browsers.sign_up("stranger@other.test", "Other")
    other_id = (await browsers.principal("stranger@other.test")).tenant_id

    response = await owner.post("/switch-tenant", {"tenant_id": other_id, "next": "/"})

    assert response.status_code == 404
    assert "llmo_tenant" not in response.headers.get("set-cookie", "")
    assert (await stranger.get("/")).status_code == 200


async def test_a_forged_tenant_cookie_falls_back_to_the_persons_own_tenant(
    owner: Browser, browsers: Browsers
) -> None:
    await browsers.sign_up("stranger@other.test", "Other")
    await owner.events(event(customer_id="cus_acme"))
    other_id = (await browsers.principal("stranger@other.test")).tenant_id
    owner.cookies.set("llmo_tenant", other_id)

    page = await owner.get("/")

    assert page.status_code == 200
    assert "Acme" in page.text
    assert "cus_acme" in page.text


async def test_an_existing_person_accepts_an_invitation(owner: Browser, browsers: Browsers) -> None:
    other = await browsers.sign_up("founder@beta.test", "Beta")
    token = await browsers.invitation(other, "owner@acme.test", "member")

    landing = await owner.get(f"/invitation?token={token}")
    accepted = await owner.form("/invitation", {"token": token}, token_from="/profile")
    wrong = await owner.form("/invitation", {"token": "forged"}, token_from="/profile")

    assert "Accept invitation" in landing.text
    assert accepted.status_code == 303
    assert "Beta" in (await owner.get("/profile")).text
    assert wrong.status_code == 404


async def test_leaving_the_only_tenant_leads_to_creating_one(
    owner: Browser, browsers: Browsers
) -> None:
    member = await browsers.invite(owner, "member@acme.test", "member")
    member_id = await browsers.user_id("member@acme.test")

    left = await member.post(f"/team/members/{member_id}/remove", {})
    home = await member.get("/")
    welcome = await member.get("/welcome")
    bad = await member.form("/team/new", {"name": "", "first": "1"}, token_from="/welcome")
    created = await member.form("/team/new", {"name": "Member Co"}, token_from="/welcome")

    assert left.status_code == 303
    assert home.status_code == 303
    assert home.headers["location"] == "/welcome"
    assert "Create your team" in welcome.text
    assert bad.status_code == 422
    assert "Must not be empty." in bad.text
    assert created.status_code == 303
    assert "Member Co" in (await member.get("/")).text


async def test_an_owner_removes_a_member_and_withdraws_an_invitation(
    owner: Browser, browsers: Browsers
) -> None:
    member = await browsers.invite(owner, "member@acme.test", "member")
    await owner.post("/team/invite", {"email": "later@acme.test", "role": "viewer"})
    team = await owner.get("/team")
    invitation_id = team.text.split("/team/invitations/", 1)[1].split("/", 1)[0]

    removed = await owner.post(
        f"/team/members/{await browsers.user_id('member@acme.test')}/remove", {}
    )
    withdrawn = await owner.post(f"/team/invitations/{invitation_id}/revoke", {})

    assert removed.status_code == 303
    assert (await member.get("/")).headers["location"] == "/welcome"
    assert withdrawn.status_code == 303
    assert "later@acme.test" not in (await owner.get("/team")).text


async def test_tenant_settings_validate_and_save(owner: Browser) -> None:
    bad = await owner.post("/team/settings", {"name": "Acme", "default_timezone": "Nowhere/City"})
    good = await owner.post(
        "/team/settings", {"name": "Acme Labs", "default_timezone": "Europe/Paris"}
    )

    assert bad.status_code == 422
    assert "IANA time zone" in bad.text
    assert good.status_code == 303
    assert "Acme Labs" in (await owner.get("/team")).text


async def test_all_tenants_is_for_the_platform_admin_only(
    owner: Browser, browsers: Browsers
) -> None:
    await browsers.sign_up("stranger@other.test", "Other Inc")
    other_id = (await browsers.principal("stranger@other.test")).tenant_id

    assert (await owner.get("/admin/tenants")).status_code == 404
    await browsers.make_platform_admin(owner)
    listing = await owner.get("/admin/tenants")
    opened = await owner.post("/switch-tenant", {"tenant_id": other_id, "next": "/"})

    assert listing.status_code == 200
    assert "Other Inc" in listing.text
    assert opened.status_code == 303
    assert "Other Inc" in (await owner.get("/team")).text


async def test_the_profile_lists_tenants_and_roles(owner: Browser, browsers: Browsers) -> None:
    other = await browsers.sign_up("founder@beta.test", "Beta")
    await browsers.invite_existing(other, owner, "viewer")

    page = await owner.get("/profile")

    assert "owner@acme.test" in page.text
    assert page.text.count("badge badge-accent") >= 2
    assert "Beta" in page.text


async def test_a_password_change_checks_the_current_one_and_keeps_this_session(
    owner: Browser, browsers: Browsers
) -> None:
    other_browser = await browsers.new()
    await other_browser.form(
        "/sign-in", {"email": owner.email, "password": PASSWORD}, token_from="/sign-in"
    )
    new = "a brand new passphrase"

    wrong = await owner.post("/profile/password", {"current": "nope", "new": new, "again": new})
    differ = await owner.post(
        "/profile/password", {"current": PASSWORD, "new": new, "again": new + "!"}
    )
    changed = await owner.post("/profile/password", {"current": PASSWORD, "new": new, "again": new})

    assert wrong.status_code == 422
    assert 'id="current-error">That is not your current password.' in wrong.text
    assert 'id="again-error">The two new passwords differ.' in differ.text
    assert changed.status_code == 303
    assert (await owner.get("/")).status_code == 200  # this browser stays signed in
    assert (await other_browser.get("/")).status_code == 303  # the others are signed out
