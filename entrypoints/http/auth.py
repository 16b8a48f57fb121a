"""Who is calling: the one place a request's credentials become a `Principal`.

A credential is an API key (`Authorization: Bearer llmo_sk_...`), looked up by its
hash on every request so that a revoked key fails at once in every process, and rate
limited per key; or a person: a Clerk session token (`Authorization: Bearer <JWT>` or
the `__session` cookie) or a local-account session (`llmo_session` cookie), see
`entrypoints.http.accounts.credentials`. The middleware puts the key's `Principal`, or
the `Person`, on the request; `provide_principal` turns a person into the `Principal`
of the tenant the request selects (`X-LLMObserve-Tenant`), checking CSRF for cookies.
Routes opt out with `opt={"exclude_from_auth": True}` (health, OpenAPI).
"""

from __future__ import annotations

import time
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.middleware.base import DefineMiddleware

from application.api_keys import ApiKeys
from domain.access import Principal
from domain.tenants import looks_like_api_key
from entrypoints.http.accounts.credentials import (
    PRINCIPAL_KEY,
    Person,
    authenticate_person,
    limit_key,
    principal_of,
)

TOUCH_EVERY_SECONDS = 60.0
UNAUTHORIZED_HEADERS = {"WWW-Authenticate": 'Bearer realm="llmobserve"'}


class KeyUseRecorder:
    """Writes a key's last-used time at most once a minute per process, not on every request."""

    def __init__(self, api_keys: ApiKeys) -> None:
        self._api_keys = api_keys
        self._last_touch: dict[str, float] = {}

    async def saw(self, principal: Principal) -> None:
        key_id = principal.api_key_id
        if key_id is None:
            return
        now = time.monotonic()
        if now - self._last_touch.get(key_id, float("-inf")) < TOUCH_EVERY_SECONDS:
            return
        self._last_touch[key_id] = now
        await self._api_keys.touch(principal.tenant_id, key_id)


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def resolve_principal(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | Person:
    container = connection.app.state.container
    token = bearer_token(connection)
    if token is None or not looks_like_api_key(token):
        person = await authenticate_person(connection)
        if person is not None:
            return person
    if token is None:
        raise NotAuthorizedException(
            "missing credentials: send Authorization: Bearer llmo_sk_...",
            headers=UNAUTHORIZED_HEADERS,
        )
    principal = await container.api_keys().authenticate(token)
    if principal is None:
        # Same answer for unknown, malformed and revoked keys: nothing that helps a guesser.
        raise NotAuthorizedException("invalid or revoked API key", headers=UNAUTHORIZED_HEADERS)
    await limit_key(connection, principal)
    await connection.app.state.key_use.saw(principal)
    return principal


class AuthenticationMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        principal = await resolve_principal(connection)
        return AuthenticationResult(user=principal, auth=principal)


def authentication_middleware() -> DefineMiddleware:
    return DefineMiddleware(AuthenticationMiddleware, exclude=["^/schema"])


async def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    """The handler-side bridge: the key's principal, or the person's in the selected tenant."""
    caller = request.scope.get("user")
    if isinstance(caller, Principal):
        return caller
    if isinstance(caller, Person):
        cached = request.state.get(PRINCIPAL_KEY)
        if isinstance(cached, Principal):
            return cached
        principal = await principal_of(request, caller)
        request.state[PRINCIPAL_KEY] = principal
        return principal
    raise NotAuthorizedException("missing credentials", headers=UNAUTHORIZED_HEADERS)
