"""Factories the composition root calls for the accounts side (entrypoints/container.py).

Kept here so that the container names providers in one line each and the choices
(which verifier, which limiter, which store) stay next to the code that uses them.
Nothing here runs at import time.
"""

from __future__ import annotations

import logging
from typing import Any

from adapters.auth.clerk_jwt import ClerkJwtConfig, ClerkJwtVerifier
from adapters.auth.memory import MemoryAccountsUnitOfWorkFactory
from adapters.auth.passwords import Argon2PasswordHasher
from adapters.auth.rate_limit import InProcessRateLimiter, RedisRateLimiter
from adapters.auth.svix_webhooks import SvixWebhookVerifier
from application.accounts import AccountLinks
from application.auth_ports import (
    AccountsUnitOfWorkFactory,
    RateLimit,
    RateLimiter,
    SessionTokenVerifier,
    WebhookVerifier,
)
from entrypoints.settings import Settings

log = logging.getLogger(__name__)


def memory_accounts_uow(uow_factory: Any) -> AccountsUnitOfWorkFactory:
    """In memory, tenants are shared with the main store (one tenants table, as in SQL)."""
    return MemoryAccountsUnitOfWorkFactory(tenants_store=uow_factory.store)


def sql_accounts_uow(engine: Any) -> AccountsUnitOfWorkFactory:
    from adapters.auth.sql_unit_of_work import SqlAccountsUnitOfWorkFactory

    return SqlAccountsUnitOfWorkFactory(engine)


def in_process_rate_limiter() -> RateLimiter:
    return InProcessRateLimiter()


def redis_rate_limiter(redis: Any) -> RateLimiter:
    return RedisRateLimiter(redis)


def password_hasher() -> Argon2PasswordHasher:
    return Argon2PasswordHasher()


def key_rate_limit(settings: Settings) -> RateLimit | None:
    if not settings.api_key_rate_per_second or not settings.api_key_rate_burst:
        return None  # 0 turns the per-key limit off
    return RateLimit(settings.api_key_rate_burst, settings.api_key_rate_per_second)


def cap_check_rate_limit(settings: Settings) -> RateLimit | None:
    if not settings.cap_check_rate_per_second or not settings.cap_check_rate_burst:
        return None  # 0 turns it off
    return RateLimit(settings.cap_check_rate_burst, settings.cap_check_rate_per_second)


def clerk_verifier(settings: Settings) -> SessionTokenVerifier | None:
    pem = settings.clerk_jwt_key  # CLERK_JWT_KEY or CLERK_PEM_PUBLIC_KEY
    if not settings.clerk_jwks_url and not pem:
        return None
    if not settings.clerk_issuer:
        log.warning("CLERK_ISSUER is not set: Clerk tokens are accepted from any issuer")
    return ClerkJwtVerifier(
        ClerkJwtConfig(
            jwks_url=settings.clerk_jwks_url,
            pem_public_key=pem,
            issuer=settings.clerk_issuer,
            authorized_parties=settings.clerk_authorized_parties,
        )
    )


def webhook_verifier(settings: Settings) -> WebhookVerifier | None:
    if not settings.clerk_webhook_secret:
        return None
    return SvixWebhookVerifier(settings.clerk_webhook_secret)


def account_links(settings: Settings) -> AccountLinks:
    return AccountLinks(public_url=settings.dashboard_url)


def invitation_url(settings: Settings) -> str:
    return f"{settings.dashboard_url.rstrip('/')}/invitation"
