from __future__ import annotations

import pytest

from application.accounts import Identity
from application.errors import Conflict, Forbidden, Invalid, NotFound
from application.tenants import TenantRequired
from domain.access import ROLE_PERMISSIONS, Permission, Principal, Role
from domain.accounts import Membership, User
from domain.tenants import KeyKind
from tests.auth.conftest import World
from tests.auth.fakes import START


async def person(world: World, user_id: str, email: str, admin: bool = False) -> Identity:
    user = User(user_id, email, START, user_id.title(), platform_admin=admin)
    async with world.accounts_uow() as uow:
        await uow.users.add(user)
        await uow.commit()
    return Identity.of(user)


async def join(world: World, tenant_id: str, user_id: str, role: Role) -> None:
    async with world.accounts_uow() as uow:
        await uow.memberships.save(Membership(tenant_id, user_id, role, START))
        await uow.commit()


@pytest.fixture
async def ada(world: World) -> Identity:
    return await person(world, "usr_ada", "ada@example.com")


async def test_creator_owns_the_new_tenant_and_sees_only_their_own(
    world: World, ada: Identity
) -> None:
    bob = await person(world, "usr_bob", "bob@example.com")
    mine = await world.tenants.create(ada, "Ada's team", "Europe/Paris")
    theirs = await world.tenants.create(bob, "Bob's team")
    assert mine.role is Role.OWNER and mine.tenant.default_timezone == "Europe/Paris"
    assert [v.tenant.id for v in await world.tenants.list(ada)] == [mine.tenant.id]
    assert [v.tenant.id for v in await world.tenants.list(bob)] == [theirs.tenant.id]


async def test_a_platform_admin_lists_every_tenant(world: World, ada: Identity) -> None:
    root = await person(world, "usr_root", "root@example.com", admin=True)
    await world.tenants.create(ada, "A")
    await world.tenants.create(ada, "B")
    listed = await world.tenants.list(root)
    assert sorted(v.tenant.name for v in listed) == ["A", "B"]
    assert all(v.role is None for v in listed)


@pytest.mark.parametrize(
    ("name", "zone", "field"),
    [
        ("", "UTC", "name"),
        ("   ", "UTC", "name"),
        ("x" * 201, "UTC", "name"),
        ("ok", "Mars/Olympus", "default_timezone"),
        ("ok", "../../etc/passwd", "default_timezone"),
    ],
)
async def test_bad_tenant_input_names_the_field(
    world: World, ada: Identity, name: str, zone: str, field: str
) -> None:
    with pytest.raises(Invalid) as error:
        await world.tenants.create(ada, name, zone)
    assert error.value.field == field


async def test_selection_takes_the_only_tenant_or_asks(world: World, ada: Identity) -> None:
    with pytest.raises(TenantRequired) as none:
        await world.access.principal(ada, None)
    assert none.value.choices == 0
    first = await world.tenants.create(ada, "first")
    principal = await world.access.principal(ada, None)
    assert principal.tenant_id == first.tenant.id and principal.role is Role.OWNER
    second = await world.tenants.create(ada, "second")
    with pytest.raises(TenantRequired) as two:
        await world.access.principal(ada, None)
    assert two.value.choices == 2
    chosen = await world.access.principal(ada, second.tenant.id)
    assert chosen.tenant_id == second.tenant.id


async def test_a_tenant_one_does_not_belong_to_does_not_exist(world: World, ada: Identity) -> None:
    bob = await person(world, "usr_bob", "bob@example.com")
    theirs = await world.tenants.create(bob, "Bob's team")
    with pytest.raises(NotFound):
        await world.access.principal(ada, theirs.tenant.id)
    with pytest.raises(NotFound):
        await world.access.principal(ada, "no-such-tenant")
    with pytest.raises(NotFound):
        await world.access.principal(ada, "x" * 5000)


async def test_a_platform_admin_acts_anywhere_but_only_in_tenants_that_exist(
    world: World, ada: Identity
) -> None:
    root = await person(world, "usr_root", "root@example.com", admin=True)
    tenant = (await world.tenants.create(ada, "A")).tenant
    principal = await world.access.principal(root, tenant.id)
    assert principal.platform_admin and principal.permissions == ROLE_PERMISSIONS[Role.OWNER]
    with pytest.raises(NotFound):
        await world.access.principal(root, "ghost")


async def test_token_role_applies_to_its_own_tenant_only(world: World, ada: Identity) -> None:
    other = (await world.tenants.create(ada, "mine")).tenant
    token_bound = Identity(ada.user_id, ada.email, ada.name, False, "org_x", Role.VIEWER)
    assert (await world.access.principal(token_bound, None)).role is Role.VIEWER
    assert (await world.access.principal(token_bound, other.id)).role is Role.OWNER


async def test_reading_and_changing_a_tenant(world: World, ada: Identity) -> None:
    tenant = (await world.tenants.create(ada, "A")).tenant
    owner = await world.access.principal(ada, tenant.id)
    updated = await world.tenants.update(
        owner, tenant.id, name="Renamed", default_timezone="Asia/Tokyo"
    )
    assert updated.tenant.name == "Renamed"
    assert (await world.tenants.get(owner, tenant.id)).tenant.default_timezone == "Asia/Tokyo"
    admin = Principal.for_member(tenant.id, "usr_x", Role.ADMIN)
    with pytest.raises(Forbidden):
        await world.tenants.update(admin, tenant.id, name="nope")
    with pytest.raises(NotFound):
        await world.tenants.get(owner, "another-tenant")
    ingest = Principal.for_key(tenant.id, "key_1", KeyKind.INGEST)
    with pytest.raises(NotFound):  # cannot read spend: the tenant is not even visible
        await world.tenants.get(ingest, tenant.id)


async def invite_and_accept(world: World, owner: Principal, who: Identity, role: Role) -> None:
    sent = await world.members.invite(owner, who.email or "", role)
    await world.members.accept(who, sent.token)


async def test_invitation_mail_joins_the_invited_person_once(world: World, ada: Identity) -> None:
    tenant = (await world.tenants.create(ada, "A")).tenant
    owner = await world.access.principal(ada, tenant.id)
    bob = await person(world, "usr_bob", "bob@example.com")
    eve = await person(world, "usr_eve", "eve@example.com")
    sent = await world.members.invite(owner, "Bob@Example.com", Role.MEMBER)
    assert world.mailbox.sent[-1].to == ("bob@example.com",)
    token = world.mailbox.token_in_last("bob@example.com")
    assert token == sent.token
    with pytest.raises(NotFound):
        await world.members.accept(eve, token)  # somebody else's invitation
    membership = await world.members.accept(bob, token)
    assert membership.role is Role.MEMBER and membership.tenant_id == tenant.id
    with pytest.raises(NotFound):
        await world.members.accept(bob, token)
    assert (await world.access.principal(bob, tenant.id)).role is Role.MEMBER


async def test_invitations_expire(world: World, ada: Identity) -> None:
    tenant = (await world.tenants.create(ada, "A")).tenant
    owner = await world.access.principal(ada, tenant.id)
    bob = await person(world, "usr_bob", "bob@example.com")
    sent = await world.members.invite(owner, "bob@example.com", Role.VIEWER)
    world.clock.advance(days=7, seconds=1)
    with pytest.raises(NotFound):
        await world.members.accept(bob, sent.token)


async def test_admins_never_grant_or_touch_owner(world: World, ada: Identity) -> None:
    tenant = (await world.tenants.create(ada, "A")).tenant
    owner = await world.access.principal(ada, tenant.id)
    bob = await person(world, "usr_bob", "bob@example.com")
    await invite_and_accept(world, owner, bob, Role.ADMIN)
    admin = await world.access.principal(bob, tenant.id)
    with pytest.raises(Invalid):
        await world.members.invite(admin, "carol@example.com", Role.OWNER)
    with pytest.raises(Invalid):
        await world.members.change_role(admin, ada.user_id, Role.VIEWER)
    with pytest.raises(Invalid):
        await world.members.remove(admin, ada.user_id)
    with pytest.raises(Invalid):
        await world.members.change_role(admin, bob.user_id, Role.OWNER)
    assert (await world.access.principal(ada, tenant.id)).role is Role.OWNER


async def test_members_and_viewers_manage_nobody(world: World, ada: Identity) -> None:
    tenant = (await world.tenants.create(ada, "A")).tenant
    owner = await world.access.principal(ada, tenant.id)
    bob = await person(world, "usr_bob", "bob@example.com")
    await invite_and_accept(world, owner, bob, Role.MEMBER)
    member = await world.access.principal(bob, tenant.id)
    with pytest.raises(Forbidden):
        await world.members.invite(member, "carol@example.com", Role.VIEWER)
    with pytest.raises(Forbidden):
        await world.members.change_role(member, bob.user_id, Role.ADMIN)
    with pytest.raises(Forbidden):
        await world.members.remove(member, ada.user_id)
    listed = await world.members.list(member)
    assert {(m.email, m.membership.role) for m in listed} == {
        ("ada@example.com", Role.OWNER),
        ("bob@example.com", Role.MEMBER),
    }


async def test_a_tenant_keeps_an_owner(world: World, ada: Identity) -> None:
    tenant = (await world.tenants.create(ada, "A")).tenant
    owner = await world.access.principal(ada, tenant.id)
    with pytest.raises(Conflict):
        await world.members.change_role(owner, ada.user_id, Role.ADMIN)
    with pytest.raises(Conflict):
        await world.members.remove(owner, ada.user_id)
    bob = await person(world, "usr_bob", "bob@example.com")
    await invite_and_accept(world, owner, bob, Role.OWNER)
    await world.members.remove(owner, ada.user_id)  # now ada may leave
    with pytest.raises(NotFound):
        await world.access.principal(ada, tenant.id)


async def test_anyone_may_leave(world: World, ada: Identity) -> None:
    tenant = (await world.tenants.create(ada, "A")).tenant
    owner = await world.access.principal(ada, tenant.id)
    bob = await person(world, "usr_bob", "bob@example.com")
    await invite_and_accept(world, owner, bob, Role.VIEWER)
    viewer = await world.access.principal(bob, tenant.id)
    await world.members.remove(viewer, bob.user_id)
    with pytest.raises(NotFound):
        await world.access.principal(bob, tenant.id)


async def test_members_of_another_tenant_are_not_found(world: World, ada: Identity) -> None:
    a = (await world.tenants.create(ada, "A")).tenant
    bob = await person(world, "usr_bob", "bob@example.com")
    await world.tenants.create(bob, "B")
    owner_a = await world.access.principal(ada, a.id)
    with pytest.raises(NotFound):
        await world.members.change_role(owner_a, bob.user_id, Role.VIEWER)
    with pytest.raises(NotFound):
        await world.members.remove(owner_a, bob.user_id)


async def test_child_tenants_need_management_of_the_parent(world: World, ada: Identity) -> None:
    platform = (await world.tenants.create(ada, "Platform")).tenant
    bob = await person(world, "usr_bob", "bob@example.com")
    owner = await world.access.principal(ada, platform.id)
    await invite_and_accept(world, owner, bob, Role.ADMIN)
    with pytest.raises(Forbidden):
        await world.tenants.create(bob, "Customer", parent_tenant_id=platform.id)
    eve = await person(world, "usr_eve", "eve@example.com")
    with pytest.raises(NotFound):
        await world.tenants.create(eve, "Customer", parent_tenant_id=platform.id)
    child = await world.tenants.create(ada, "Customer", parent_tenant_id=platform.id)
    assert child.parent_tenant_id == platform.id


async def test_platform_keys_report_for_their_children_and_nobody_else(
    world: World, ada: Identity
) -> None:
    platform = (await world.tenants.create(ada, "Platform")).tenant
    child = (await world.tenants.create(ada, "Customer", parent_tenant_id=platform.id)).tenant
    stranger = (await world.tenants.create(ada, "Unrelated")).tenant
    key = await world.api_keys.issue(platform.id, "sdk", KeyKind.INGEST)
    principal = await world.api_keys.authenticate(key.secret)
    assert principal is not None
    on_behalf = await world.on_behalf.principal_for(principal, child.id)
    assert on_behalf.tenant_id == child.id
    assert on_behalf.permissions == {Permission.INGEST}
    assert on_behalf.api_key_id == key.key.id
    assert await world.on_behalf.principal_for(principal, None) is principal
    with pytest.raises(NotFound):
        await world.on_behalf.principal_for(principal, stranger.id)
    with pytest.raises(NotFound):
        await world.on_behalf.principal_for(principal, "ghost")
    child_key = await world.api_keys.issue(child.id, "sdk", KeyKind.INGEST)
    child_principal = await world.api_keys.authenticate(child_key.secret)
    assert child_principal is not None
    with pytest.raises(NotFound):  # never upwards
        await world.on_behalf.principal_for(child_principal, platform.id)
    person_principal = await world.access.principal(ada, platform.id)
    with pytest.raises(NotFound):  # only keys report on behalf
        await world.on_behalf.principal_for(person_principal, child.id)


async def test_a_viewer_cannot_report(world: World, ada: Identity) -> None:
    viewer = Principal.for_member("t", "u", Role.VIEWER)
    with pytest.raises(Forbidden):
        await world.on_behalf.principal_for(viewer, None)
