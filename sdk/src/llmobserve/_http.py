"""A small keep-alive HTTP/1.1 client over the standard library.

The SDK talks to one collector, so a persistent connection per thread is all the
pooling it needs, and the standard library keeps the SDK free of the HTTP stack the
user's own clients pin.
"""

from __future__ import annotations

import gzip
import http.client
import json
import os
import ssl
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

USER_AGENT = "llmobserve-python/0.1.0"
GZIP_THRESHOLD_BYTES = 1024


class TransportError(Exception):
    """The collector could not be reached or did not answer in time."""


@dataclass(frozen=True)
class HttpResponse:
    """Status, headers (lower-case names) and body of a collector answer."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        """Decode the body as JSON; None when it is empty or not JSON."""
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None


class CollectorEndpoint:
    """Where the collector is and how to authenticate, validated once."""

    def __init__(self, base_url: str, api_key: str) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"collector_url must be an http(s) URL, got {base_url!r}")
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port
        self.path_prefix = parts.path.rstrip("/")
        self.headers = {
            "Authorization": f"Bearer {api_key}",
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
        }


class HttpClient:
    """Sends JSON requests to the collector on one persistent connection per thread."""

    def __init__(self, endpoint: CollectorEndpoint, timeout: float) -> None:
        self._endpoint = endpoint
        self._timeout = timeout
        self._local = threading.local()
        self._pid = os.getpid()

    def _connection(self) -> http.client.HTTPConnection:
        if self._pid != os.getpid():
            # A forked child inherits the parent's socket: sharing it would mix up
            # both processes' requests, so the child opens its own.
            self._local = threading.local()
            self._pid = os.getpid()
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is None:
            ep = self._endpoint
            if ep.scheme == "https":
                conn = http.client.HTTPSConnection(
                    ep.host, ep.port, timeout=self._timeout, context=ssl.create_default_context()
                )
            else:
                conn = http.client.HTTPConnection(ep.host, ep.port, timeout=self._timeout)
            self._local.conn = conn
        return conn

    def close(self) -> None:
        """Close this thread's connection; the next request opens a new one."""
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            conn.close()

    def request(
        self, method: str, path: str, payload: Any = None, *, json_body: bytes | None = None
    ) -> HttpResponse:
        """Send one request and read the whole answer; raises TransportError on failure.

        A request on a kept-alive connection that the server has meanwhile closed is
        retried once on a fresh connection: that is not a collector failure.
        ``json_body`` is an already serialised payload.
        """
        body = json_body
        headers = dict(self._endpoint.headers)
        if body is None and payload is not None:
            body = json.dumps(payload, separators=(",", ":")).encode()
        if body is not None:
            headers["Content-Type"] = "application/json"
            if len(body) >= GZIP_THRESHOLD_BYTES:
                body = gzip.compress(body, compresslevel=5)
                headers["Content-Encoding"] = "gzip"
        url = self._endpoint.path_prefix + path
        for attempt in (1, 2):
            conn = self._connection()
            reused = conn.sock is not None
            try:
                conn.request(method, url, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                if attempt == 1 and reused and not isinstance(exc, TimeoutError):
                    continue
                raise TransportError(f"{type(exc).__name__}: {exc}") from exc
            if resp.will_close:
                self.close()
            return HttpResponse(
                status=resp.status,
                headers={k.lower(): v for k, v in resp.getheaders()},
                body=data,
            )
        raise TransportError("unreachable")  # pragma: no cover - the loop always returns
