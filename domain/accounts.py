"""People and their ways in: users, memberships, invitations, sessions, one-time tokens.

Secrets (session cookies, reset and magic-link tokens, invitation tokens) never live
here: only their SHA-256 digests do, as for API keys.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.access import Role

MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 256
MAX_EMAIL_CHARS = 254
MAX_NAME_CHARS = 200

SESSION_LIFETIME = timedelta(days=14)
SESSION_RENEW_AFTER = timedelta(days=1)
INVITATION_LIFETIME = timedelta(days=7)

FREE_SIGN_IN_FAILURES = 5
SIGN_IN_FAILURE_WINDOW = timedelta(minutes=15)
MAX_SIGN_IN_DELAY = timedelta(minutes=15)


class InvalidAccount(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class TokenPurpose(enum.StrEnum):
    PASSWORD_RESET = "password_reset"  # noqa: S105 (a purpose, not a secret)
    MAGIC_LINK = "magic_link"


TOKEN_LIFETIMES: dict[TokenPurpose, timedelta] = {
    TokenPurpose.PASSWORD_RESET: timedelta(minutes=30),
    TokenPurpose.MAGIC_LINK: timedelta(minutes=15),
}


def digest(secret: str) -> str:
    """The stored form of a high-entropy secret: SHA-256 is enough against guessing."""
    return hashlib.sha256(secret.encode()).hexdigest()


def csrf_token_for(session_secret: str) -> str:
    """The double-submit token bound to one session: derived, so nothing more is stored."""
    return hmac.new(session_secret.encode(), b"llmobserve-csrf", hashlib.sha256).hexdigest()


def csrf_matches(session_secret: str, presented: str | None) -> bool:
    return presented is not None and hmac.compare_digest(csrf_token_for(session_secret), presented)


def normalize_email(raw: str) -> str:
    email = raw.strip().lower()
    local, at, domain = email.rpartition("@")
    if (
        not at
        or not local
        or "." not in domain
        or domain.startswith(".")
        or domain.endswith(".")
        or len(email) > MAX_EMAIL_CHARS
        or any(ch.isspace() or ord(ch) < 32 or ch in '<>,;"()[]\\' for ch in email)
        or "@" in local
    ):
        raise InvalidAccount("email", "must be an email address")
    return email


def check_password(password: str, email: str | None = None) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise InvalidAccount("password", f"must be at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise InvalidAccount("password", f"must be at most {MAX_PASSWORD_CHARS} characters")
    if email is not None and password.strip().lower() == email:
        raise InvalidAccount("password", "must not be the email address")


def clean_name(raw: str | None, field: str = "name") -> str:
    name = " ".join((raw or "").split())
    if len(name) > MAX_NAME_CHARS:
        raise InvalidAccount(field, f"must be at most {MAX_NAME_CHARS} characters")
    return name


@dataclass(frozen=True, slots=True)
class User:
    """A person. Local users carry a password hash; Clerk users carry Clerk's user id as id."""

    id: str
    email: str | None
    created_at: datetime
    name: str = ""
    password_hash: str | None = None
    email_verified: bool = False
    platform_admin: bool = False


@dataclass(frozen=True, slots=True)
class Membership:
    tenant_id: str
    user_id: str
    role: Role
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Invitation:
    id: str
    tenant_id: str
    email: str
    role: Role
    token_hash: str
    invited_by: str | None
    created_at: datetime
    expires_at: datetime
    accepted_at: datetime | None = None

    def open(self, now: datetime) -> bool:
        return self.accepted_at is None and now < self.expires_at


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in browser. The cookie holds the secret; the store holds its digest."""

    id: str
    user_id: str
    token_hash: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None

    def active(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at


@dataclass(frozen=True, slots=True)
class OneTimeToken:
    """A password-reset or magic-link token: single use, short-lived."""

    id: str
    user_id: str
    purpose: TokenPurpose
    token_hash: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None

    def usable(self, now: datetime, purpose: TokenPurpose) -> bool:
        return self.purpose is purpose and self.used_at is None and now < self.expires_at


ROLE_RANK: dict[Role, int] = {Role.VIEWER: 1, Role.MEMBER: 2, Role.ADMIN: 3, Role.OWNER: 4}


def may_set_role(actor: Role, current: Role | None, new: Role | None) -> bool:
    """Whether `actor` may move a member from `current` to `new` (None: absent/removed).

    Owners may do anything; admins manage everyone below owner and never grant owner;
    nobody else manages members.
    """
    if actor is Role.OWNER:
        return True
    if actor is Role.ADMIN:
        return current is not Role.OWNER and new is not Role.OWNER
    return False


def owners_left(memberships: list[Membership], changed_user: str, new: Role | None) -> int:
    """How many owners a tenant keeps after `changed_user` becomes `new` (None: removed)."""
    count = sum(1 for m in memberships if m.role is Role.OWNER and m.user_id != changed_user)
    return count + (1 if new is Role.OWNER else 0)


def sign_in_retry_at(recent_failures: list[datetime]) -> datetime | None:
    """When the next sign-in attempt may run, given the failures inside the window.

    The first few failures cost nothing; after them each failure doubles the wait,
    up to a ceiling, so guessing slows to a crawl while a typo costs a second.
    """
    extra = len(recent_failures) - FREE_SIGN_IN_FAILURES
    if extra < 0:
        return None
    delay = min(timedelta(seconds=2**extra), MAX_SIGN_IN_DELAY)
    return max(recent_failures) + delay
