"""Proxies of the raw HTTP responses handed back before their body is read.

``with_streaming_response`` (and ``with_raw_response`` with ``stream=True``) give the
user the client library's response object with the body still on the wire, so usage
is unknown when the provider method returns. The call is recorded when the user
parses the body: from the parsed object's usage, or, for a stream, by tracking that
stream as any other. A response closed, or dropped, without being parsed is recorded
then, with estimated usage: its bytes went to the user unread by the SDK.
"""

from __future__ import annotations

import inspect
import weakref
from typing import Any, Callable

import wrapt

from .._log import logger
from .._usage import Usage, field
from ._call import Call, quietly
from ._streams import StreamObserver, StreamTracker, TrackedAsyncStream, TrackedStream


def is_raw_response(result: Any) -> bool:
    """True for the client libraries' raw response objects (APIResponse and its kin)."""
    return hasattr(result, "http_response") and callable(getattr(result, "parse", None))


def parses_now(response: Any) -> bool:
    """True when parse() can run inside the call: the body is read and parse() is sync."""
    read = getattr(response.http_response, "is_closed", False) is True
    return read and not inspect.iscoroutinefunction(response.parse)


class ResponseTracker:
    """Records the call behind one raw response, once, from what its parse() returned."""

    __slots__ = ("call", "normalise", "observer", "stream", "stream_tracker")

    def __init__(
        self,
        call: Call,
        normalise: Callable[[Any], Usage | None],
        observer: Callable[[], StreamObserver] | None,
    ) -> None:
        self.call = call
        self.normalise = normalise
        self.observer = observer
        self.stream: tuple[Any, Any] | None = None
        self.stream_tracker: StreamTracker | None = None

    def parsed(self, parsed: Any) -> Any:
        """Record from ``parsed``, or hand back a tracking proxy when it is a stream."""
        try:
            return self._parsed(parsed)
        except Exception:
            logger.debug("llmobserve: could not record a parsed response", exc_info=True)
            return parsed

    def _parsed(self, parsed: Any) -> Any:
        # parse() caches its result: the same stream must come back as the same proxy.
        if self.stream is not None and self.stream[0] is parsed:
            return self.stream[1]
        if self.call.done:
            return parsed
        if self.observer is not None and hasattr(parsed, "response"):
            tracker = StreamTracker(self.call, self.observer())
            is_async = hasattr(parsed, "__aiter__")
            proxy = (
                TrackedAsyncStream(parsed, tracker) if is_async else TrackedStream(parsed, tracker)
            )
            self.stream, self.stream_tracker = (parsed, proxy), tracker
            return proxy
        raw = field(parsed, "usage")
        if raw is not None:
            self.call.succeeded(self.normalise(raw), field(parsed, "model"))
        return parsed

    def closed(self) -> None:
        """The body is gone: record from the stream read so far, else an estimate."""
        if self.stream_tracker is not None:
            self.stream_tracker.finish()
        elif not self.call.done:
            quietly(lambda: self.call.succeeded(None, None))

    def dropped(self) -> None:
        """The response proxy was collected; a stream parsed from it records itself."""
        if self.stream_tracker is None and not self.call.done:
            quietly(lambda: self.call.succeeded(None, None))


class TrackedResponse(wrapt.ObjectProxy):  # type: ignore[type-arg, misc, unused-ignore]
    """Proxy of a raw response whose ``parse()`` is synchronous."""

    def __init__(self, wrapped: Any, tracker: ResponseTracker) -> None:
        super().__init__(wrapped)
        self._self_tracker = tracker
        weakref.finalize(self, tracker.dropped)

    def parse(self, *args: Any, **kwargs: Any) -> Any:
        return self._self_tracker.parsed(self.__wrapped__.parse(*args, **kwargs))

    def close(self) -> Any:
        try:
            return self.__wrapped__.close()
        finally:
            self._self_tracker.closed()


class TrackedAsyncResponse(wrapt.ObjectProxy):  # type: ignore[type-arg, misc, unused-ignore]
    """Proxy of a raw response whose ``parse()`` is a coroutine."""

    def __init__(self, wrapped: Any, tracker: ResponseTracker) -> None:
        super().__init__(wrapped)
        self._self_tracker = tracker
        weakref.finalize(self, tracker.dropped)

    async def parse(self, *args: Any, **kwargs: Any) -> Any:
        return self._self_tracker.parsed(await self.__wrapped__.parse(*args, **kwargs))

    async def close(self) -> Any:
        try:
            return await self.__wrapped__.close()
        finally:
            self._self_tracker.closed()


def track_response(
    response: Any,
    call: Call,
    normalise: Callable[[Any], Usage | None],
    observer: Callable[[], StreamObserver] | None,
) -> Any:
    """Wrap a raw response so that its call is recorded when it is read or closed."""
    tracker = ResponseTracker(call, normalise, observer)
    if inspect.iscoroutinefunction(response.parse):
        return TrackedAsyncResponse(response, tracker)
    return TrackedResponse(response, tracker)
