from __future__ import annotations

import logging

import pytest

from application.accounts import RateLimited, SignUpClosed, Unauthenticated
from application.errors import Conflict, Invalid, NotFound
from domain.access import Role
from domain.accounts import digest
from domain.tenants import KeyKind, hash_api_key
from tests.auth.conftest import World

PASSWORD = "correct horse battery staple"


async def sign_up(world: World, email: str = "ada@example.com") -> object:
    return await world.accounts.sign_up(email, PASSWORD, "Ada Lovelace")


async def test_sign_up_makes_an_owner_of_a_new_tenant_with_an_ingest_key(world: World) -> None:
    done = await world.accounts.sign_up(" Ada@Example.com ", PASSWORD, "Ada", "Analytical")
    user = done.signed_in.user
    assert user.email == "ada@example.com"
    assert user.password_hash is not None and PASSWORD not in user.password_hash
    assert done.tenant is not None and done.tenant.name == "Analytical"
    async with world.accounts_uow() as uow:
        membership = await uow.memberships.get(done.tenant.id, user.id)
        session = await uow.sessions.by_token_hash(digest(done.signed_in.secret))
    assert membership is not None and membership.role is Role.OWNER
    assert session is not None and session.user_id == user.id
    assert done.api_key is not None and done.api_key.key.kind is KeyKind.INGEST
    principal = await world.api_keys.authenticate(done.api_key.secret)
    assert principal is not None and principal.tenant_id == done.tenant.id
    async with world.uow(done.tenant.id) as uow:
        stored = await uow.api_keys.get(done.tenant.id, done.api_key.key.id)
    assert stored is not None and stored.secret_hash == hash_api_key(done.api_key.secret)


async def test_a_second_account_for_the_same_email_is_refused(world: World) -> None:
    await sign_up(world)
    with pytest.raises(Conflict):
        await world.accounts.sign_up("ADA@example.com", PASSWORD)


@pytest.mark.parametrize(
    ("email", "password", "field"),
    [("not-an-email", PASSWORD, "email"), ("ada@example.com", "short", "password")],
)
async def test_bad_sign_up_input_names_the_field(
    world: World, email: str, password: str, field: str
) -> None:
    with pytest.raises(Invalid) as error:
        await world.accounts.sign_up(email, password)
    assert error.value.field == field
    async with world.accounts_uow() as uow:
        assert await uow.users.by_email("ada@example.com") is None


async def test_closed_sign_up_refuses_strangers(world: World) -> None:
    closed = type(world.accounts)(
        world.accounts_uow,
        world.accounts._hasher,
        world.ids,
        world.clock,
        world.mailbox,
        allow_sign_up=False,
    )
    with pytest.raises(SignUpClosed):
        await closed.sign_up("eve@example.com", PASSWORD)


async def test_sign_in_opens_a_session_read_back_by_its_secret(world: World) -> None:
    await sign_up(world)
    signed_in = await world.accounts.sign_in("ADA@example.com", PASSWORD, "10.0.0.1")
    found = await world.accounts.session_user(signed_in.secret)
    assert found is not None and found[0].email == "ada@example.com"
    assert await world.accounts.session_user(signed_in.secret + "x") is None
    assert await world.accounts.session_user("") is None


async def test_wrong_password_and_unknown_email_fail_alike(world: World) -> None:
    await sign_up(world)
    with pytest.raises(Unauthenticated) as wrong:
        await world.accounts.sign_in("ada@example.com", "wrong password!!")
    with pytest.raises(Unauthenticated) as unknown:
        await world.accounts.sign_in("bob@example.com", PASSWORD)
    with pytest.raises(Unauthenticated) as malformed:
        await world.accounts.sign_in("bob", PASSWORD)
    assert str(wrong.value) == str(unknown.value) == str(malformed.value)


async def test_repeated_failures_slow_sign_in_down_then_let_it_through(world: World) -> None:
    await sign_up(world)
    for _ in range(5):
        with pytest.raises(Unauthenticated):
            await world.accounts.sign_in("ada@example.com", "wrong password!!")
    with pytest.raises(RateLimited) as throttled:
        await world.accounts.sign_in("ada@example.com", PASSWORD)
    assert throttled.value.retry_after_seconds == 1.0
    world.clock.advance(seconds=1)
    with pytest.raises(Unauthenticated):
        await world.accounts.sign_in("ada@example.com", "wrong password!!")
    with pytest.raises(RateLimited) as longer:
        await world.accounts.sign_in("ada@example.com", PASSWORD)
    assert longer.value.retry_after_seconds == 2.0
    world.clock.advance(seconds=2)
    signed_in = await world.accounts.sign_in("ada@example.com", PASSWORD)
    assert signed_in.user.email == "ada@example.com"
    # success clears the count: a later typo costs nothing
    with pytest.raises(Unauthenticated):
        await world.accounts.sign_in("ada@example.com", "wrong password!!")
    await world.accounts.sign_in("ada@example.com", PASSWORD)


async def test_one_address_spraying_many_emails_is_blocked(world: World) -> None:
    await sign_up(world)
    for n in range(50):
        with pytest.raises(Unauthenticated):
            await world.accounts.sign_in(f"user{n}@example.com", "guess guess guess", "203.0.113.9")
    with pytest.raises(RateLimited):
        await world.accounts.sign_in("ada@example.com", PASSWORD, "203.0.113.9")
    ok = await world.accounts.sign_in("ada@example.com", PASSWORD, "198.51.100.1")
    assert ok.user.email == "ada@example.com"


async def test_sign_out_ends_the_session(world: World) -> None:
    done = await sign_up(world)
    secret = done.signed_in.secret
    await world.accounts.sign_out(secret)
    assert await world.accounts.session_user(secret) is None


async def test_sessions_expire(world: World) -> None:
    done = await sign_up(world)
    world.clock.advance(days=14)
    assert await world.accounts.session_user(done.signed_in.secret) is None


async def test_password_reset_is_mailed_single_use_and_ends_other_sessions(world: World) -> None:
    done = await sign_up(world)
    await world.accounts.request_password_reset("ada@example.com")
    assert len(world.mailbox.sent) == 1
    mail = world.mailbox.sent[0]
    assert mail.to == ("ada@example.com",) and "reset" in mail.subject.lower()
    token = world.mailbox.token_in_last("ada@example.com")
    assert "/reset-password?token=" in mail.text
    new_session = await world.accounts.reset_password(token, "a brand new passphrase")
    assert await world.accounts.session_user(done.signed_in.secret) is None
    assert await world.accounts.session_user(new_session.secret) is not None
    with pytest.raises(Unauthenticated):
        await world.accounts.reset_password(token, "yet another passphrase")
    with pytest.raises(Unauthenticated):
        await world.accounts.sign_in("ada@example.com", PASSWORD)
    await world.accounts.sign_in("ada@example.com", "a brand new passphrase")


async def test_reset_tokens_expire_and_cannot_sign_in_as_magic_links(world: World) -> None:
    await sign_up(world)
    await world.accounts.request_password_reset("ada@example.com")
    token = world.mailbox.token_in_last("ada@example.com")
    with pytest.raises(Unauthenticated):
        await world.accounts.sign_in_with_link(token)
    world.clock.advance(minutes=31)
    with pytest.raises(Unauthenticated):
        await world.accounts.reset_password(token, "a brand new passphrase")


async def test_reset_with_a_weak_password_keeps_the_old_one(world: World) -> None:
    await sign_up(world)
    await world.accounts.request_password_reset("ada@example.com")
    token = world.mailbox.token_in_last("ada@example.com")
    with pytest.raises(Invalid):
        await world.accounts.reset_password(token, "weak")
    await world.accounts.sign_in("ada@example.com", PASSWORD)


async def test_unknown_emails_get_no_mail_and_the_same_answer(world: World) -> None:
    await world.accounts.request_password_reset("nobody@example.com")
    await world.accounts.request_magic_link("nobody@example.com")
    assert world.mailbox.sent == []


async def test_mail_requests_per_email_are_capped(world: World) -> None:
    await sign_up(world)
    for _ in range(5):
        await world.accounts.request_magic_link("ada@example.com")
    assert len(world.mailbox.sent) == 3
    world.clock.advance(minutes=16)
    await world.accounts.request_magic_link("ada@example.com")
    assert len(world.mailbox.sent) == 4


async def test_magic_link_signs_in_once(world: World) -> None:
    await sign_up(world)
    await world.accounts.request_magic_link("Ada@example.com")
    token = world.mailbox.token_in_last("ada@example.com")
    assert "/sign-in/magic?token=" in world.mailbox.sent[-1].text
    signed_in = await world.accounts.sign_in_with_link(token)
    assert signed_in.user.email == "ada@example.com" and signed_in.user.email_verified
    with pytest.raises(Unauthenticated):
        await world.accounts.sign_in_with_link(token)
    with pytest.raises(Unauthenticated):
        await world.accounts.sign_in_with_link("")


async def test_magic_links_expire_after_15_minutes(world: World) -> None:
    await sign_up(world)
    await world.accounts.request_magic_link("ada@example.com")
    token = world.mailbox.token_in_last("ada@example.com")
    world.clock.advance(minutes=15)
    with pytest.raises(Unauthenticated):
        await world.accounts.sign_in_with_link(token)


async def test_no_secret_reaches_a_log_line(world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    done = await sign_up(world)
    with pytest.raises(Unauthenticated):
        await world.accounts.sign_in("ada@example.com", "wrong password!!")
    signed_in = await world.accounts.sign_in("ada@example.com", PASSWORD)
    await world.accounts.request_password_reset("ada@example.com")
    token = world.mailbox.token_in_last("ada@example.com")
    await world.accounts.reset_password(token, "a brand new passphrase")
    secrets = [
        PASSWORD,
        "wrong password!!",
        "a brand new passphrase",
        token,
        done.signed_in.secret,
        signed_in.secret,
        done.api_key.secret,
    ]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "sign-in refused" in logged
    for secret in secrets:
        assert secret not in logged


async def test_changing_the_password_keeps_only_the_callers_session(world: World) -> None:
    done = await sign_up(world)
    other = await world.accounts.sign_in("ada@example.com", PASSWORD)
    user_id = done.signed_in.user.id
    with pytest.raises(Unauthenticated):
        await world.accounts.change_password(user_id, "not my password", "a fresh passphrase")
    with pytest.raises(Invalid):
        await world.accounts.change_password(user_id, PASSWORD, "short")
    await world.accounts.change_password(
        user_id, PASSWORD, "a fresh passphrase", keep_session=done.signed_in.secret
    )
    assert await world.accounts.session_user(done.signed_in.secret) is not None
    assert await world.accounts.session_user(other.secret) is None
    with pytest.raises(Unauthenticated):
        await world.accounts.sign_in("ada@example.com", PASSWORD)
    await world.accounts.sign_in("ada@example.com", "a fresh passphrase")


async def test_platform_admin_is_granted_by_email_and_withdrawn(world: World) -> None:
    await sign_up(world)
    granted = await world.accounts.set_platform_admin("ADA@example.com")
    assert granted.platform_admin
    assert (await world.user(granted.id)).platform_admin
    withdrawn = await world.accounts.set_platform_admin("ada@example.com", granted=False)
    assert not (await world.user(withdrawn.id)).platform_admin
    with pytest.raises(NotFound):
        await world.accounts.set_platform_admin("nobody@example.com")


async def test_the_first_sign_up_of_an_installation_owns_the_default_tenant(world: World) -> None:
    from application.accounts import LocalAccounts
    from domain.tenants import DEFAULT_TENANT_ID

    # `serve` made the default tenant and a key before anyone signed up.
    await world.api_keys.issue(DEFAULT_TENANT_ID, "first key", KeyKind.MANAGEMENT)
    accounts = LocalAccounts(
        world.accounts_uow,
        world.accounts._hasher,
        world.ids,
        world.clock,
        world.mailbox,
        world.api_keys,
        first_user_claims_default=True,
    )
    first = await accounts.sign_up("ada@example.com", PASSWORD, "Ada")
    second = await accounts.sign_up("bob@example.com", PASSWORD, "Bob")
    assert first.tenant is not None and first.tenant.id == DEFAULT_TENANT_ID
    assert second.tenant is not None and second.tenant.id != DEFAULT_TENANT_ID
    async with world.accounts_uow(DEFAULT_TENANT_ID) as uow:
        owners = [m.user_id for m in await uow.memberships.of_tenant(DEFAULT_TENANT_ID)]
    assert owners == [first.signed_in.user.id]
