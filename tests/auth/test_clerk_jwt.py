from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Iterator

import jwt
import pytest

from adapters.auth.clerk_jwt import ClerkJwtConfig, ClerkJwtVerifier
from tests.auth.clerk_support import APP_ORIGIN, ISSUER, JwksServer, SigningKey, claims, mint


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return SigningKey("kid-1")


@pytest.fixture(scope="module")
def other_key() -> SigningKey:
    return SigningKey("kid-1")  # same kid, different key: a forged signature


@pytest.fixture
def jwks(key: SigningKey) -> Iterator[JwksServer]:
    with JwksServer([key]).running() as server:
        yield server


def verifier_for(server: JwksServer, **overrides: object) -> ClerkJwtVerifier:
    options: dict[str, object] = {
        "jwks_url": server.url,
        "issuer": ISSUER,
        "authorized_parties": (APP_ORIGIN,),
        "jwks_refetch_cooldown_seconds": 0.0,
        **overrides,
    }
    config = ClerkJwtConfig(**options)  # type: ignore[arg-type]
    return ClerkJwtVerifier(config)


def b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def test_a_v2_token_names_user_organization_and_role(
    jwks: JwksServer, key: SigningKey
) -> None:
    identity = await verifier_for(jwks).verify(mint(key, claims(role="org:admin")))
    assert identity is not None
    assert (identity.user_id, identity.org_id, identity.org_role, identity.session_id) == (
        "user_ada",
        "org_a",
        "admin",
        "sess_1",
    )
    assert identity.org_slug == "org_a-slug"


async def test_a_v1_token_uses_the_flat_org_claims(jwks: JwksServer, key: SigningKey) -> None:
    identity = await verifier_for(jwks).verify(mint(key, claims(version=1, role="org:member")))
    assert identity is not None
    assert (identity.org_id, identity.org_role) == ("org_a", "org:member")


async def test_a_token_without_organization_has_none(jwks: JwksServer, key: SigningKey) -> None:
    identity = await verifier_for(jwks).verify(mint(key, claims(org=None)))
    assert identity is not None and identity.org_id is None and identity.org_role is None


async def test_the_key_set_is_cached(jwks: JwksServer, key: SigningKey) -> None:
    verifier = verifier_for(jwks)
    for _ in range(3):
        assert await verifier.verify(mint(key, claims())) is not None
    assert jwks.fetches == 1


async def test_an_unknown_kid_refetches_the_key_set_once(jwks: JwksServer, key: SigningKey) -> None:
    verifier = verifier_for(jwks)
    assert await verifier.verify(mint(key, claims())) is not None
    rotated = SigningKey("kid-2")
    jwks.keys = [key, rotated]
    assert await verifier.verify(mint(rotated, claims())) is not None
    assert jwks.fetches == 2
    assert await verifier.verify(mint(rotated, claims())) is not None
    assert jwks.fetches == 2
    unknown = SigningKey("kid-unknown")
    assert await verifier.verify(mint(unknown, claims())) is None
    assert jwks.fetches == 3  # one re-fetch for the unknown kid, no more


async def test_unknown_kids_do_not_hammer_clerk_inside_the_cooldown(
    jwks: JwksServer, key: SigningKey
) -> None:
    verifier = verifier_for(jwks, jwks_refetch_cooldown_seconds=60.0)
    assert await verifier.verify(mint(key, claims())) is not None
    for n in range(5):
        assert await verifier.verify(mint(SigningKey(f"random-{n}"), claims())) is None
    assert jwks.fetches == 1


def forged_tokens(key: SigningKey, other_key: SigningKey) -> dict[str, str]:
    good = claims()
    header_none = b64({"alg": "none", "typ": "JWT", "kid": key.kid})
    hs256 = jwt.api_jws.PyJWS(algorithms=["HS256"])
    hs256._algorithms["HS256"].prepare_key = lambda k: k  # type: ignore[method-assign]
    hs_with_public_key = hs256.encode(
        json.dumps(good).encode(),
        key.public_pem.encode(),
        algorithm="HS256",
        headers={"kid": key.kid},
    )
    return {
        "alg none": f"{header_none}.{b64(good)}.",
        "HS256 signed with the public key": hs_with_public_key,
        "wrong signature": mint(other_key, good),
        "expired": mint(key, claims(exp=int(time.time()) - 30)),
        "not yet valid": mint(key, claims(nbf=int(time.time()) + 60)),
        "issued in the future": mint(key, claims(iat=int(time.time()) + 60)),
        "wrong azp": mint(key, claims(azp="https://evil.example")),
        "missing azp": mint(key, {k: v for k, v in good.items() if k != "azp"}),
        "wrong issuer": mint(key, claims(iss="https://evil.clerk.example")),
        "no exp": mint(key, {k: v for k, v in good.items() if k != "exp"}),
        "no sub": mint(key, {k: v for k, v in good.items() if k != "sub"}),
        "an audience": mint(key, claims(aud="another-service")),
        "tampered payload": (
            lambda t: ".".join(
                [t.split(".")[0], b64({**good, "sub": "user_root"}), t.split(".")[2]]
            )
        )(mint(key, good)),
        "garbage": "not.a.jwt",
        "empty": "",
        "oversized": "a." + "b" * 9000 + ".c",
    }


WHY_REFUSED = {
    "alg none": "algorithm is not RS256",
    "HS256 signed with the public key": "algorithm is not RS256",
    "wrong signature": "InvalidSignatureError",
    "expired": "ExpiredSignatureError",
    "not yet valid": "ImmatureSignatureError",
    "issued in the future": "ImmatureSignatureError",
    "wrong azp": "azp is not an authorized party",
    "missing azp": "azp is not an authorized party",
    "wrong issuer": "InvalidIssuerError",
    "no exp": "MissingRequiredClaimError",
    "no sub": "MissingRequiredClaimError",
    "an audience": "InvalidAudienceError",
    "tampered payload": "InvalidSignatureError",
    "garbage": "DecodeError",
    "empty": "not a JWT",
    "oversized": "not a JWT",
}


async def test_forged_expired_and_foreign_tokens_are_refused_without_detail(
    jwks: JwksServer, key: SigningKey, other_key: SigningKey, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="adapters.auth.clerk_jwt")
    verifier = verifier_for(jwks)
    tokens = forged_tokens(key, other_key)
    assert set(tokens) == set(WHY_REFUSED)
    for name, token in tokens.items():
        caplog.clear()
        assert await verifier.verify(token) is None, name
        logged = "\n".join(r.getMessage() for r in caplog.records)
        assert f"clerk token refused: {WHY_REFUSED[name]}" in logged, (name, logged)
        if len(token) > 20:
            assert token not in logged
            signature = token.split(".")[-1]
            assert len(signature) < 20 or signature not in logged


async def test_the_leeway_forgives_a_few_seconds_of_skew(jwks: JwksServer, key: SigningKey) -> None:
    verifier = verifier_for(jwks, leeway_seconds=5.0)
    now = int(time.time())
    assert await verifier.verify(mint(key, claims(exp=now - 2))) is not None
    assert await verifier.verify(mint(key, claims(nbf=now + 2))) is not None
    assert await verifier.verify(mint(key, claims(exp=now - 10))) is None


async def test_a_configured_pem_key_needs_no_network(
    key: SigningKey, other_key: SigningKey
) -> None:
    verifier = ClerkJwtVerifier(
        ClerkJwtConfig(
            pem_public_key=key.public_pem.replace("\n", "\\n"),
            issuer=ISSUER,
            authorized_parties=(APP_ORIGIN,),
        )
    )
    assert (await verifier.verify(mint(key, claims()))) is not None
    assert await verifier.verify(mint(other_key, claims())) is None
    assert await verifier.verify(mint(key, claims(azp="https://evil.example"))) is None


async def test_an_unreachable_jwks_refuses_rather_than_crashes(key: SigningKey) -> None:
    verifier = ClerkJwtVerifier(
        ClerkJwtConfig(jwks_url="http://127.0.0.1:9/jwks.json", jwks_timeout_seconds=1.0)
    )
    assert await verifier.verify(mint(key, claims())) is None


def test_clerk_needs_a_key_source() -> None:
    with pytest.raises(ValueError, match="CLERK_JWKS_URL or CLERK_PEM_PUBLIC_KEY"):
        ClerkJwtConfig(issuer=ISSUER)
