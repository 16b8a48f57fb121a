"""A fake Clerk for tests: RSA keys made here, a JWKS served on loopback, minted tokens."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ISSUER = "https://clerk.example.test"
APP_ORIGIN = "https://app.example.test"


class SigningKey:
    def __init__(self, kid: str) -> None:
        self.kid = kid
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    @property
    def public_pem(self) -> str:
        return (
            self.private.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )

    def jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(self.private.public_key()))
        jwk.update(kid=self.kid, use="sig", alg="RS256")
        return jwk


def claims(
    sub: str = "user_ada",
    org: str | None = "org_a",
    role: str = "org:admin",
    version: int = 2,
    lifetime: int = 60,
    **extra: Any,
) -> dict[str, Any]:
    now = int(time.time())
    body: dict[str, Any] = {
        "sub": sub,
        "iss": ISSUER,
        "azp": APP_ORIGIN,
        "sid": "sess_1",
        "iat": now,
        "nbf": now - 5,
        "exp": now + lifetime,
    }
    if version == 2:
        body["v"] = 2
        if org:
            body["o"] = {"id": org, "rol": role.removeprefix("org:"), "slg": org + "-slug"}
    elif org:
        body.update(org_id=org, org_role=role, org_slug=org + "-slug")
    body.update(extra)
    return body


def mint(key: SigningKey, body: dict[str, Any], kid: str | None = None) -> str:
    return jwt.encode(body, key.private, algorithm="RS256", headers={"kid": kid or key.kid})


class JwksServer:
    """Serves whatever keys it holds now, and counts the fetches."""

    def __init__(self, keys: list[SigningKey]) -> None:
        self.keys = keys
        self.fetches = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.fetches += 1
                body = json.dumps({"keys": [k.jwk() for k in server.keys]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/.well-known/jwks.json"

    @contextmanager
    def running(self) -> Iterator[JwksServer]:
        thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._httpd.shutdown()
            self._httpd.server_close()
