"""Request bodies: at most 1 MiB on the wire, gzip accepted, decompressed size bounded.

The wire limit is counted on the bytes received, before decompression, as the
wire format says; a gzip body is inflated incrementally and refused as soon as
it passes the decompressed bound, so a gzip bomb costs at most that much memory.
Handlers downstream see a plain body with a truthful Content-Length.
"""

from __future__ import annotations

import zlib

from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPRequestEvent, Receive, ReceiveMessage, Scope, Send

from entrypoints.http.errors import ApiError, FieldError

MAX_WIRE_BODY = 1024 * 1024
MAX_DECOMPRESSED_BODY = 16 * 1024 * 1024
_IDENTITY = {b"", b"identity"}


def too_large(what: str, limit: int) -> ApiError:
    return ApiError(
        413, f"{what} exceeds {limit} bytes", [FieldError("body", f"at most {limit} bytes")]
    )


def gunzip_bounded(data: bytes, limit: int) -> bytes:
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        raise ApiError(
            400, f"the body is not valid gzip: {exc}", [FieldError("body", "not valid gzip")]
        ) from exc
    if len(out) > limit:
        raise too_large("the decompressed body", limit)
    if not inflater.eof:
        raise ApiError(400, "the gzip body is truncated", [FieldError("body", "truncated gzip")])
    return out


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope.get("method") in (
            "GET",
            "HEAD",
            "OPTIONS",
            "DELETE",
        ):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        encoding = headers.get(b"content-encoding", b"").strip().lower()
        if encoding not in _IDENTITY and encoding != b"gzip":
            raise ApiError(
                415,
                f"Content-Encoding {encoding.decode(errors='replace')!r} is not "
                "supported; send gzip or nothing",
                [FieldError("content-encoding", "gzip or identity")],
            )
        announced = headers.get(b"content-length")
        if announced is not None and announced.isdigit() and int(announced) > MAX_WIRE_BODY:
            raise too_large("the request body", MAX_WIRE_BODY)
        body = await _read_bounded(receive, MAX_WIRE_BODY)
        if encoding == b"gzip":
            body = gunzip_bounded(body, MAX_DECOMPRESSED_BODY)
        scope["headers"] = [
            (name, value)
            for name, value in scope["headers"]
            if name not in (b"content-encoding", b"content-length")
        ] + [(b"content-length", str(len(body)).encode())]
        await self.app(scope, _replay(body, receive), send)


async def _read_bounded(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ApiError(400, "the client disconnected before sending the body")
        chunk: bytes = message.get("body", b"")  # type: ignore[assignment]
        size += len(chunk)
        if size > limit:
            raise too_large("the request body", limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> ReceiveMessage:
        nonlocal sent
        if not sent:
            sent = True
            request: HTTPRequestEvent = {"type": "http.request", "body": body, "more_body": False}
            return request
        return await receive()

    return replay
