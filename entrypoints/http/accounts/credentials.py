"""How a request names its caller, for `entrypoints.http.auth` (the one place that decides).

Credentials, in the order they are tried:
1. `Authorization: Bearer llmo_sk_...`: an API key, bound to its tenant, rate limited per key;
2. `Authorization: Bearer <JWT>` or the `__session` cookie: a Clerk session token;
3. the `llmo_session` cookie: a local-account session.
A person (2, 3) then acts in one tenant per request: the `X-LLMObserve-Tenant` header,
else the `llmo_tenant` cookie, else their token's organization, else their only tenant.
Cookie credentials are ambient, so unsafe methods also need the session's CSRF token
(the `X-CSRF-Token` header or the `csrf_token` form field): double-submit, bound to the
session. Failures are logged without the credential and answered with a bare 401.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from typing import Any, Literal

from litestar import Request
from litestar.connection import ASGIConnection

from application.accounts import Identity, LocalAccounts, RateLimited, Unauthenticated
from application.auth_ports import RateLimit, RateLimiter, SessionTokenVerifier
from application.clerk_sync import ClerkSync
from application.tenants import TENANT_HEADER, TenantAccess
from domain.access import Principal
from domain.accounts import csrf_matches
from domain.tenants import looks_like_api_key

log = logging.getLogger(__name__)

SESSION_COOKIE = "llmo_session"
CSRF_COOKIE = "llmo_csrf"
FORM_CSRF_COOKIE = "llmo_form_csrf"  # the dashboard's, for forms without a local session
TENANT_COOKIE = "llmo_tenant"
CLERK_COOKIE = "__session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PRINCIPAL_KEY = "llmobserve.principal"

Connection = ASGIConnection[Any, Any, Any, Any]


@dataclass(frozen=True, slots=True)
class Person:
    """A signed-in person, before the request's tenant is chosen."""

    identity: Identity
    via: Literal["session", "clerk"]
    from_cookie: bool
    session_secret: str | None = None  # local sessions: the CSRF token derives from it


def _container(connection: Connection) -> Any:
    return connection.app.state.container


def bearer(connection: Connection) -> str | None:
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _enforces_caps(path: str) -> bool:
    """A cap check, or the settle or release of its reservation: one per LLM call."""
    return path == "/v1/caps/check" or (
        path.startswith("/v1/reservations/") and path.endswith(("/settle", "/release"))
    )


async def limit_key(connection: Connection, principal: Principal) -> None:
    """Per-key token buckets: in process, or shared through Redis when it is configured.

    Cap enforcement has a bucket of its own: a hard-block app checks before every LLM
    call, and a check refused for the key's other traffic would refuse the call itself
    (fail-closed) or let it through unchecked (fail-open)."""
    if principal.api_key_id is None:
        return
    container = _container(connection)
    caps = _enforces_caps(connection.scope["path"])
    limit: RateLimit | None = (
        container.cap_check_rate_limit() if caps else container.key_rate_limit()
    )
    if limit is None:
        return
    limiter: RateLimiter = container.rate_limiter()
    bucket = f"key:{principal.api_key_id}:caps" if caps else f"key:{principal.api_key_id}"
    decision = await limiter.acquire(bucket, limit)
    if not decision.allowed:
        log.warning("rate limited key=%s", principal.api_key_id)
        raise RateLimited(decision.retry_after_seconds)


async def authenticate_person(connection: Connection) -> Person | None:
    """The person behind a Clerk token or a local session, or None when there is no such
    credential. A credential that is present but not good raises `Unauthenticated`."""
    container = _container(connection)
    token = bearer(connection)
    if token is not None and not looks_like_api_key(token):
        if token.count(".") != 2 or container.clerk_verifier() is None:
            return None  # not a JWT, or no Clerk here: the API-key check answers
        return await _clerk_person(connection, token, from_cookie=False)
    if token is not None:
        return None
    clerk_cookie = connection.cookies.get(CLERK_COOKIE)
    secret = connection.cookies.get(SESSION_COOKIE)
    local = bool(secret) and container.settings().local_accounts
    if clerk_cookie and container.clerk_verifier() is not None:
        try:
            return await _clerk_person(connection, clerk_cookie, from_cookie=True)
        except Unauthenticated:
            if not local:  # a stale Clerk cookie next to a local session: try the session
                raise
    if local and secret:
        accounts: LocalAccounts = container.local_accounts()
        found = await accounts.session_user(secret)
        if found is None:
            log.info("auth refused: unknown, ended or expired session on %s", connection.url.path)
            raise Unauthenticated()
        return Person(Identity.of(found[0]), "session", True, secret)
    return None


async def _clerk_person(connection: Connection, token: str, from_cookie: bool) -> Person:
    container = _container(connection)
    verifier: SessionTokenVerifier | None = container.clerk_verifier()
    external = await verifier.verify(token) if verifier is not None else None
    if external is None:
        log.info("auth refused: bearer token is neither an API key nor a good Clerk token")
        raise Unauthenticated()
    sync: ClerkSync = container.clerk_sync()
    return Person(await sync.identity(external), "clerk", from_cookie)


async def check_csrf(request: Request[Any, Any, Any], person: Person) -> None:
    if person.from_cookie:
        await check_csrf_token(request, person.session_secret)


async def check_csrf_token(request: Request[Any, Any, Any], session_secret: str | None) -> None:
    """Unsafe requests on cookie credentials carry the CSRF token: the one derived from the
    local session, or (a Clerk cookie) the value of a CSRF cookie of ours."""
    if request.method in SAFE_METHODS:
        return
    presented = request.headers.get(CSRF_HEADER)
    if presented is None and request.content_type[0] in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        value = (await request.form()).get(CSRF_FIELD)
        presented = value if isinstance(value, str) else None
    if session_secret is not None:
        good = csrf_matches(session_secret, presented)
    else:
        cookies = [request.cookies.get(CSRF_COOKIE), request.cookies.get(FORM_CSRF_COOKIE)]
        good = presented is not None and any(
            cookie and hmac.compare_digest(cookie, presented) for cookie in cookies
        )
    if not good:
        log.warning(
            "auth refused: missing or wrong CSRF token on %s %s", request.method, request.url.path
        )
        raise Unauthenticated()


def requested_tenant(connection: Connection) -> str | None:
    chosen = connection.headers.get(TENANT_HEADER) or connection.cookies.get(TENANT_COOKIE)
    return chosen.strip() or None if chosen else None


async def principal_of(
    request: Request[Any, Any, Any], person: Person, tenant_id: str | None = None
) -> Principal:
    """The person's principal in `tenant_id`, or in the tenant the request selects."""
    await check_csrf(request, person)
    access: TenantAccess = _container(request).tenant_access()
    return await access.principal(person.identity, tenant_id or requested_tenant(request))


async def identify_person(
    request: Request[Any, Any, Any],
) -> tuple[Identity, str | None] | None:
    """For the dashboard: the signed-in person (Clerk or local) and their local session
    secret (None for Clerk), or None when signed out or the credential is not good."""
    try:
        person = await authenticate_person(request)
    except Unauthenticated:
        return None
    return (person.identity, person.session_secret) if person else None
