"""Built-in local accounts: sign-up, sign-in, sessions, password reset, magic links."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from application.api_keys import ApiKeys, NewApiKey
from application.auth_ports import (
    AccountsUnitOfWork,
    AccountsUnitOfWorkFactory,
    DuplicateEmail,
    PasswordHasher,
)
from application.errors import ApplicationError, Conflict, Invalid, NotFound
from application.ports import Clock, IdGenerator, Mailer, OutgoingEmail
from domain.access import Role
from domain.accounts import (
    SESSION_LIFETIME,
    SIGN_IN_FAILURE_WINDOW,
    TOKEN_LIFETIMES,
    InvalidAccount,
    Invitation,
    Membership,
    OneTimeToken,
    Session,
    TokenPurpose,
    User,
    check_password,
    clean_name,
    csrf_token_for,
    digest,
    normalize_email,
    sign_in_retry_at,
)
from domain.tenants import DEFAULT_TENANT_ID, KeyKind, Tenant

log = logging.getLogger(__name__)

IP_FAILURES_BEFORE_BLOCK = 50
EMAILS_PER_WINDOW = 3


class Unauthenticated(ApplicationError):
    """Credentials missing or not good. Says nothing more, by design."""

    def __init__(self) -> None:
        super().__init__("authentication required")


class SignUpClosed(ApplicationError):
    def __init__(self) -> None:
        super().__init__("sign-up is closed on this installation; ask for an invitation")


class RateLimited(ApplicationError):
    def __init__(self, retry_after_seconds: float) -> None:
        super().__init__("too many requests")
        self.retry_after_seconds = max(1.0, retry_after_seconds)


@dataclass(frozen=True, slots=True)
class Identity:
    """A signed-in person, before a tenant is chosen for the request."""

    user_id: str
    email: str | None
    name: str
    platform_admin: bool
    token_tenant: str | None = None  # the tenant an identity-provider token is bound to
    token_role: Role | None = None

    @classmethod
    def of(cls, user: User) -> Identity:
        return cls(user.id, user.email, user.name, user.platform_admin)


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A fresh session: `secret` goes into the HttpOnly cookie, `csrf` into a readable one."""

    user: User
    session: Session
    secret: str

    @property
    def csrf(self) -> str:
        return csrf_token_for(self.secret)


@dataclass(frozen=True, slots=True)
class SignedUp:
    signed_in: SignedIn
    tenant: Tenant | None
    api_key: NewApiKey | None


@dataclass(frozen=True, slots=True)
class AccountLinks:
    """Where emailed links point: pages of the dashboard that post the token back."""

    public_url: str = "http://localhost:8000"
    reset_path: str = "/reset-password"
    magic_path: str = "/sign-in/magic"

    def link(self, path: str, token: str) -> str:
        return f"{self.public_url.rstrip('/')}{path}?token={token}"


def _invalid(error: InvalidAccount) -> Invalid:
    return Invalid(error.field, error.message)


class LocalAccounts:
    """Business rules:
    - emails are unique (case-insensitive); passwords are 10-256 characters, hashed with argon2;
    - a wrong email and a wrong password fail alike, in the same time, with no hint;
    - after 5 failures for an email in 15 minutes each further attempt waits twice as long
      (up to 15 minutes); 50 failures from one address block that address for the window;
    - a session secret, reset token or magic-link token is stored only as its SHA-256;
    - reset and magic-link tokens are single-use and short-lived; a reset ends every session;
    - asking for a reset or a link answers the same whether the email exists or not.
    """

    def __init__(
        self,
        uow_factory: AccountsUnitOfWorkFactory,
        hasher: PasswordHasher,
        ids: IdGenerator,
        clock: Clock,
        mailer: Mailer,
        api_keys: ApiKeys | None = None,
        links: AccountLinks | None = None,
        allow_sign_up: bool = True,
        first_user_claims_default: bool = False,
    ) -> None:
        self._uow_factory = uow_factory
        self._first_user_claims_default = first_user_claims_default
        self._hasher = hasher
        self._ids = ids
        self._clock = clock
        self._mailer = mailer
        self._api_keys = api_keys
        self._links = links or AccountLinks()
        self._allow_sign_up = allow_sign_up
        self._dummy_hash: str | None = None

    async def sign_up(
        self,
        email: str,
        password: str,
        name: str | None = None,
        tenant_name: str | None = None,
        invitation_token: str | None = None,
    ) -> SignedUp:
        """A new user, signed in. With an invitation for this email, the user joins that
        tenant; otherwise the user owns a new tenant and gets an ingest key, shown once."""
        if not self._allow_sign_up and not invitation_token:
            raise SignUpClosed()
        try:
            email = normalize_email(email)
            check_password(password, email)
            clean = clean_name(name)
            tenant_label = clean_name(tenant_name, "tenant_name") or (clean or email) + "'s team"
        except InvalidAccount as error:
            raise _invalid(error) from None
        now = self._clock.now()
        invitation = (
            await self._open_invitation(invitation_token, email) if invitation_token else None
        )
        password_hash = await asyncio.to_thread(self._hasher.hash, password)
        user = User(
            self._ids.new_id("usr"),
            email,
            now,
            clean,
            password_hash,
            email_verified=invitation is not None,  # the invitation proved the inbox
        )
        tenant: Tenant | None = None
        claims_default = invitation is None and await self._default_tenant_unclaimed()
        if claims_default:
            # The installation's own tenant: `serve`'s first key and `demo` already put
            # spend there, so the first person to sign up sees it at once.
            tenant = Tenant(DEFAULT_TENANT_ID, tenant_label[:200], now)
            tenant_id = tenant.id
        elif invitation is None:
            tenant = Tenant(self._ids.new_id("ten"), tenant_label[:200], now)
            tenant_id = tenant.id
        else:
            tenant_id = invitation.tenant_id
        # Bound to the tenant being joined: its rows pass row-level security.
        async with self._uow_factory(tenant_id) as uow:
            if await uow.users.by_email(email) is not None:
                raise Conflict("an account with this email exists; sign in instead")
            try:
                await uow.users.add(user)
            except DuplicateEmail:
                raise Conflict("an account with this email exists; sign in instead") from None
            if invitation is not None:
                await uow.memberships.save(Membership(tenant_id, user.id, invitation.role, now))
                await uow.invitations.save(replace(invitation, accepted_at=now))
            elif tenant is not None:
                existing = await uow.tenants.get(tenant.id) if claims_default else None
                if existing is None:
                    await uow.tenants.add(tenant)
                else:
                    tenant = existing
                await uow.memberships.save(Membership(tenant_id, user.id, Role.OWNER, now))
            signed_in = await self._open_session(uow, user)
            await uow.commit()
        log.info("local sign-up user=%s tenant=%s", user.id, tenant_id)
        key = None
        if self._api_keys is not None and tenant is not None:
            key = await self._api_keys.issue(tenant.id, "default ingest key", KeyKind.INGEST)
        return SignedUp(signed_in, tenant, key)

    async def _default_tenant_unclaimed(self) -> bool:
        if not self._first_user_claims_default:
            return False
        async with self._uow_factory(DEFAULT_TENANT_ID) as uow:
            return not await uow.memberships.of_tenant(DEFAULT_TENANT_ID)

    async def _open_invitation(self, token: str, email: str) -> Invitation:
        async with self._uow_factory(None) as uow:
            invitation = await uow.invitations.by_token_hash(digest(token))
        if (
            invitation is None
            or not invitation.open(self._clock.now())
            or invitation.email != email
        ):
            raise Invalid("invitation_token", "is unknown, used, expired or for another email")
        return invitation

    async def sign_in(self, email: str, password: str, client: str | None = None) -> SignedIn:
        try:
            email = normalize_email(email)
        except InvalidAccount:
            log.info("sign-in refused: malformed email")
            raise Unauthenticated() from None
        subjects = [f"email:{digest(email)}"] + ([f"ip:{client}"] if client else [])
        now = self._clock.now()
        await self._check_throttle(subjects, now)
        async with self._uow_factory(None) as uow:
            user = await uow.users.by_email(email)
        good = await self._verify(user, password)
        if user is None or not good:
            async with self._uow_factory(None) as uow:
                for subject in subjects:
                    await uow.sign_in_attempts.record(subject, now)
                await uow.commit()
            log.info("sign-in refused: bad credentials (email digest %s)", subjects[0][6:18])
            raise Unauthenticated()
        async with self._uow_factory(None) as uow:
            await uow.sign_in_attempts.clear(subjects[0])
            assert user.password_hash is not None
            if self._hasher.needs_rehash(user.password_hash):
                rehashed = await asyncio.to_thread(self._hasher.hash, password)
                user = replace(user, password_hash=rehashed)
                await uow.users.save(user)
            signed_in = await self._open_session(uow, user)
            await uow.commit()
        log.info("local sign-in user=%s", user.id)
        return signed_in

    async def _check_throttle(self, subjects: list[str], now: datetime) -> None:
        since = now - SIGN_IN_FAILURE_WINDOW
        async with self._uow_factory(None) as uow:
            by_email = await uow.sign_in_attempts.since(subjects[0], since)
            by_client = await uow.sign_in_attempts.since(subjects[1], since) if subjects[1:] else []
        waits = []
        retry_at = sign_in_retry_at(by_email)
        if retry_at is not None and retry_at > now:
            waits.append((retry_at - now).total_seconds())
        if len(by_client) >= IP_FAILURES_BEFORE_BLOCK:
            waits.append((min(by_client) + SIGN_IN_FAILURE_WINDOW - now).total_seconds())
        if waits:
            log.warning("sign-in throttled for %.0fs", max(waits))
            raise RateLimited(max(waits))

    async def _verify(self, user: User | None, password: str) -> bool:
        if user is None or user.password_hash is None:
            if self._dummy_hash is None:
                self._dummy_hash = await asyncio.to_thread(self._hasher.hash, "not a password!")
            await asyncio.to_thread(self._hasher.verify, self._dummy_hash, password)
            return False
        return await asyncio.to_thread(self._hasher.verify, user.password_hash, password)

    async def _open_session(self, uow: AccountsUnitOfWork, user: User) -> SignedIn:
        secret = self._ids.new_secret()
        now = self._clock.now()
        session = Session(
            self._ids.new_id("ses"), user.id, digest(secret), now, now + SESSION_LIFETIME
        )
        await uow.sessions.add(session)
        return SignedIn(user, session, secret)

    async def start_session(self, user_id: str) -> SignedIn:
        """A session for a user proven some other way (an accepted invitation, the CLI)."""
        async with self._uow_factory(None) as uow:
            user = await uow.users.get(user_id)
            if user is None:
                raise Unauthenticated()
            signed_in = await self._open_session(uow, user)
            await uow.commit()
        return signed_in

    async def session_user(self, secret: str) -> tuple[User, Session] | None:
        """The user behind a session cookie, read from the store on every request."""
        if not secret or len(secret) > 200:
            return None
        async with self._uow_factory(None) as uow:
            session = await uow.sessions.by_token_hash(digest(secret))
            if session is None or not session.active(self._clock.now()):
                return None
            user = await uow.users.get(session.user_id)
        return (user, session) if user is not None else None

    async def sign_out(self, secret: str) -> None:
        async with self._uow_factory(None) as uow:
            session = await uow.sessions.by_token_hash(digest(secret))
            if session is not None and session.revoked_at is None:
                await uow.sessions.save(replace(session, revoked_at=self._clock.now()))
                await uow.commit()

    async def request_password_reset(self, email: str) -> None:
        await self._send_token(email, TokenPurpose.PASSWORD_RESET)

    async def request_magic_link(self, email: str) -> None:
        await self._send_token(email, TokenPurpose.MAGIC_LINK)

    async def _send_token(self, raw_email: str, purpose: TokenPurpose) -> None:
        try:
            email = normalize_email(raw_email)
        except InvalidAccount as error:
            raise _invalid(error) from None
        now = self._clock.now()
        subject = f"mail:{digest(email)}"
        async with self._uow_factory(None) as uow:
            user = await uow.users.by_email(email)
            recent = await uow.sign_in_attempts.since(subject, now - SIGN_IN_FAILURE_WINDOW)
            if user is None or len(recent) >= EMAILS_PER_WINDOW:
                log.info("%s not sent (no account or too many requests)", purpose.value)
                return
            secret = self._ids.new_secret()
            token = OneTimeToken(
                self._ids.new_id("tok"),
                user.id,
                purpose,
                digest(secret),
                now,
                now + TOKEN_LIFETIMES[purpose],
            )
            await uow.tokens.add(token)
            await uow.sign_in_attempts.record(subject, now)
            await uow.commit()
        await self._mailer.send(self._token_email(email, purpose, secret))
        log.info("%s sent to user=%s", purpose.value, user.id)

    def _token_email(self, email: str, purpose: TokenPurpose, secret: str) -> OutgoingEmail:
        minutes = int(TOKEN_LIFETIMES[purpose] / timedelta(minutes=1))
        if purpose is TokenPurpose.PASSWORD_RESET:
            link = self._links.link(self._links.reset_path, secret)
            return OutgoingEmail(
                (email,),
                "Reset your LLMObserve password",
                f"Someone asked to reset the password of your LLMObserve account.\n\n"
                f"Choose a new password here (valid {minutes} minutes, once):\n{link}\n\n"
                f"If it was not you, ignore this email; your password stays as it is.\n",
            )
        link = self._links.link(self._links.magic_path, secret)
        return OutgoingEmail(
            (email,),
            "Your LLMObserve sign-in link",
            f"Sign in to LLMObserve with this link (valid {minutes} minutes, once):\n{link}\n\n"
            f"If you did not ask for it, ignore this email.\n",
        )

    async def reset_password(self, token: str, new_password: str) -> SignedIn:
        now = self._clock.now()
        async with self._uow_factory(None) as uow:
            found = await self._consume(uow, token, TokenPurpose.PASSWORD_RESET, now)
            if found is None:
                log.info("password reset refused: token unknown, used or expired")
                raise Unauthenticated()
            user = await uow.users.get(found.user_id)
            if user is None:
                raise Unauthenticated()
            try:
                check_password(new_password, user.email)
            except InvalidAccount as error:
                raise _invalid(error) from None
            password_hash = await asyncio.to_thread(self._hasher.hash, new_password)
            user = replace(user, password_hash=password_hash, email_verified=True)
            await uow.users.save(user)
            await uow.sessions.revoke_user(user.id, now)
            if user.email is not None:
                await uow.sign_in_attempts.clear(f"email:{digest(user.email)}")
            signed_in = await self._open_session(uow, user)
            await uow.commit()
        log.info("password reset user=%s", user.id)
        return signed_in

    @staticmethod
    async def _consume(
        uow: AccountsUnitOfWork, token: str, purpose: TokenPurpose, now: datetime
    ) -> OneTimeToken | None:
        if not token or len(token) > 200:
            return None
        return await uow.tokens.consume(digest(token), purpose, now)

    async def sign_in_with_link(self, token: str) -> SignedIn:
        now = self._clock.now()
        async with self._uow_factory(None) as uow:
            found = await self._consume(uow, token, TokenPurpose.MAGIC_LINK, now)
            if found is None:
                log.info("magic link refused: token unknown, used or expired")
                raise Unauthenticated()
            user = await uow.users.get(found.user_id)
            if user is None:
                raise Unauthenticated()
            if not user.email_verified:
                user = replace(user, email_verified=True)
                await uow.users.save(user)
            signed_in = await self._open_session(uow, user)
            await uow.commit()
        log.info("magic-link sign-in user=%s", user.id)
        return signed_in

    async def change_password(
        self, user_id: str, current: str, new: str, keep_session: str | None = None
    ) -> None:
        """Change a password knowing the current one. Other sessions end; the one whose
        secret is `keep_session` (the caller's) stays. Wrong guesses count as failed sign-ins."""
        now = self._clock.now()
        async with self._uow_factory(None) as uow:
            user = await uow.users.get(user_id)
        if user is None or user.email is None:
            raise Unauthenticated()
        subjects = [f"email:{digest(user.email)}"]
        await self._check_throttle(subjects, now)
        if not await self._verify(user, current):
            async with self._uow_factory(None) as uow:
                await uow.sign_in_attempts.record(subjects[0], now)
                await uow.commit()
            log.info("password change refused: wrong current password user=%s", user.id)
            raise Unauthenticated()
        try:
            check_password(new, user.email)
        except InvalidAccount as error:
            raise _invalid(error) from None
        password_hash = await asyncio.to_thread(self._hasher.hash, new)
        async with self._uow_factory(None) as uow:
            await uow.users.save(replace(user, password_hash=password_hash))
            kept = await uow.sessions.by_token_hash(digest(keep_session)) if keep_session else None
            await uow.sessions.revoke_user(user.id, now)
            if kept is not None and kept.user_id == user.id and kept.active(now):
                await uow.sessions.save(kept)  # the caller's own session stays signed in
            await uow.commit()
        log.info("password changed user=%s", user.id)

    async def set_platform_admin(self, email: str, granted: bool = True) -> User:
        """Grant or withdraw platform admin: the installation's operators (CLI only)."""
        try:
            email = normalize_email(email)
        except InvalidAccount as error:
            raise _invalid(error) from None
        async with self._uow_factory(None) as uow:
            user = await uow.users.by_email(email)
            if user is None:
                raise NotFound("user")
            user = replace(user, platform_admin=granted)
            await uow.users.save(user)
            await uow.commit()
        log.warning(
            "platform admin %s user=%s", "granted to" if granted else "withdrawn from", user.id
        )
        return user
