"""Clerk session tokens: RS256 JWTs checked against Clerk's JWKS or a configured PEM key.

Refused, all alike (None, and a log line naming the reason but never the token):
another algorithm (`none`, HS256 signed with the public key, ...), a bad signature, an
unknown key id after one re-fetch of the key set, `exp` past or `nbf` ahead beyond the
leeway, another issuer, an `azp` outside the authorized parties, an `aud` at all.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import jwt
from jwt import PyJWKClient

from application.auth_ports import ExternalIdentity, SessionTokenVerifier

log = logging.getLogger(__name__)

ALGORITHM = "RS256"
MAX_TOKEN_CHARS = 8192


@dataclass(frozen=True, slots=True)
class ClerkJwtConfig:
    jwks_url: str | None = None
    pem_public_key: str | None = None
    issuer: str | None = None
    authorized_parties: tuple[str, ...] = ()
    leeway_seconds: float = 5.0
    jwks_lifespan_seconds: float = 300.0
    jwks_refetch_cooldown_seconds: float = 10.0
    jwks_timeout_seconds: float = 5.0
    required_claims: tuple[str, ...] = field(default=("exp", "iat", "sub"))

    def __post_init__(self) -> None:
        if not self.jwks_url and not self.pem_public_key:
            raise ValueError("Clerk needs CLERK_JWKS_URL or CLERK_PEM_PUBLIC_KEY")


def identity_from_claims(claims: Mapping[str, Any]) -> ExternalIdentity:
    """Clerk's v2 tokens nest the active organization under `o`; v1 tokens flatten it."""
    org_id = org_role = org_slug = None
    nested = claims.get("o")
    if isinstance(nested, dict):
        org_id, org_role, org_slug = nested.get("id"), nested.get("rol"), nested.get("slg")
    if org_id is None:
        org_id, org_role = claims.get("org_id"), claims.get("org_role")
        org_slug = claims.get("org_slug")

    def text(value: object) -> str | None:
        return value if isinstance(value, str) and value else None

    return ExternalIdentity(
        user_id=str(claims["sub"]),
        session_id=text(claims.get("sid")),
        org_id=text(org_id),
        org_role=text(org_role) if text(org_id) else None,
        org_slug=text(org_slug),
    )


class TokenRefused(Exception):
    pass


class ClerkJwtVerifier(SessionTokenVerifier):
    def __init__(self, config: ClerkJwtConfig, jwks_client: PyJWKClient | None = None) -> None:
        self._config = config
        self._pem = config.pem_public_key.replace("\\n", "\n") if config.pem_public_key else None
        self._jwks = jwks_client
        if self._jwks is None and config.jwks_url and not self._pem:
            self._jwks = PyJWKClient(
                config.jwks_url,
                cache_jwk_set=True,
                lifespan=config.jwks_lifespan_seconds,
                timeout=config.jwks_timeout_seconds,
                cooldown_duration=config.jwks_refetch_cooldown_seconds,
            )
        if not config.authorized_parties:
            log.warning("CLERK_AUTHORIZED_PARTIES is empty: the azp claim is not checked")

    async def verify(self, token: str) -> ExternalIdentity | None:
        try:
            claims = await self._decode(token)
            return identity_from_claims(claims)
        except TokenRefused as refused:
            log.info("clerk token refused: %s", refused)
        except jwt.PyJWTError as error:
            log.info("clerk token refused: %s", type(error).__name__)
        except (KeyError, TypeError, ValueError) as error:
            log.info("clerk token refused: malformed (%s)", type(error).__name__)
        return None

    async def _decode(self, token: str) -> dict[str, Any]:
        if not token or len(token) > MAX_TOKEN_CHARS or token.count(".") != 2:
            raise TokenRefused("not a JWT")
        header = jwt.get_unverified_header(token)
        if header.get("alg") != ALGORITHM:
            raise TokenRefused("algorithm is not RS256")
        key = await self._key_for(header.get("kid"))
        config = self._config
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            issuer=config.issuer,
            leeway=config.leeway_seconds,
            options={
                "require": list(config.required_claims) + (["iss"] if config.issuer else []),
                "verify_signature": True,
                "verify_exp": True,
                "verify_nbf": True,
                "verify_iat": True,
                "verify_iss": bool(config.issuer),
                "verify_aud": True,
            },
        )
        self._check_azp(claims)
        return claims

    def _check_azp(self, claims: Mapping[str, Any]) -> None:
        parties: Sequence[str] = self._config.authorized_parties
        if parties and claims.get("azp") not in parties:
            raise TokenRefused("azp is not an authorized party")

    async def _key_for(self, kid: object) -> Any:
        if self._pem is not None:
            return self._pem
        if not isinstance(kid, str) or not kid or self._jwks is None:
            raise TokenRefused("no key id")
        jwks = self._jwks
        try:
            signing_key = await asyncio.to_thread(jwks.get_signing_key, kid)
        except jwt.PyJWKClientError as error:
            raise TokenRefused(f"signing key not found ({type(error).__name__})") from None
        return signing_key.key
