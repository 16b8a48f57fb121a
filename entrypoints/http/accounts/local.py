"""Local accounts as a JSON API under /auth: sign-up, sign-in, sign-out, password reset,
magic links, the CSRF token, and accepting an invitation.

Signing in sets two cookies: `llmo_session` (the secret; HttpOnly, SameSite=Lax, Secure
behind TLS) and `llmo_csrf` (readable by the page's script; its value goes back in the
`X-CSRF-Token` header, or the `csrf_token` form field, of every unsafe request).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import Cookie, State
from litestar.exceptions import NotFoundException
from litestar.params import JSONBody

from application.accounts import LocalAccounts, SignedIn, Unauthenticated
from application.tenants import ManageMembers
from domain.access import Role
from domain.accounts import SESSION_LIFETIME, csrf_token_for
from entrypoints.http.accounts.credentials import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    Person,
    check_csrf,
    check_csrf_token,
)
from entrypoints.http.accounts.schemas import (
    CsrfOut,
    EmailIn,
    MemberOut,
    MessageOut,
    NewKeyOut,
    NewPasswordIn,
    SessionOut,
    SignedUpOut,
    SignInIn,
    SignUpIn,
    TenantOut,
    TokenIn,
    membership_out,
    session_out,
    user_out,
)

PUBLIC = {"exclude_from_auth": True}
Req = Request[Any, Any, Any]


def secure_cookies(request: Req) -> bool:
    """Secure behind TLS: served over https, or behind a proxy that terminates it."""
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    dashboard = str(request.app.state.container.settings().dashboard_url)
    return request.url.scheme == "https" or forwarded == "https" or dashboard.startswith("https:")


def session_cookies(request: Req, signed_in: SignedIn) -> list[Cookie]:
    secure, max_age = secure_cookies(request), int(SESSION_LIFETIME.total_seconds())
    return [
        Cookie(
            key=SESSION_COOKIE,
            value=signed_in.secret,
            max_age=max_age,
            path="/",
            httponly=True,
            secure=secure,
            samesite="lax",
        ),
        Cookie(
            key=CSRF_COOKIE,
            value=signed_in.csrf,
            max_age=max_age,
            path="/",
            httponly=False,
            secure=secure,
            samesite="lax",
        ),
    ]


def cleared_cookies(request: Req) -> list[Cookie]:
    secure = secure_cookies(request)
    return [
        Cookie(
            key=name,
            value="",
            max_age=0,
            expires=0,
            path="/",
            httponly=name == SESSION_COOKIE,
            secure=secure,
            samesite="lax",
        )
        for name in (SESSION_COOKIE, CSRF_COOKIE)
    ]


def _accounts(state: State) -> LocalAccounts:
    if not state.container.settings().local_accounts:
        raise NotFoundException()  # local accounts are off: these routes do not exist
    accounts: LocalAccounts = state.container.local_accounts()
    return accounts


def _client(request: Req) -> str | None:
    return request.client.host if request.client else None


@post(
    "/auth/sign-up",
    tags=["auth"],
    summary="Create a local account (and its own tenant)",
    opt=PUBLIC,
    status_code=201,
)
async def sign_up(request: Req, state: State, data: JSONBody[SignUpIn]) -> Response[SignedUpOut]:
    done = await _accounts(state).sign_up(
        data.email, data.password, data.name, data.tenant_name, data.invitation_token
    )
    signed_in = done.signed_in
    tenant = None
    if done.tenant is not None:
        t = done.tenant
        tenant = TenantOut(t.id, t.name, t.default_timezone, t.created_at, Role.OWNER, None)
    key = done.api_key
    body = SignedUpOut(
        user_out(signed_in.user),
        signed_in.csrf,
        signed_in.session.expires_at,
        tenant,
        NewKeyOut(key.key.id, key.key.display_prefix, key.key.kind.value, key.secret)
        if key
        else None,
    )
    return Response(body, status_code=201, cookies=session_cookies(request, signed_in))


@post(
    "/auth/sign-in",
    tags=["auth"],
    summary="Sign in with email and password",
    opt=PUBLIC,
    status_code=200,
)
async def sign_in(request: Req, state: State, data: JSONBody[SignInIn]) -> Response[SessionOut]:
    signed_in = await _accounts(state).sign_in(data.email, data.password, _client(request))
    return Response(session_out(signed_in), cookies=session_cookies(request, signed_in))


@post("/auth/sign-out", tags=["auth"], summary="End this session", opt=PUBLIC, status_code=204)
async def sign_out(request: Req, state: State) -> Response[None]:
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        accounts = _accounts(state)
        if await accounts.session_user(secret) is not None:
            await check_csrf_token(request, secret)
            await accounts.sign_out(secret)
    return Response(None, status_code=204, cookies=cleared_cookies(request))


@post(
    "/auth/password-reset",
    tags=["auth"],
    summary="Email a password-reset link",
    opt=PUBLIC,
    status_code=202,
)
async def request_password_reset(state: State, data: JSONBody[EmailIn]) -> MessageOut:
    await _accounts(state).request_password_reset(data.email)
    return MessageOut("if an account has this email, a reset link is on its way")


@post(
    "/auth/password-reset/confirm",
    tags=["auth"],
    summary="Set a new password with a reset token",
    opt=PUBLIC,
    status_code=200,
)
async def confirm_password_reset(
    request: Req, state: State, data: JSONBody[NewPasswordIn]
) -> Response[SessionOut]:
    signed_in = await _accounts(state).reset_password(data.token, data.password)
    return Response(session_out(signed_in), cookies=session_cookies(request, signed_in))


@post(
    "/auth/magic-link",
    tags=["auth"],
    summary="Email a one-time sign-in link",
    opt=PUBLIC,
    status_code=202,
)
async def request_magic_link(state: State, data: JSONBody[EmailIn]) -> MessageOut:
    await _accounts(state).request_magic_link(data.email)
    return MessageOut("if an account has this email, a sign-in link is on its way")


@post(
    "/auth/magic-link/verify",
    tags=["auth"],
    summary="Sign in with a magic-link token",
    opt=PUBLIC,
    status_code=200,
)
async def verify_magic_link(
    request: Req, state: State, data: JSONBody[TokenIn]
) -> Response[SessionOut]:
    signed_in = await _accounts(state).sign_in_with_link(data.token)
    return Response(session_out(signed_in), cookies=session_cookies(request, signed_in))


def _person(request: Req) -> Person:
    person = request.scope.get("user")
    if not isinstance(person, Person):
        raise Unauthenticated()  # an API key is no person
    return person


@get("/auth/csrf", tags=["auth"], summary="The CSRF token of this session")
async def csrf_token(request: Req) -> CsrfOut:
    person = _person(request)
    if person.session_secret is None:
        raise NotFoundException("no local session")
    return CsrfOut(csrf_token_for(person.session_secret))


@post(
    "/auth/invitations/accept",
    tags=["auth"],
    summary="Join a tenant by invitation",
    status_code=200,
)
async def accept_invitation(request: Req, state: State, data: JSONBody[TokenIn]) -> MemberOut:
    person = _person(request)
    await check_csrf(request, person)
    members: ManageMembers = state.container.manage_members()
    return membership_out(await members.accept(person.identity, data.token))


ROUTES = [
    sign_up,
    sign_in,
    sign_out,
    request_password_reset,
    confirm_password_reset,
    request_magic_link,
    verify_magic_link,
    csrf_token,
    accept_invitation,
]
