"""Transparent proxies around provider streams that read usage as the chunks go by.

The user gets the library's own stream object back (``isinstance`` still holds) and
iterates it as before. The call is recorded once, when the stream ends: exhausted,
closed, left by a ``with`` block, broken out of, or garbage collected. A stream
abandoned half-way thus reports the usage the provider had sent so far, or an
estimate marked ``estimated`` when the provider sends usage only at the end.
"""

from __future__ import annotations

import weakref
from typing import Any

import wrapt

from .._estimate import prompt_tokens, tokens_for_chars
from .._usage import Usage
from ._call import Call, quietly


class StreamObserver:
    """Reads one provider's stream items; subclasses know the item shapes."""

    def __init__(self) -> None:
        self.usage: Usage | None = None
        self.model: str | None = None
        self.output_chars = 0

    def observe(self, item: Any) -> bool:
        """Take note of ``item``; False when the item must be hidden from the user."""
        return True


class StreamTracker:
    """Turns what an observer saw into exactly one recorded event."""

    __slots__ = ("call", "errored", "observer")

    def __init__(self, call: Call, observer: StreamObserver) -> None:
        self.call = call
        self.observer = observer
        self.errored = False

    def observe(self, item: Any) -> bool:
        """Pass ``item`` to the observer; a malformed item is shown, never fatal."""
        try:
            return self.observer.observe(item)
        except Exception:
            return True

    def finish(self) -> None:
        """Record the call, once, from whatever the stream said until now."""
        call = self.call
        if call.done:
            return
        quietly(self._record)

    def _record(self) -> None:
        observer, call = self.observer, self.call
        if observer.usage is not None:
            call.succeeded(observer.usage, observer.model)
        elif self.errored:
            call.failed()
        else:
            # The stream ended before the provider reported usage (OpenAI sends it
            # only in the last chunk): estimate from the prompt and the text seen.
            usage = Usage(
                input_tokens=prompt_tokens(call.kwargs),
                output_tokens=tokens_for_chars(observer.output_chars),
            )
            call.succeeded(usage, observer.model, estimated=True)


class TrackedStream(wrapt.ObjectProxy):  # type: ignore[type-arg, misc, unused-ignore]
    """Proxy of a synchronous provider stream."""

    def __init__(self, wrapped: Any, tracker: StreamTracker) -> None:
        super().__init__(wrapped)
        self._self_tracker = tracker
        weakref.finalize(self, tracker.finish)

    def __iter__(self) -> Any:
        tracker = self._self_tracker
        try:
            for item in self.__wrapped__:
                if tracker.observe(item):
                    yield item
        except Exception:
            tracker.errored = True
            raise
        finally:
            tracker.finish()

    def __next__(self) -> Any:
        tracker = self._self_tracker
        while True:
            try:
                item = next(self.__wrapped__)
            except StopIteration:
                tracker.finish()
                raise
            except Exception:
                tracker.errored = True
                tracker.finish()
                raise
            if tracker.observe(item):
                return item

    def __enter__(self) -> TrackedStream:
        self.__wrapped__.__enter__()
        return self

    def __exit__(self, *exc_info: Any) -> Any:
        try:
            return self.__wrapped__.__exit__(*exc_info)
        finally:
            self._self_tracker.finish()

    def close(self) -> Any:
        try:
            return self.__wrapped__.close()
        finally:
            self._self_tracker.finish()


class TrackedAsyncStream(wrapt.ObjectProxy):  # type: ignore[type-arg, misc, unused-ignore]
    """Proxy of an asynchronous provider stream."""

    def __init__(self, wrapped: Any, tracker: StreamTracker) -> None:
        super().__init__(wrapped)
        self._self_tracker = tracker
        weakref.finalize(self, tracker.finish)

    async def __aiter__(self) -> Any:
        tracker = self._self_tracker
        try:
            async for item in self.__wrapped__:
                if tracker.observe(item):
                    yield item
        except Exception:
            tracker.errored = True
            raise
        finally:
            tracker.finish()

    async def __anext__(self) -> Any:
        tracker = self._self_tracker
        while True:
            try:
                item = await self.__wrapped__.__anext__()
            except StopAsyncIteration:
                tracker.finish()
                raise
            except Exception:
                tracker.errored = True
                tracker.finish()
                raise
            if tracker.observe(item):
                return item

    async def __aenter__(self) -> TrackedAsyncStream:
        await self.__wrapped__.__aenter__()
        return self

    async def __aexit__(self, *exc_info: Any) -> Any:
        try:
            return await self.__wrapped__.__aexit__(*exc_info)
        finally:
            self._self_tracker.finish()

    async def close(self) -> Any:
        try:
            return await self.__wrapped__.close()
        finally:
            self._self_tracker.finish()
