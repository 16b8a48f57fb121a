"""Generic wrapt wrappers shared by every instrumented method.

A ``MethodSpec`` says what is provider-specific (which provider, how to read usage
from a response or a stream); the wrappers below hold the call lifecycle that is the
same everywhere: cap check, the call itself, recording, and error handling.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable

from .. import _runtime
from .._errors import LLMObserveError
from .._log import logger
from .._runtime import Runtime
from .._usage import Usage, field
from ._call import Call, quietly, start_call, start_call_async
from ._responses import is_raw_response, parses_now, track_response
from ._streams import StreamObserver, StreamTracker, TrackedAsyncStream, TrackedStream


@dataclass(frozen=True)
class MethodSpec:
    """What an instrumented method needs to know about its provider library."""

    operation: str
    provider_of: Callable[[Runtime, Any], str]
    #: Turns the response's ``usage`` block into normalised counts.
    normalise: Callable[[Any], Usage | None]
    observer: Callable[[bool], StreamObserver] | None = None
    #: Adjusts a streaming request (returns new kwargs and whether to hide an
    #: injected usage chunk); None leaves streaming requests as they are.
    prepare_stream: Callable[[Runtime, str, dict[str, Any]], tuple[dict[str, Any], bool]] | None = (
        None
    )


def _begin(
    spec: MethodSpec, runtime: Runtime, instance: Any, kwargs: dict[str, Any]
) -> tuple[str, dict[str, Any], bool, bool]:
    provider = spec.provider_of(runtime, instance)
    streaming = kwargs.get("stream") is True and spec.observer is not None
    hide = False
    if streaming and spec.prepare_stream is not None:
        kwargs, hide = spec.prepare_stream(runtime, provider, kwargs)
    return provider, kwargs, streaming, hide


def _finish(
    spec: MethodSpec, call: Call, result: Any, streaming: bool, hide: bool, is_async: bool
) -> Any:
    """Record a successful call, or wrap its stream so it records when it ends."""
    try:
        if streaming and spec.observer is not None and hasattr(result, "response"):
            tracker = StreamTracker(call, spec.observer(hide))
            return (
                TrackedAsyncStream(result, tracker) if is_async else TrackedStream(result, tracker)
            )
        raw_response = is_raw_response(result)
        if raw_response and not parses_now(result):
            observer = None if spec.observer is None else functools.partial(spec.observer, hide)
            return track_response(result, call, spec.normalise, observer)
        # A raw response read in full (`with_raw_response`): its parse() result is
        # cached, so reading it here costs the user nothing later.
        response = result.parse() if raw_response else result
        raw = field(response, "usage")
        model = field(response, "model")
        call.succeeded(None if raw is None else spec.normalise(raw), model)
    except Exception:
        logger.debug("llmobserve: could not record a call", exc_info=True)
    return result


def sync_wrapper(spec: MethodSpec) -> Callable[..., Any]:
    """A wrapt wrapper recording each call of a synchronous provider method."""

    def wrapper(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        runtime = _runtime.active()
        if runtime is None:
            return wrapped(*args, **kwargs)
        try:
            provider, kwargs, streaming, hide = _begin(spec, runtime, instance, kwargs)
            call = start_call(runtime, provider, kwargs.get("model"), spec.operation, kwargs)
        except LLMObserveError:
            raise
        except Exception:
            logger.debug("llmobserve: instrumentation skipped a call", exc_info=True)
            return wrapped(*args, **kwargs)
        try:
            result = wrapped(*args, **kwargs)
        except BaseException:
            quietly(call.failed)
            raise
        return _finish(spec, call, result, streaming, hide, is_async=False)

    return wrapper


def async_wrapper(spec: MethodSpec) -> Callable[..., Any]:
    """A wrapt wrapper recording each call of an asynchronous provider method."""

    async def wrapper(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        runtime = _runtime.active()
        if runtime is None:
            return await wrapped(*args, **kwargs)
        try:
            provider, kwargs, streaming, hide = _begin(spec, runtime, instance, kwargs)
            call = await start_call_async(
                runtime, provider, kwargs.get("model"), spec.operation, kwargs
            )
        except LLMObserveError:
            raise
        except Exception:
            logger.debug("llmobserve: instrumentation skipped a call", exc_info=True)
            return await wrapped(*args, **kwargs)
        try:
            result = await wrapped(*args, **kwargs)
        except BaseException:
            quietly(call.failed)
            raise
        return _finish(spec, call, result, streaming, hide, is_async=True)

    return wrapper
